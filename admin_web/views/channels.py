"""Channels: connect a Telegram bot, a VK community, a Viber bot or a mailbox; check the
connection, choose the default scenario and who sees it, disable, delete. Secrets are
shown masked only."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin
from admin_web.keys import SETTINGS
from admin_web.render import flash, gettext_for, redirect, render
from crm import channels as channel_service
from crm.channel_settings import delete_channel, update_channel
from crm.config import TELEGRAM_API_BASE, Settings
from crm.errors import NotFound, ValidationFailed
from crm.i18n import N_
from crm.models import Channel, ChannelKind, Scenario, User
from crm.normalize import whole_number
from inbox.channels.email_providers import detect
from inbox.connect import check_channel, connect, needs_public_url, webhook_url
from inbox.service import polling_mode

routes = web.RouteTableDef()

KIND_NAMES = {
    ChannelKind.TELEGRAM: N_("Telegram bot"),
    ChannelKind.VK: N_("VK community"),
    ChannelKind.VIBER: N_("Viber bot"),
    ChannelKind.EMAIL: N_("Mailbox"),
}
# kind: (secret fields, setting fields) as the form names them
FORM_FIELDS: dict[ChannelKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ChannelKind.TELEGRAM: (("token",), ()),
    ChannelKind.VK: (("token", "secret", "confirmation"), ("group_id",)),
    ChannelKind.VIBER: (("token",), ("sender_name",)),
    ChannelKind.EMAIL: (
        ("password",),
        ("address", "sender_name", "imap_host", "imap_port", "smtp_host", "smtp_port"),
    ),
}
DEFAULT_BASES = {
    ChannelKind.TELEGRAM: TELEGRAM_API_BASE,
    ChannelKind.VK: "https://api.vk.ru",
    ChannelKind.VIBER: "https://chatapi.viber.com",
}


def api_base(settings: Settings, kind: ChannelKind) -> str:
    """The platform address from the settings, when it is not the platform's own."""
    configured = {
        ChannelKind.TELEGRAM: settings.telegram_api_base,
        ChannelKind.VK: settings.vk_api_base,
        ChannelKind.VIBER: settings.viber_api_base,
    }.get(kind, "")
    return "" if configured in ("", DEFAULT_BASES.get(kind)) else configured


def _kind(request: web.Request) -> ChannelKind:
    try:
        return ChannelKind(request.match_info["kind"])
    except ValueError:
        raise NotFound() from None


async def _choices() -> dict[str, Any]:
    return {
        "scenarios": await Scenario.filter(is_active=True).order_by("name"),
        "people": await User.filter(is_active=True).order_by("full_name"),
    }


@routes.get("/channels")
async def channels_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    settings = request.app[SETTINGS]
    rows = await Channel.all().order_by("id").prefetch_related("visible_users")
    items = [
        {
            "channel": c,
            "secrets": channel_service.masked_credentials(c),
            "mode": "polling" if polling_mode(c, settings.public_url or "") else "webhook",
            "webhook": webhook_url(settings.public_url, c)
            if settings.public_url and c.kind == ChannelKind.VK
            else "",
            "visible_ids": [u.id for u in c.visible_users],
            "needs_public_url": needs_public_url(c, settings.public_url or ""),
        }
        for c in rows
    ]
    kinds = [(k.value, gettext_for(request, n)) for k, n in KIND_NAMES.items()]
    return await render(
        request, "channels.html", {"items": items, "kinds": kinds, **await _choices()}
    )


@routes.get("/channels/new/{kind}")
async def channel_form(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    kind = _kind(request)
    return await render(
        request,
        "channel_new.html",
        {
            "kind": kind.value,
            "title": gettext_for(request, KIND_NAMES[kind]),
            "public_url": request.app[SETTINGS].public_url or "",
            **await _choices(),
        },
    )


def _visibility(form: forms.Form) -> dict[str, Any]:
    return {
        "visibility": forms.text(form, "visibility", "all"),
        "responsible_id": forms.integer(form, "responsible_id", required=False),
        "visible_user_ids": forms.ids(form, "visible_user_ids"),
    }


@routes.post("/channels/new/{kind}")
async def channel_connect(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    kind = _kind(request)
    form = await request.post()
    secret_names, setting_names = FORM_FIELDS[kind]
    credentials = {name: forms.text(form, name) for name in secret_names}
    conf = {name: forms.text(form, name) for name in setting_names if forms.text(form, name)}
    if kind == ChannelKind.EMAIL:
        conf.update(_mail_servers(form))
    group_id = conf.get("group_id")
    if kind == ChannelKind.VK and group_id and whole_number(group_id, max_digits=12) is None:
        raise ValidationFailed.field("group_id", N_("Not a number"))
    settings = request.app[SETTINGS]
    done = await connect(
        kind=kind,
        name=forms.text(form, "name") or gettext_for(request, KIND_NAMES[kind]),
        credentials=credentials,
        settings=conf,
        api_base=api_base(settings, kind),
        default_scenario_id=forms.integer(form, "default_scenario_id", required=False),
        public_url=settings.public_url or "",
        actor=admin,
        **_visibility(form),
    )
    await flash(
        request,
        gettext_for(
            request,
            N_("Connected: {account}"),
            account=done.description or done.channel.name,
        ),
    )
    return redirect(f"/channels#channel-{done.channel.id}")


def _mail_servers(form: forms.Form) -> dict[str, Any]:
    """Manual IMAP/SMTP settings when given; otherwise the provider's are detected later
    from the address (and shown on the form by "Detect"). An empty security choice is
    told from the port or the provider (`inbox.channels.email_security`)."""
    servers: dict[str, Any] = {}
    for port in ("imap_port", "smtp_port"):
        if forms.text(form, port):
            servers[port] = forms.integer(form, port)
    for choice in ("imap_security", "smtp_security"):
        if value := forms.text(form, choice):
            servers[choice] = value
    return servers


def _security(ssl: bool, starttls: bool) -> str:
    return "tls" if ssl else ("starttls" if starttls else "none")


@routes.post("/channels/detect")
async def mail_detect(request: web.Request) -> web.StreamResponse:
    """The mail provider's IMAP and SMTP settings for an address, as JSON."""
    require_admin(request)
    form = await request.post()
    address = forms.text(form, "address")
    try:
        found = detect(address)
    except ValueError:
        raise ValidationFailed.field(
            "address", N_("Not an email address: {value}"), value=address
        ) from None
    return web.json_response(
        {
            "provider": found.provider,
            "guessed": found.guessed,
            "imap_host": found.imap_host,
            "imap_port": found.imap_port,
            "smtp_host": found.smtp_host,
            "smtp_port": found.smtp_port,
            "imap_security": _security(found.imap_ssl, False),
            "smtp_security": _security(found.smtp_ssl, found.smtp_starttls),
        }
    )


async def _channel(request: web.Request) -> Channel:
    return await channel_service.get_channel(forms.match_int(request.match_info["id"]))


@routes.post(r"/channels/{id:\d+}/check")
async def channel_check(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    channel = await _channel(request)
    description = await check_channel(channel.id, request.app[SETTINGS].public_url or "")
    await flash(
        request, gettext_for(request, N_("The connection works: {account}"), account=description)
    )
    return redirect(f"/channels#channel-{channel.id}")


@routes.post(r"/channels/{id:\d+}")
async def channel_edit(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    channel = await _channel(request)
    form = await request.post()
    await update_channel(
        channel.id,
        name=forms.text(form, "name"),
        default_scenario_id=forms.integer(form, "default_scenario_id", required=False),
        actor=admin,
        **_visibility(form),
    )
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(f"/channels#channel-{channel.id}")


@routes.post(r"/channels/{id:\d+}/active")
async def channel_active(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    channel = await _channel(request)
    form = await request.post()
    active = forms.flag(form, "active")
    await channel_service.set_active(channel.id, active, actor=admin)
    message = N_("Channel enabled") if active else N_("Channel disabled")
    await flash(request, gettext_for(request, message))
    return redirect(f"/channels#channel-{channel.id}")


@routes.post(r"/channels/{id:\d+}/delete")
async def channel_delete(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    channel = await _channel(request)
    await delete_channel(channel.id, actor=admin)
    await flash(request, gettext_for(request, N_("Channel deleted")))
    return redirect("/channels")

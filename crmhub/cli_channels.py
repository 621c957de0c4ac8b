"""The `crmhub channel`, `outbox` and `inbox` commands: customer channels connected,
listed and checked; outgoing messages retried and dead letters listed; unparsed events."""

from __future__ import annotations

import argparse

from crm import db, labels
from crm.config import Settings
from crm.i18n import N_, gettext
from crm.models import Visibility

VISIBILITY = {
    Visibility.ALL: N_("Everybody"),
    Visibility.USER: N_("One user"),
    Visibility.USERS: N_("These users"),
}


def _t(settings: Settings, message: str, **params: object) -> str:
    """`message` (marked with N_) in the installation's language (CRMHUB_DEFAULT_LOCALE)."""
    return gettext(message, settings.default_locale, **params)


async def user_id(settings: Settings, email: str | None) -> int | None:
    from crm.models import User

    if not email:
        return None
    user = await User.filter(email=email.strip().lower()).first()
    if user is None:
        raise SystemExit(_t(settings, N_("error: no user {email}"), email=email))
    return user.id


CHANNEL_FIELDS = {
    # kind: (credential options, setting options)
    "telegram": (("token",), ("mode",)),
    "vk": (("token", "secret", "confirmation"), ("group_id", "mode")),
    "viber": (("token",), ("sender_name", "sender_avatar")),
    "email": (
        ("password",),
        (
            "address",
            "sender_name",
            "imap_host",
            "imap_port",
            "imap_security",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "folder",
        ),
    ),
}
CHANNEL_CHOICES = {
    # tls from the first byte, starttls to upgrade, none only for a server on this machine;
    # unset: told from the port (993/465 tls, 143/587 starttls) or the mail provider
    "imap_security": ["tls", "starttls", "none"],
    "smtp_security": ["tls", "starttls", "none"],
    "mode": ["polling", "webhook"],
}


async def cmd_channel_add(settings: Settings, args: argparse.Namespace) -> int:
    from crm.scenarios import get_scenario
    from inbox.connect import connect

    secrets_, options = CHANNEL_FIELDS[args.kind]
    credentials = {k: getattr(args, k) for k in secrets_}
    conf = {k: getattr(args, k) for k in options if getattr(args, k, None) not in (None, "")}
    await db.migrate(settings.db_url())
    async with db.session(settings.db_url()):
        users = [await user_id(settings, e) for e in (args.users or "").split(",") if e.strip()]
        scenario = await get_scenario(args.scenario) if args.scenario else None
        done = await connect(
            kind=args.kind,
            name=args.name or args.kind,
            credentials=credentials,
            settings=conf,
            api_base=args.api_base or "",
            visibility=args.visibility,
            visible_user_ids=[u for u in users if u],
            responsible_id=await user_id(settings, args.responsible),
            default_scenario_id=scenario.id if scenario else None,
            public_url=settings.public_url or "",
            check=not args.no_check,
            actor=None,
        )
    channel = done.channel
    kind = labels.label(channel.kind, settings.default_locale)
    connected = N_("Channel #{id} connected: {kind} “{name}”")
    print(_t(settings, connected, id=channel.id, kind=kind, name=channel.name))
    if done.description:
        print("  " + _t(settings, N_("Account: {account}"), account=done.description))
    if done.webhook_url:
        print("  " + _t(settings, N_("Webhook: {url}"), url=done.webhook_url))
    elif args.kind == "vk" and settings.public_url:
        from inbox.connect import webhook_url

        url = webhook_url(settings.public_url, channel)
        enter = N_("Enter this Callback API address in the community: {url}")
        print("  " + _t(settings, enter, url=url))
    return 0


async def cmd_channel_list(settings: Settings, args: argparse.Namespace) -> int:
    from crm.channels import masked_credentials
    from crm.models import Channel
    from inbox.service import polling_mode

    async with db.session(settings.db_url()):
        rows = await Channel.all().order_by("id")
        locale = settings.default_locale
        for c in rows:
            mode = N_("polling") if polling_mode(c, settings.public_url or "") else N_("webhook")
            state = N_("active") if c.is_active else N_("disabled")
            shown = ", ".join(
                f"{labels.channel_field(k, locale)}: {labels.channel_value(k, v, locale)}"
                for k, v in masked_credentials(c).items()
            )
            print(
                f"#{c.id}\t{labels.label(c.kind, locale)}\t{c.name}\t{_t(settings, state)}\t"
                f"{_t(settings, mode)}\t{_t(settings, VISIBILITY[c.visibility])}\t{shown}"
            )
    if not rows:
        print(_t(settings, N_("No channels; add one with `crmhub channel add`")))
    return 0


async def cmd_channel_check(settings: Settings, args: argparse.Namespace) -> int:
    from inbox.connect import check_channel

    async with db.session(settings.db_url()):
        description = await check_channel(args.id, settings.public_url or "")
    print(_t(settings, N_("ok: {account}"), account=description))
    return 0


async def cmd_outbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    from inbox import outbox

    async with db.session(settings.db_url()):
        message = await outbox.retry(args.id)
    print(_t(settings, N_("Message #{id} queued again"), id=message.id))
    return 0


async def cmd_outbox_dead(settings: Settings, args: argparse.Namespace) -> int:
    from inbox import outbox

    async with db.session(settings.db_url()):
        rows = await outbox.dead_letters(args.limit)
    for m in rows:
        attempts = _t(settings, N_("attempts: {n}"), n=m.attempts)
        print(f"#{m.id}\t{attempts}\t{m.updated_at:%Y-%m-%d %H:%M}\t{m.last_error}")
    if not rows:
        print(_t(settings, N_("No dead letters")))
    return 0


async def cmd_inbox_unparsed(settings: Settings, args: argparse.Namespace) -> int:
    from crm.models import RawEvent, RawEventStatus

    async with db.session(settings.db_url()):
        rows = (
            await RawEvent.filter(status=RawEventStatus.UNPARSED).order_by("-id").limit(args.limit)
        )
    for r in rows:
        channel = _t(settings, N_("channel #{id}"), id=r.channel_id)  # type: ignore[attr-defined]
        print(f"#{r.id}\t{channel}\t{r.created_at:%Y-%m-%d %H:%M}\t{r.error}")
        print(f"  {r.body[:500]}")
    if not rows:
        print(_t(settings, N_("No unparsed events")))
    return 0


def channel_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    channel = sub.add_parser("channel", help="customer channels").add_subparsers(
        dest="channel_command", required=True
    )
    add = channel.add_parser("add", help="connect a channel").add_subparsers(
        dest="kind", required=True
    )
    for kind, (secrets_, options) in CHANNEL_FIELDS.items():
        p = add.add_parser(kind, help=f"connect a {kind} channel")
        for name in secrets_:
            p.add_argument(f"--{name.replace('_', '-')}", dest=name, required=True)
        for name in options:
            required = (kind, name) in (("vk", "group_id"), ("email", "address"))
            p.add_argument(
                f"--{name.replace('_', '-')}",
                dest=name,
                required=required,
                choices=CHANNEL_CHOICES.get(name),
            )
        p.add_argument("--name", help="shown to managers")
        p.add_argument("--api-base", help="the platform's API URL (tests, local API servers)")
        p.add_argument("--visibility", choices=["all", "user", "users"], default="all")
        p.add_argument("--responsible", help="email of the responsible user")
        p.add_argument("--users", help="comma-separated emails (visibility users)")
        p.add_argument("--scenario", type=int, help="default scenario id for its inquiries")
        p.add_argument("--no-check", action="store_true", help="store without asking the platform")
        p.set_defaults(func=cmd_channel_add)
    channel.add_parser("list", help="list channels").set_defaults(func=cmd_channel_list)
    check = channel.add_parser("check", help="check a channel's connection")
    check.add_argument("id", type=int)
    check.set_defaults(func=cmd_channel_check)
    out = sub.add_parser("outbox", help="outgoing messages").add_subparsers(
        dest="outbox_command", required=True
    )
    retry = out.add_parser("retry", help="send a failed or dead-lettered message again")
    retry.add_argument("id", type=int)
    retry.set_defaults(func=cmd_outbox_retry)
    dead = out.add_parser("dead", help="list dead letters")
    dead.add_argument("--limit", type=int, default=50)
    dead.set_defaults(func=cmd_outbox_dead)
    inbox = sub.add_parser("inbox", help="inbound events").add_subparsers(
        dest="inbox_command", required=True
    )
    unparsed = inbox.add_parser("unparsed", help="events that could not be parsed")
    unparsed.add_argument("--limit", type=int, default=50)
    unparsed.set_defaults(func=cmd_inbox_unparsed)

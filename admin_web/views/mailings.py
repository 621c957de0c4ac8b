"""Mailings (heads of sales and admins): the list, a draft's form with its preview per
channel (who each rule removes and why, what is wrong with it), the start, a test to
oneself, and a started mailing's progress and results with pause, resume and cancel."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from multidict import MultiDict

from admin_web import forms
from admin_web.auth import require_user
from admin_web.keys import SETTINGS
from admin_web.render import flash, gettext_for, redirect, render
from admin_web.views.clients import read_filters
from admin_web.views.desk import WAKE_OUTBOX
from crm import tags
from crm.errors import PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.labels import text as label_text
from crm.mailings import labels, results, service, surveys, templates
from crm.mailings.audience import Audience
from crm.models import FieldDefinition, MailingKind, MailingStatus, User
from crm.segments import service as segment_service
from inbox import mailer
from inbox.channels.base import ChannelConfig
from inbox.channels.registry import Adapters

routes = web.RouteTableDef()
MAX_FILE = 50 * 1024**2  # the largest any channel takes (VK more, but Telegram no more)


def _head(request: web.Request) -> User:
    user = require_user(request)
    if not user.sees_everything:
        raise PermissionDenied()
    return user


def _public_url(request: web.Request) -> str | None:
    return request.app[SETTINGS].public_url


def _test_to(request: web.Request, user: User) -> mailer.TestTo:
    """The acting user's own chat with the managers' bot (when bound and not blocked) and
    their email."""
    settings = request.app[SETTINGS]
    bot = None
    if settings.manager_bot_token:
        bot = ChannelConfig(
            id=0,
            kind="telegram",
            credentials={"token": settings.manager_bot_token},
            settings={},
            api_base=settings.telegram_api_base,
        )
    chat = user.telegram_user_id if bot is not None and not user.telegram_blocked else None
    return mailer.TestTo(
        email=user.email or "", telegram_chat=chat, manager_bot=bot, locale=user.locale
    )


def _time(raw: str) -> int | None:
    if not raw:
        return None
    hours, _, minutes = raw.partition(":")
    try:
        value = int(hours) * 60 + int(minutes or 0)
    except ValueError:
        raise ValidationFailed.field("send_time", N_("Enter a time like 10:30")) from None
    if not (0 <= int(hours) < 24 and 0 <= int(minutes or 0) < 60):
        raise ValidationFailed.field("send_time", N_("Enter a time like 10:30"))
    return value


def _date(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.field("send_on", N_("Enter a date")) from None


def _audience(form: Any) -> Audience:
    raw_filter = forms.text(form, "filter")
    filter_values = MultiDict(parse_qsl(raw_filter.lstrip("?"))) if raw_filter else None
    selection = [
        int(part)
        for part in forms.text(form, "client_ids").replace(",", " ").split()
        if part.isdigit() and len(part) < 10
    ]
    return Audience(
        tag_ids=tuple(forms.ids(form, "tag_ids")),
        filter=read_filters(filter_values) if filter_values else None,
        client_ids=tuple(selection),
        key_persons=forms.flag(form, "key_persons"),
        segment_ids=tuple(forms.ids(form, "segment_ids")),
    )


def _file(form: Any, kept: dict[str, Any]) -> dict[str, Any]:
    if forms.flag(form, "drop_file"):
        return {}
    upload = form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        return kept
    content = upload.file.read(MAX_FILE + 1)
    if len(content) > MAX_FILE:
        raise ValidationFailed.field("attachment", N_("Too large"))
    if not content:
        return kept
    return {
        "name": upload.filename[-200:],
        "mime": upload.content_type or "application/octet-stream",
        "size": len(content),
        "content_b64": base64.b64encode(content).decode(),
    }


async def _draft(form: Any, kept: dict[str, Any]) -> service.Draft:
    kind = forms.text(form, "kind") or MailingKind.INFORMATIONAL.value
    if kind not in {k.value for k in MailingKind}:
        raise ValidationFailed.field("kind", N_("Choose one of the options"))
    reply_days = forms.integer(form, "reply_days", required=False)
    return service.Draft(
        name=forms.text(form, "name"),
        text=str(form.get("text", "")).strip(),
        kind=MailingKind(kind),
        subject=forms.text(form, "subject"),
        html=str(form.get("html", "")).strip(),
        attachment=_file(form, kept),
        audience=_audience(form),
        channel_mode=forms.text(form, "channel_mode") or "auto",
        send_on=_date(forms.text(form, "send_on")),
        send_minute=_time(forms.text(form, "send_time")),
        reply_days=3 if reply_days is None else reply_days,
        questions=surveys.parse_questions(str(form.get("questions", ""))),
    )


async def _survey(mailing: Any) -> dict[str, Any]:
    """A survey's questions as the form types them, and its first question with the
    buttons each channel draws (VK's labels cut to what it shows)."""
    if mailing is None or mailing.kind != MailingKind.SURVEY:
        return {"questions_text": "", "first_question": None, "first_buttons": {}}
    questions = await surveys.questions_of(mailing.id)
    first = questions[0] if questions else None
    shown = {
        kind: [str(o)[: surveys.LIMITS[kind][1]] for o in (first.options if first else [])]
        for kind in ("telegram", "vk", "viber", "email")
    }
    return {
        "questions_text": surveys.typed_questions(questions),
        "first_question": first,
        "first_buttons": shown,
    }


async def _context(mailing: Any, user: User) -> dict[str, Any]:
    fields = await FieldDefinition.all().order_by("id").values_list("id", "name")
    return {
        **await _survey(mailing),
        "mailing": mailing,
        "tags": await tags.list_tags(),
        "segments": await segment_service.list_segments(user),
        "placeholders": [
            *(("{" + p + "}", labels.PLACEHOLDER[p]) for p in templates.PLACEHOLDERS),
            *((f"{{field_{i}}}", name) for i, name in fields),
        ],
        "placeholder_labels": labels.PLACEHOLDER,
        "kinds": labels.KIND,
        "modes": labels.MODE,
        "statuses": labels.STATUS,
        "reasons": labels.REASON,
        "states": labels.STATE,
        "channels": labels.CHANNEL,
    }


def _filter_text(audience: Audience) -> str:
    """The audience's client-list filter as the list's query string (as the form takes it)."""
    if audience.filter is None:
        return ""
    f = audience.filter
    values: dict[str, str] = {
        "q": f.q,
        "tag_id": "" if f.tag_id is None else str(f.tag_id),
        "responsible_id": "" if f.responsible_id is None else str(f.responsible_id),
        "relation_type": f.relation_type,
        "kind": f.kind,
        "field_id": "" if f.field_id is None else str(f.field_id),
        "field_value": f.field_value,
        **{f"cf_{field_id}": value for field_id, value in f.choices},
    }
    return urlencode({k: v for k, v in values.items() if v})


@routes.get("/mailings")
async def mailings_page(request: web.Request) -> web.StreamResponse:
    user = _head(request)
    rows = []
    for mailing in await service.list_mailings(actor=user):
        got = await results.results(mailing) if mailing.status != MailingStatus.DRAFT else None
        rows.append({"mailing": mailing, "results": got})
    return await render(
        request, "mailings.html", {"rows": rows, "statuses": labels.STATUS, "kinds": labels.KIND}
    )


@routes.get("/mailings/new")
async def new_page(request: web.Request) -> web.StreamResponse:
    user = _head(request)
    context = await _context(None, user)
    context["prefill"] = {
        "filter": request.query.get("filter", ""),
        "client_ids": request.query.get("client_ids", ""),
    }
    return await render(request, "mailing.html", context)


@routes.post("/mailings")
async def create(request: web.Request) -> web.StreamResponse:
    user = _head(request)
    form = await request.post()
    mailing = await service.save_draft(await _draft(form, {}), actor=user)
    return redirect(f"/mailings/{mailing.id}")


@routes.get(r"/mailings/{id:\d+}")
async def mailing_page(request: web.Request) -> web.StreamResponse:
    user = _head(request)
    mailing = await service.get_mailing(int(request.match_info["id"]), actor=user)
    context = await _context(mailing, user)
    audience = service.audience_of(mailing)
    context["audience"] = audience
    context["prefill"] = {
        "filter": _filter_text(audience),
        "client_ids": " ".join(str(i) for i in audience.client_ids),
    }
    if mailing.status == MailingStatus.DRAFT:
        context["preview"] = await service.preview(
            mailing,
            actor=user,
            check_file=mailer.check_file(_public_url(request)),
            survey_links=_public_url(request) is not None,
        )
    else:
        context["results"] = await results.results(mailing)
    return await render(request, "mailing.html", context)


@routes.post(r"/mailings/{id:\d+}")
async def save(request: web.Request) -> web.StreamResponse:
    user = _head(request)
    mailing = await service.get_mailing(int(request.match_info["id"]), actor=user)
    form = await request.post()
    await service.save_draft(
        await _draft(form, mailing.attachment), actor=user, mailing_id=mailing.id
    )
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(f"/mailings/{mailing.id}")


async def act(request: web.Request) -> web.StreamResponse:
    """POST /mailings/{id}/start|pause|resume|cancel|test"""
    user = _head(request)
    mailing_id = int(request.match_info["id"])
    action = request.path.rstrip("/").rsplit("/", 1)[1]
    if action == "start":
        await service.start(
            mailing_id,
            actor=user,
            check_file=mailer.check_file(_public_url(request)),
            survey_links=_public_url(request) is not None,
        )
        wake = request.app.get(WAKE_OUTBOX)
        if wake is not None:
            wake()
        message = N_("The mailing has started")
    elif action == "pause":
        await service.pause(mailing_id, actor=user)
        message = N_("The mailing is paused")
    elif action == "resume":
        await service.resume(mailing_id, actor=user)
        message = N_("The mailing goes on")
    elif action == "cancel":
        mailing = await service.cancel(mailing_id, actor=user)
        await flash(request, gettext_for(request, N_("The mailing is cancelled")))
        return redirect(
            "/mailings" if mailing.status == MailingStatus.DRAFT else f"/mailings/{mailing_id}"
        )
    else:
        mailing = await service.get_mailing(mailing_id, actor=user)
        adapters = Adapters()
        try:
            sent = await mailer.send_test(
                adapters, mailing, _test_to(request, user), actor=user, survey_url=None
            )
        finally:
            await adapters.close()
        where = ", ".join(label_text(labels.CHANNEL[k], user.locale) for k in sent)
        message = N_("The test has been sent to you: {where}")
        await flash(request, gettext_for(request, message, where=where))
        return redirect(f"/mailings/{mailing_id}")
    await flash(request, gettext_for(request, message))
    return redirect(f"/mailings/{mailing_id}")


for _action in ("start", "pause", "resume", "cancel", "test"):
    routes.post(r"/mailings/{id:\d+}/" + _action)(act)

"""/api/v1/mailings (heads of sales and admins): drafts created from JSON (no file: the
panel takes files), each read with its preview (a draft: who each rule removes and what is
wrong) or its results (a started one), and started, paused, resumed or cancelled as in the
panel. A draft is edited in the panel; a started mailing cannot be edited at all. A survey
(`kind: "survey"`) carries its questions; `/mailings/{id}/answers` reads its answers by
question (`crm.mailings.survey_report`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict
from pydantic import ConfigDict, Field

from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Answer, Body, Id, PerPage, Query, named, text_of
from admin_web.keys import SETTINGS
from admin_web.views.clients import read_filters
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.mailings import results, service, survey_report, surveys
from crm.mailings.audience import Audience
from crm.models import Mailing as MailingRow
from crm.models import MailingKind, MailingStatus
from inbox import mailer

api = Api("mailings")
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIME = r"^[0-9]{2}:[0-9]{2}$"


class QuestionInput(Body):
    model_config = ConfigDict(strict=True, extra="forbid")

    text: Annotated[str, named(1000)]
    options: Annotated[list[Annotated[str, named(250)]], Field(max_length=30)] = []


class MailingInput(Body):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Весенняя распродажа",
                    "text": "Здравствуйте, {client_name}!",
                    "client_ids": [1],
                }
            ]
        },
    )

    name: Annotated[str, named(200)]
    text: Annotated[str, named(4000)]
    kind: Literal["info", "ads", "survey"] = "info"
    subject: Annotated[str, text_of(300)] = ""
    html: Annotated[str, text_of(100_000)] = ""
    channel_mode: Literal["auto", "telegram", "vk", "viber", "email"] = "auto"
    tag_ids: Annotated[list[Id], Field(max_length=100)] = []
    client_ids: Annotated[list[Id], Field(max_length=10_000)] = []
    filter: Annotated[str, text_of(2000)] = ""  # the client list's query string
    key_persons: bool = False
    segment_ids: Annotated[list[Id], Field(max_length=100)] = []  # their current members
    send_on: Annotated[str, Field(pattern=DATE)] | None = None
    send_time: Annotated[str, Field(pattern=TIME)] | None = None
    reply_days: Annotated[int, Field(ge=1, le=60)] = 3
    # a survey's questions: options are the buttons; none: a free-text question
    questions: Annotated[list[QuestionInput], Field(max_length=30)] = []


class OptionFigure(Answer):
    index: int
    label: str
    count: int
    share: float


class TextAnswer(Answer):
    client_id: Id
    client_name: str
    text: str
    answered_at: datetime


class QuestionFigures(Answer):
    position: int
    text: str
    kind: Literal["choice", "text"]
    answered: int
    options: list[OptionFigure]
    texts: list[TextAnswer]


class SurveyAnswers(Answer):
    mailing_id: Id
    recipients: int
    questions: list[QuestionFigures]


class Results(Answer):
    total: int
    replied: int
    states: dict[str, int]
    by_channel: dict[str, dict[str, int]]
    failures: list[tuple[str, int]]


class Preview(Answer):
    audience: int
    recipients: int
    removed: dict[str, int]
    by_channel: dict[str, dict[str, int]]
    problems: dict[str, str]


class Mailing(Answer):
    id: Id
    name: str
    kind: MailingKind
    status: MailingStatus
    channel_mode: str
    text: str
    subject: str
    send_on: date | None
    send_time: str | None
    reply_days: int
    tag_ids: list[int]
    client_ids: list[int]
    segment_ids: list[int]
    key_persons: bool
    has_file: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    removed: dict[str, int]
    preview: Preview | None
    results: Results | None


class Mailings(Answer):
    items: list[Mailing]


class Listing(Query):
    per_page: PerPage = 50


def _time(raw: str | None) -> int | None:
    if raw is None:
        return None
    hours, minutes = int(raw[:2]), int(raw[3:])
    if hours > 23 or minutes > 59:
        raise ValidationFailed.field("send_time", N_("Enter a time like 10:30"))
    return hours * 60 + minutes


def _date(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.field("send_on", N_("Enter a date")) from None


def _draft(body: MailingInput) -> service.Draft:
    return service.Draft(
        name=body.name,
        text=body.text,
        kind=MailingKind(body.kind),
        subject=body.subject,
        html=body.html,
        audience=Audience(
            tag_ids=tuple(body.tag_ids),
            filter=read_filters(MultiDict(parse_qsl(body.filter.lstrip("?"))))
            if body.filter.strip()
            else None,
            client_ids=tuple(body.client_ids),
            key_persons=body.key_persons,
            segment_ids=tuple(body.segment_ids),
        ),
        channel_mode=body.channel_mode,
        send_on=_date(body.send_on),
        send_minute=_time(body.send_time),
        reply_days=body.reply_days,
        questions=[surveys.Question(q.text, tuple(q.options)) for q in body.questions],
    )


async def _json(call: Call[Any, Any], mailing: MailingRow, *, full: bool) -> Mailing:
    audience = service.audience_of(mailing)
    preview = got = None
    if full and mailing.status == MailingStatus.DRAFT:
        checked = await service.preview(
            mailing,
            actor=call.user,
            check_file=mailer.check_file(_public_url(call)),
            survey_links=_public_url(call) is not None,
        )
        locale = call.user.locale
        preview = Preview(
            audience=checked.plan.audience,
            recipients=len(checked.plan.recipients),
            removed=dict(checked.plan.removed),
            by_channel={k: dict(v) for k, v in checked.plan.by_channel.items()},
            problems={k: v.render(locale) for k, v in checked.problems.items()},
        )
    elif mailing.status != MailingStatus.DRAFT:
        r = await results.results(mailing)
        got = Results(
            total=r.total,
            replied=r.replied,
            states=dict(r.states),
            by_channel={k: dict(v) for k, v in r.by_channel.items()},
            failures=r.failures,
        )
    minute = mailing.send_minute
    return Mailing(
        id=mailing.id,
        name=mailing.name,
        kind=mailing.kind,
        status=mailing.status,
        channel_mode=mailing.channel_mode,
        text=mailing.text,
        subject=mailing.subject,
        send_on=mailing.send_on,
        send_time=None if minute is None else f"{minute // 60:02d}:{minute % 60:02d}",
        reply_days=mailing.reply_days,
        tag_ids=list(audience.tag_ids),
        client_ids=list(audience.client_ids),
        segment_ids=list(audience.segment_ids),
        key_persons=audience.key_persons,
        has_file=bool(mailing.attachment),
        created_at=mailing.created_at,
        started_at=mailing.started_at,
        finished_at=mailing.finished_at,
        removed={str(k): int(v) for k, v in (mailing.removed or {}).items()},
        preview=preview,
        results=got,
    )


def _public_url(call: Call[Any, Any]) -> str | None:
    return call.request.app[SETTINGS].public_url


@api.get("/mailings", "Mailings, newest first (heads and admins)", query=Listing,
         answers={200: Mailings}, errors=(403,))  # fmt: skip
async def list_mailings(call: Call[None, Listing]) -> web.StreamResponse:
    rows = await service.list_mailings(actor=call.user, limit=call.query.per_page)
    return json(Mailings(items=[await _json(call, m, full=False) for m in rows]))


@api.post("/mailings", "Create a mailing draft", body=MailingInput,
          answers={201: Mailing}, errors=(403,))  # fmt: skip
async def create_mailing(call: Call[MailingInput, None]) -> web.StreamResponse:
    mailing = await service.save_draft(_draft(call.body), actor=call.user)
    return json(await _json(call, mailing, full=True), status=201)


@api.get("/mailings/{id}", "A mailing: a draft with its preview, a started one with its results",
         answers={200: Mailing}, errors=(403,))  # fmt: skip
async def get_mailing(call: Call[None, None]) -> web.StreamResponse:
    mailing = await service.get_mailing(call.id, actor=call.user)
    return json(await _json(call, mailing, full=True))


@api.post("/mailings/{id}/start", "Start a draft (refused with the preview's reasons)",
          answers={200: Mailing}, errors=(403, 409))  # fmt: skip
async def start_mailing(call: Call[None, None]) -> web.StreamResponse:
    mailing = await service.start(
        call.id,
        actor=call.user,
        check_file=mailer.check_file(_public_url(call)),
        survey_links=_public_url(call) is not None,
    )
    return json(await _json(call, mailing, full=True))


@api.post("/mailings/{id}/pause", "Pause a running mailing",
          answers={200: Mailing}, errors=(403, 409))  # fmt: skip
async def pause_mailing(call: Call[None, None]) -> web.StreamResponse:
    return json(await _json(call, await service.pause(call.id, actor=call.user), full=True))


@api.post("/mailings/{id}/resume", "Resume a paused mailing",
          answers={200: Mailing}, errors=(403, 409))  # fmt: skip
async def resume_mailing(call: Call[None, None]) -> web.StreamResponse:
    return json(await _json(call, await service.resume(call.id, actor=call.user), full=True))


@api.post("/mailings/{id}/cancel", "Cancel a mailing (a draft is deleted)",
          answers={200: Mailing}, errors=(403, 409))  # fmt: skip
async def cancel_mailing(call: Call[None, None]) -> web.StreamResponse:
    mailing = await service.cancel(call.id, actor=call.user)
    return json(await _json(call, mailing, full=False))


@api.get("/mailings/{id}/answers", "A survey's answers by question (heads and admins)",
         answers={200: SurveyAnswers}, errors=(403,))  # fmt: skip
async def survey_answers(call: Call[None, None]) -> web.StreamResponse:
    found = await survey_report.report(call.id, actor=call.user)
    return json(
        SurveyAnswers(
            mailing_id=found.mailing.id,
            recipients=found.recipients,
            questions=[
                QuestionFigures(
                    position=q.question.position,
                    text=q.question.text,
                    kind="choice" if q.question.kind == "choice" else "text",
                    answered=q.answered,
                    options=[
                        OptionFigure(index=o.index, label=o.label, count=o.count, share=o.share)
                        for o in q.options
                    ],
                    texts=[
                        TextAnswer(client_id=c, client_name=n, text=t, answered_at=a)
                        for c, n, t, a in q.texts
                    ],
                )
                for q in found.questions
            ],
        )
    )

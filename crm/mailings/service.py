"""Mailings as a head of sales or an admin works them: a draft saved and edited, its
preview (who each rule removes, how many go by each channel, and what is wrong with it),
the start (recipients fixed, each at their local time), pause, resume and cancel.

Bad input is refused by the preview with the reason and nothing is queued: an unknown
placeholder, an empty audience, a send time in the past, a file over a platform's limit
(checked by the caller's `check_file`, which knows the platforms: `inbox.mailer`), an
advertising mailing nobody consented to, a segment deleted since the draft was saved, a
survey going by email where the letters could carry no answer links (the caller's
`survey_links` is false: `CRMHUB_PUBLIC_URL` is not set). A started mailing cannot be
edited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from crm import clock
from crm.company import get_company
from crm.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_, Text
from crm.mailings import results, rules, schedule, survey_answers, surveys, templates
from crm.mailings.audience import Audience, addressees, missing_segments
from crm.models import (
    ChannelKind,
    Client,
    Mailing,
    MailingKind,
    MailingRecipient,
    MailingStatus,
    Message,
    MessageStatus,
    User,
)

MAX_TEXT = 4000  # Telegram's limit for one message
MAX_HTML = 500_000
EDITABLE = (MailingStatus.DRAFT,)
INSERT_BATCH = 1000

# check_file(channel kinds, attachment) raises ValidationFailed when a platform refuses it
FileCheck = Callable[[set[str], dict[str, Any]], None]


def _allowed(actor: User) -> None:
    if not actor.sees_everything:
        raise PermissionDenied()


@dataclass
class Draft:
    name: str
    text: str
    kind: MailingKind = MailingKind.INFORMATIONAL
    subject: str = ""
    html: str = ""
    attachment: dict[str, Any] = field(default_factory=dict)
    audience: Audience = field(default_factory=Audience)
    channel_mode: str = "auto"
    send_on: date | None = None
    send_minute: int | None = None
    reply_days: int = 3
    questions: list[surveys.Question] = field(default_factory=list)  # a survey's


def _validate(draft: Draft) -> None:
    errors: dict[str, str | Text] = {}
    if not draft.name.strip():
        errors["name"] = N_("Required")
    elif len(draft.name) > 200:
        errors["name"] = N_("Too long")
    if not draft.text.strip() and not draft.attachment:
        errors["text"] = N_("Required")
    elif len(draft.text) > MAX_TEXT:
        errors["text"] = N_("Too long")
    if len(draft.subject) > 300:
        errors["subject"] = N_("Too long")
    if len(draft.html) > MAX_HTML:
        errors["html"] = N_("Too long")
    if draft.channel_mode not in rules.MODES:
        errors["channel_mode"] = N_("Choose one of the options")
    if draft.send_minute is not None and not 0 <= draft.send_minute < schedule.DAY:
        errors["send_time"] = N_("Enter a time like 10:30")
    if draft.send_minute is not None and draft.send_on is None:
        errors["send_on"] = N_("Required")
    if not 1 <= draft.reply_days <= 60:
        errors["reply_days"] = N_("From 1 to 60 days")
    if errors:
        raise ValidationFailed(fields=errors)


async def save_draft(draft: Draft, *, actor: User, mailing_id: int | None = None) -> Mailing:
    """Create a draft, or change one that has not started."""
    _allowed(actor)
    _validate(draft)
    if await missing_segments(draft.audience):
        raise ValidationFailed.field("segment_ids", N_("Choose one of the options"))
    values: dict[str, Any] = {
        "name": draft.name.strip(),
        "kind": draft.kind,
        "text": draft.text.strip(),
        "subject": draft.subject.strip(),
        "html": draft.html.strip(),
        "attachment": draft.attachment,
        "audience": draft.audience.as_json(),
        "channel_mode": draft.channel_mode,
        "send_on": draft.send_on,
        "send_minute": draft.send_minute,
        "reply_days": draft.reply_days,
    }
    questions = draft.questions if draft.kind == MailingKind.SURVEY else []
    async with in_transaction():
        if mailing_id is None:
            mailing = await Mailing.create(created_by=actor, **values)
            await surveys.save_questions(mailing.id, questions)
            return mailing
        updated = await Mailing.filter(id=mailing_id, status__in=EDITABLE).update(**values)
        if updated:
            await surveys.save_questions(mailing_id, questions)
    if not updated:
        await get_mailing(mailing_id, actor=actor)  # NotFound first
        raise Conflict(N_("A started mailing cannot be edited"), code="mailing_started")
    return await Mailing.get(id=mailing_id)


async def get_mailing(mailing_id: int, *, actor: User) -> Mailing:
    _allowed(actor)
    mailing = await Mailing.filter(id=mailing_id).first()
    if mailing is None:
        raise NotFound()
    return mailing


async def list_mailings(*, actor: User, limit: int = 100) -> list[Mailing]:
    _allowed(actor)
    return await Mailing.all().order_by("-id").limit(limit)


def audience_of(mailing: Mailing) -> Audience:
    return Audience.from_json(mailing.audience or {})


@dataclass
class Preview:
    plan: rules.Plan
    problems: dict[str, Text] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


async def preview(
    mailing: Mailing,
    *,
    actor: User,
    check_file: FileCheck | None = None,
    survey_links: bool = True,
) -> Preview:
    """What starting the mailing now would do, and why it would be refused.
    `survey_links`: whether a survey's email can carry links to the survey page."""
    _allowed(actor)
    audience = audience_of(mailing)
    problems: dict[str, Text] = {}
    gone = await missing_segments(audience)
    if gone:
        problems["segments"] = Text(
            N_("A segment of the audience was deleted (number {ids}): choose the segments again"),
            ids=", ".join(str(i) for i in gone),
        )
    unknown = await templates.unknown_placeholders(mailing.text, mailing.subject, mailing.html)
    if unknown:
        problems["text"] = Text(
            N_("Unknown placeholder: {names}"), names=", ".join("{" + u + "}" for u in unknown)
        )
    company = await get_company()
    tz = schedule.zone(None, company.default_timezone)
    if schedule.in_the_past(mailing.send_on, mailing.send_minute, tz, clock.now()):
        problems["send_on"] = Text(N_("The send time has passed"))
    plan = await rules.plan(
        await addressees(actor, audience), kind=mailing.kind, mode=mailing.channel_mode
    )
    if audience.empty or plan.audience == 0:
        problems["audience"] = Text(N_("The audience is empty"))
    elif not plan.recipients:
        if mailing.kind == MailingKind.ADVERTISING and plan.removed.get(rules.NO_CONSENT):
            problems["audience"] = Text(
                N_("Nobody in the audience has consented to advertising mailings")
            )
        else:
            problems["audience"] = Text(N_("Nobody in the audience can be reached"))
    if mailing.kind == MailingKind.SURVEY:
        kinds = {r.kind.value for r in plan.recipients} or set(surveys.LIMITS)
        wrong = surveys.problems(await surveys.questions_of(mailing.id), kinds)
        if wrong is not None:
            problems["questions"] = wrong
        if not survey_links and ChannelKind.EMAIL.value in {r.kind.value for r in plan.recipients}:
            problems["survey_links"] = Text(
                N_(
                    "A survey by email needs the panel's public address (the setting"
                    " CRMHUB_PUBLIC_URL): without it the letters carry no answer links."
                    " Set it, or send the survey by messengers only"
                )
            )
    if mailing.attachment and check_file is not None and plan.recipients:
        try:
            check_file({r.kind.value for r in plan.recipients}, mailing.attachment)
        except ValidationFailed as exc:
            problems["attachment"] = next(iter(exc.fields.values()), Text(N_("Too large")))
    return Preview(plan, problems)


async def _zones(client_ids: list[int]) -> dict[int, str | None]:
    zones: dict[int, str | None] = {}
    for start in range(0, len(client_ids), 5000):
        rows = await Client.filter(id__in=client_ids[start : start + 5000]).values_list(
            "id", "timezone"
        )
        zones.update({int(str(i)): (str(z) if z else None) for i, z in rows})
    return zones


async def start(
    mailing_id: int,
    *,
    actor: User,
    check_file: FileCheck | None = None,
    survey_links: bool = True,
) -> Mailing:
    """Fix the recipients and schedule each at their local time; refused (nothing queued)
    when the preview finds a problem."""
    mailing = await get_mailing(mailing_id, actor=actor)
    if mailing.status != MailingStatus.DRAFT:
        raise Conflict(N_("The mailing has already been started"), code="mailing_started")
    checked = await preview(mailing, actor=actor, check_file=check_file, survey_links=survey_links)
    if not checked.ok:
        raise ValidationFailed(fields=dict(checked.problems))
    plan = checked.plan
    company = await get_company()
    window = schedule.Window.of(company)
    now = clock.now()
    zones = await _zones(sorted({r.client_id for r in plan.recipients}))
    cache: dict[str | None, Any] = {}
    survey = mailing.kind == MailingKind.SURVEY
    async with in_transaction():
        started = await Mailing.filter(id=mailing.id, status=MailingStatus.DRAFT).update(
            status=MailingStatus.SCHEDULED, started_at=now, removed=dict(plan.removed)
        )
        if not started:
            raise Conflict(N_("The mailing has already been started"), code="mailing_started")
        rows: list[MailingRecipient] = []
        for planned in plan.recipients:
            zone_name = zones.get(planned.client_id)
            if zone_name not in cache:
                tz = schedule.zone(zone_name, company.default_timezone)
                cache[zone_name] = schedule.due_at(
                    mailing.send_on, mailing.send_minute, tz, window, now
                )
            rows.append(
                MailingRecipient(
                    mailing_id=mailing.id,
                    client_id=planned.client_id,
                    person_id=planned.person_id,
                    channel_id=planned.channel_id,
                    identity_id=planned.identity_id,
                    address=planned.address,
                    due_at=cache[zone_name],
                    survey_token=surveys.new_token() if survey else None,
                )
            )
            if len(rows) >= INSERT_BATCH:
                await MailingRecipient.bulk_create(rows)
                rows = []
        if rows:
            await MailingRecipient.bulk_create(rows)
        if survey:
            await surveys.plan_interactions(mailing)
    survey_answers.forget_recent()
    results.forget_recent()  # replies are looked for from now on (in this process at once)
    return await Mailing.get(id=mailing.id)


async def _message_ids(mailing_id: int) -> list[int]:
    rows = await MailingRecipient.filter(
        mailing_id=mailing_id, message_id__isnull=False
    ).values_list("message_id", flat=True)
    return [int(str(r)) for r in rows]


async def _hold(mailing_id: int, *, release: bool) -> None:
    """Hold (or release) the mailing's messages already in the outbox and not yet sent."""
    ids = await _message_ids(mailing_id)
    for start_at in range(0, len(ids), 5000):
        query = Message.filter(
            id__in=ids[start_at : start_at + 5000],
            source_id__isnull=True,
            status__in=[MessageStatus.QUEUED, MessageStatus.FAILED],
        )
        if release:
            await query.filter(next_attempt_at__isnull=True).update(next_attempt_at=clock.now())
        else:
            await query.update(next_attempt_at=None)


async def pause(mailing_id: int, *, actor: User) -> Mailing:
    await get_mailing(mailing_id, actor=actor)
    paused = await Mailing.filter(id=mailing_id, status=MailingStatus.SCHEDULED).update(
        status=MailingStatus.PAUSED
    )
    if not paused:
        raise Conflict(N_("Only a running mailing can be paused"), code="mailing_not_running")
    await _hold(mailing_id, release=False)
    return await Mailing.get(id=mailing_id)


async def resume(mailing_id: int, *, actor: User) -> Mailing:
    await get_mailing(mailing_id, actor=actor)
    resumed = await Mailing.filter(id=mailing_id, status=MailingStatus.PAUSED).update(
        status=MailingStatus.SCHEDULED
    )
    if not resumed:
        raise Conflict(N_("Only a paused mailing can be resumed"), code="mailing_not_paused")
    await _hold(mailing_id, release=True)
    return await Mailing.get(id=mailing_id)


async def cancel(mailing_id: int, *, actor: User) -> Mailing:
    """Stop for good: recipients not yet reached never are (their queued messages go)."""
    mailing = await get_mailing(mailing_id, actor=actor)
    if mailing.status in (MailingStatus.CANCELLED, MailingStatus.DONE):
        raise Conflict(N_("The mailing has already ended"), code="mailing_ended")
    if mailing.status == MailingStatus.DRAFT:
        await Mailing.filter(id=mailing_id).delete()
        return mailing
    await Mailing.filter(id=mailing_id).update(
        status=MailingStatus.CANCELLED, finished_at=clock.now()
    )
    ids = await _message_ids(mailing_id)
    for start_at in range(0, len(ids), 5000):
        await Message.filter(
            id__in=ids[start_at : start_at + 5000],
            source_id__isnull=True,
            status__in=[MessageStatus.QUEUED, MessageStatus.FAILED],
        ).delete()
    await MailingRecipient.filter(
        mailing_id=mailing_id, message_id__isnull=True, skipped=""
    ).update(skipped="cancelled")
    await surveys.interactions_cancelled(mailing_id)
    return await Mailing.get(id=mailing_id)

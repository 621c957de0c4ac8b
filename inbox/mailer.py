"""The mailing sender: due recipients of started mailings become outbox messages.

A worker claims recipients whose local send time has come (`crm.claims`, under a lease,
so exactly one worker takes each), checks them once more (opted out since the start, the
address bounced, the messenger blocked: skipped with the reason), fills the template and
creates the outgoing message in the recipient's conversation in the same transaction
that records it on the recipient: a worker killed mid-way leaves the row to be claimed
again when its lease ends, and a recipient never gets two messages. The outbox then sends
them, paced per channel (`inbox.pacing`), and the message's status is the recipient's
result. Only a little is taken at a time (what the channels can send in a few seconds),
so a pause holds nearly everything.

The mailing's file is stored once, on the mailing (`inbox.mailing_files`).

A survey's message is its text, then the first question: on a messenger its options as
buttons (`meta["buttons"]`, drawn by each adapter), in an email one link per option to the
survey page (`inbox.survey_pages`); its planned interaction becomes done
(`crm.mailings.surveys`)."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from crm import clock
from crm.claims import claim
from crm.errors import ValidationFailed
from crm.i18n import N_, gettext
from crm.mailings import audience, consent, rules, surveys, templates
from crm.mailings.audience import Audience
from crm.models import (
    Channel,
    ChannelIdentity,
    Conversation,
    Direction,
    Mailing,
    MailingKind,
    MailingRecipient,
    MailingStatus,
    Message,
    MessageStatus,
    SurveyQuestion,
    User,
)
from crm.rows import query
from inbox import reply_limits
from inbox.channels.base import Attachment, ChannelConfig, OutboundMessage, SendError
from inbox.channels.registry import Adapters
from inbox.channels.telegram import TelegramAdapter

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 200
UNSENT = (MessageStatus.QUEUED.value, MessageStatus.SENDING.value, MessageStatus.FAILED.value)
OPTED_OUT = consent.OPTED_OUT_ERROR

UnsubscribeUrl = Callable[[int], str]
SurveyUrl = Callable[[str], str]  # a button's data -> the survey page's address


def check_file(public_url: str | None) -> Callable[[set[str], dict[str, Any]], None]:
    """The preview's file check: each channel the mailing uses takes the file."""

    def check(kinds: set[str], attachment: dict[str, Any]) -> None:
        for kind in sorted(kinds):
            described = {
                **attachment,
                "kind": reply_limits.photo_or_document(
                    str(attachment.get("mime") or ""), int(attachment.get("size") or 0), kind
                ),
            }
            reply_limits.check_reply(kind, [described], public_url=public_url)

    return check


async def _conversation(recipient: MailingRecipient) -> Conversation | None:
    channel_id: int = recipient.channel_id  # type: ignore[attr-defined]
    identity_id = recipient.identity_id  # type: ignore[attr-defined]
    if identity_id is None:  # email: the address's identity on the mailbox
        identity = await ChannelIdentity.filter(
            channel_id=channel_id, external_id=recipient.address
        ).first()
        if identity is None:
            try:
                async with in_transaction():
                    identity = await ChannelIdentity.create(
                        channel_id=channel_id,
                        external_id=recipient.address,
                        client_id=recipient.client_id,  # type: ignore[attr-defined]
                    )
            except IntegrityError:
                identity = await ChannelIdentity.get(
                    channel_id=channel_id, external_id=recipient.address
                )
        identity_id = identity.id
    conversation = await Conversation.filter(channel_id=channel_id, identity_id=identity_id).first()
    if conversation is not None:
        return conversation
    identity = await ChannelIdentity.get(id=identity_id)
    try:
        async with in_transaction():
            return await Conversation.create(
                channel_id=channel_id,
                identity_id=identity_id,
                client_id=identity.client_id,  # type: ignore[attr-defined]
            )
    except IntegrityError:
        return await Conversation.filter(channel_id=channel_id, identity_id=identity_id).first()


def _attachments(mailing: Mailing) -> list[dict[str, Any]]:
    if not mailing.attachment:
        return []
    described = {k: v for k, v in mailing.attachment.items() if k != "content_b64"}
    return [{**described, "kind": "document", "mailing_file": mailing.id}]


def _meta(
    mailing: Mailing,
    recipient: MailingRecipient,
    values: dict[str, str],
    unsubscribe_url: UnsubscribeUrl | None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"mailing": mailing.id, "recipient": recipient.id}
    if recipient.identity_id is None:  # type: ignore[attr-defined]
        meta["in_reply_to"] = ""  # a new letter, not an answer in the thread
        meta["subject"] = templates.render(mailing.subject, values) or mailing.name
        if mailing.html:
            escaped = {k: html.escape(v) for k, v in values.items()}
            meta["html"] = templates.render(mailing.html, escaped)
        if unsubscribe_url is not None:
            try:
                meta["list_unsubscribe"] = unsubscribe_url(recipient.client_id)  # type: ignore[attr-defined]
            except ValueError:  # no public URL: the letter goes without the header
                pass
    return meta


def _survey(
    text: str,
    meta: dict[str, Any],
    recipient: MailingRecipient,
    first: SurveyQuestion | None,
    survey_url: SurveyUrl | None,
) -> str:
    """The survey's first question added to the message: buttons on a messenger, links
    (text and HTML) in an email. Returns the text."""
    if first is None:
        return text
    token = recipient.survey_token or ""
    text = f"{text}\n\n{first.text}".strip()
    meta.update(surveys.first_question_meta([first], token))
    if recipient.identity_id is not None:  # type: ignore[attr-defined]
        return text
    buttons = meta.pop("buttons")
    if survey_url is None:
        return text
    links = buttons or [{"text": "→", "data": surveys.button_data(token, first.position, "t")}]
    lines = [f"{b['text']}: {survey_url(b['data'])}" for b in links]
    if meta.get("html"):
        items = "".join(
            f'<li><a href="{html.escape(survey_url(b["data"]))}">{html.escape(b["text"])}</a></li>'
            for b in links
        )
        meta["html"] += f"<p>{html.escape(first.text)}</p><ul>{items}</ul>"
    return text + "\n\n" + "\n".join(lines)


async def _skip(recipient: MailingRecipient, reason: str) -> None:
    await MailingRecipient.filter(id=recipient.id, message_id__isnull=True).update(
        skipped=reason, claimed_until=None
    )


async def _reachable(recipients: list[MailingRecipient]) -> dict[int, str]:
    """Why some of the claimed recipients must be skipped now (recipient id -> reason)."""
    reasons: dict[int, str] = {}
    opted = await consent.opted_out_clients(r.client_id for r in recipients)  # type: ignore[attr-defined]
    bounced = await consent.bounced(r.address for r in recipients if r.address)
    identity_ids = [r.identity_id for r in recipients if r.identity_id]  # type: ignore[attr-defined]
    subscribed = (
        {
            int(str(i))
            for i in await ChannelIdentity.filter(id__in=identity_ids, subscribed=True).values_list(
                "id", flat=True
            )
        }
        if identity_ids
        else set()
    )
    for r in recipients:
        if r.client_id in opted:  # type: ignore[attr-defined]
            reasons[r.id] = rules.OPTED_OUT
        elif r.address and r.address.lower() in bounced:
            reasons[r.id] = rules.EMAIL_BOUNCED
        elif r.identity_id and r.identity_id not in subscribed:  # type: ignore[attr-defined]
            reasons[r.id] = rules.NOT_SUBSCRIBED
    return reasons


async def _finish_done() -> None:
    """Running mailings whose every recipient is handed over and every message is out of
    the queue (sent, or failed for good) are done."""
    running = await Mailing.filter(status=MailingStatus.SCHEDULED).values_list("id", flat=True)
    for mailing_id in running:
        busy = await query(
            "SELECT 1 FROM mailing_recipients r LEFT JOIN messages m ON m.id = r.message_id"
            " WHERE r.mailing_id = $1 AND r.skipped = '' AND (r.message_id IS NULL"
            " OR m.status IN ($2, $3, $4)) LIMIT 1",
            [mailing_id, *UNSENT],
        )
        if not busy:
            await Mailing.filter(id=mailing_id, status=MailingStatus.SCHEDULED).update(
                status=MailingStatus.DONE, finished_at=clock.now()
            )


async def _first_questions(mailings: dict[int, Mailing]) -> dict[int, SurveyQuestion]:
    ids = [m.id for m in mailings.values() if m.kind == MailingKind.SURVEY]
    if not ids:
        return {}
    first: dict[int, SurveyQuestion] = {}
    for q in await SurveyQuestion.filter(mailing_id__in=ids).order_by("-position"):
        first[q.mailing_id] = q  # type: ignore[attr-defined]
    return first


async def hand_over_due(
    *,
    unsubscribe_url: UnsubscribeUrl | None = None,
    survey_url: SurveyUrl | None = None,
    limit: int = BATCH,
) -> int:
    """Turn due recipients of running mailings into queued outbox messages; how many."""
    now = clock.now()
    ids = await claim(
        "mailing_recipients",
        "message_id IS NULL AND skipped = '' AND due_at <= {} AND mailing_id IN "
        "(SELECT id FROM mailings WHERE status = {})",
        [now, MailingStatus.SCHEDULED.value],
        lease_column="claimed_until",
        lease=LEASE,
        order_by="due_at, id",
        limit=limit,
        now=now,
    )
    if not ids:
        await _finish_done()
        return 0
    recipients = await MailingRecipient.filter(id__in=ids)
    mailings = {
        m.id: m
        for m in await Mailing.filter(id__in=list({r.mailing_id for r in recipients}))  # type: ignore[attr-defined]
    }
    reasons = await _reachable(recipients)
    who = {r.id: templates.Who(r.client_id, r.person_id) for r in recipients}  # type: ignore[attr-defined]
    texts = [t for m in mailings.values() for t in (m.text, m.subject, m.html)]
    values = await templates.values_for(who.values(), texts)
    first = await _first_questions(mailings)
    surveyed: dict[int, list[int]] = {}
    queued = 0
    for recipient in recipients:
        mailing = mailings[recipient.mailing_id]  # type: ignore[attr-defined]
        if recipient.id in reasons:
            await _skip(recipient, reasons[recipient.id])
            continue
        conversation = await _conversation(recipient)
        filled = values.get(who[recipient.id])
        if conversation is None or filled is None:
            await _skip(recipient, rules.NO_CHANNEL)
            continue
        meta = _meta(mailing, recipient, filled, unsubscribe_url)
        text = templates.render(mailing.text, filled)
        if mailing.kind == MailingKind.SURVEY:
            text = _survey(text, meta, recipient, first.get(mailing.id), survey_url)
            surveyed.setdefault(mailing.id, []).append(recipient.client_id)  # type: ignore[attr-defined]
        async with in_transaction():
            message = await Message.create(
                conversation=conversation,
                channel_id=recipient.channel_id,  # type: ignore[attr-defined]
                direction=Direction.OUT,
                text=text,
                attachments=_attachments(mailing),
                meta=meta,
                status=MessageStatus.QUEUED,
                author_id=mailing.created_by_id,  # type: ignore[attr-defined]
                next_attempt_at=clock.now(),
            )
            taken = await MailingRecipient.filter(id=recipient.id, message_id__isnull=True).update(
                message_id=message.id, claimed_until=None
            )
            if not taken:  # another worker did it after our lease ran out: ours goes
                await message.delete()
                continue
        queued += 1
    for mailing_id, client_ids in surveyed.items():
        await surveys.interactions_done(mailing_id, client_ids, clock.now())
    return queued


def is_mailing(message: Message) -> bool:
    return "mailing" in message.meta


@dataclass(frozen=True)
class TestTo:
    """Where "Send a test to me" goes: the acting user's own chat with the managers' bot
    (`manager_bot`: its token and API base, None when the bot is not configured) and their
    own email address; the heading is in `locale`."""

    email: str = ""
    telegram_chat: int | None = None
    manager_bot: ChannelConfig | None = None
    locale: str | None = None


NOWHERE_FOR_A_TEST = N_(
    "A test goes to your chat with the managers' bot or to your email: bind your account"
    " to the managers' bot, or connect a mailbox"
)
TEST_HEADING = N_("Test of the mailing «{name}»: customers have not got this message")


async def _test_values(actor: User, mailing: Mailing) -> dict[str, str]:
    """The placeholders filled in for the first client of the audience, or their names."""
    first = (await audience.client_ids(actor, Audience.from_json(mailing.audience or {})))[:1]
    texts = (mailing.text, mailing.subject, mailing.html)
    filled = (await templates.values_for([templates.Who(first[0])], texts)) if first else {}
    return next(iter(filled.values()), {name: name for name in templates.PLACEHOLDERS})


async def send_test(
    adapters: Adapters,
    mailing: Mailing,
    to: TestTo | str,
    *,
    actor: User | None = None,
    survey_url: SurveyUrl | None = None,
) -> list[str]:
    """The mailing, filled in for the first client of its audience (or with the
    placeholders' names), sent at once to its author alone: to their Telegram chat with the
    managers' bot (a survey's first question with its buttons, which answer nothing: the
    token is no recipient's) and to their email through the first active mailbox. Marked
    as a test, outside the outbox's queue and the mailing's results. The channels it went
    by; refused with the reason when there is neither."""
    if isinstance(to, str):
        to = TestTo(email=to)
    author = actor or await User.get(id=mailing.created_by_id)  # type: ignore[attr-defined]
    values = await _test_values(author, mailing)
    text = templates.render(mailing.text, values)
    first = None
    if mailing.kind == MailingKind.SURVEY:
        first = next(iter(await surveys.questions_of(mailing.id)), None)
    token = surveys.new_token()  # belongs to no recipient: a press is refused
    heading = gettext(TEST_HEADING, to.locale, name=mailing.name)
    sent: list[str] = []
    mailbox = await rules.mailbox() if to.email else None
    if (to.telegram_chat is None or to.manager_bot is None) and mailbox is None:
        raise ValidationFailed.field("test", NOWHERE_FOR_A_TEST)
    try:
        if to.telegram_chat is not None and to.manager_bot is not None:
            meta: dict[str, Any] = {}
            body = text
            if first is not None:
                body = f"{text}\n\n{first.text}".strip()
                meta = {"buttons": surveys.buttons(token, first)}
            bot = TelegramAdapter(to.manager_bot)
            try:
                await bot.send(
                    OutboundMessage(
                        message_id=-mailing.id,
                        external_user_id=str(to.telegram_chat),
                        text=f"{heading}\n\n{body}",
                        attachments=_test_attachments(mailing),
                        meta=meta,
                    )
                )
            finally:
                await bot.close()
            sent.append("telegram")
        if mailbox is not None:
            await _test_email(adapters, mailbox, mailing, to.email, values, text, first, token,
                              survey_url)  # fmt: skip
            sent.append("email")
    except SendError as exc:
        raise ValidationFailed.field(
            "test", N_("The test was not sent: {error}"), error=str(exc)
        ) from None
    return sent


def _test_attachments(mailing: Mailing) -> tuple[Attachment, ...]:
    if not mailing.attachment:
        return ()
    return (
        Attachment(
            kind="document",
            file_id="",
            name=str(mailing.attachment.get("name") or "file"),
            mime=str(mailing.attachment.get("mime") or ""),
            size=mailing.attachment.get("size"),
            extra={"content_b64": mailing.attachment.get("content_b64", "")},
        ),
    )


async def _test_email(
    adapters: Adapters,
    mailbox: Channel,
    mailing: Mailing,
    address: str,
    values: dict[str, str],
    text: str,
    first: SurveyQuestion | None,
    token: str,
    survey_url: SurveyUrl | None,
) -> None:
    meta: dict[str, Any] = {
        "in_reply_to": "",
        "subject": "[TEST] " + (templates.render(mailing.subject, values) or mailing.name),
    }
    if mailing.html:
        meta["html"] = templates.render(
            mailing.html, {k: html.escape(v) for k, v in values.items()}
        )
    if first is not None:
        fake = MailingRecipient(survey_token=token, address=address)
        text = _survey(text, meta, fake, first, survey_url)
    adapter = await adapters.get(mailbox)
    await adapter.send(
        OutboundMessage(
            message_id=-mailing.id,
            external_user_id=address,
            text=text,
            attachments=_test_attachments(mailing),
            meta=meta,
        )
    )

"""Answers to surveys: a button pressed, a link followed, or free text.

`answer` records a customer's answer given by a button's or link's data
(`crm.mailings.surveys.button_data`): a token nobody was given, a question the survey does
not have or an option it does not offer is refused (None) and nothing is stored. On a
messenger the pressing account must be the recipient's own (a forwarded button is no use to
anyone else). One answer per client and question: a second one replaces the first.

After a new answer the next question is queued in the recipient's conversation (with its
buttons), or a thank-you after the last one; a replaced answer sends nothing again.

`capture` looks at customers' new messages (called with the mailing replies, on both
intake paths): a VK keyboard's payload or a Viber reply button (`meta["button"]`) is an
answer by its data; any other message is the answer to the recipient's current question
when that is a free-text one, the message is in the survey's conversation and it came
within the mailing's "reply within" days of the survey reaching the customer. The message
stays in the inbox as usual either way. Without a survey started in the last 60 days this
costs no query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from crm import clock
from crm.conversations import queue_reply
from crm.kept import Kept
from crm.mailings import surveys
from crm.models import (
    ChannelIdentity,
    Mailing,
    MailingKind,
    MailingRecipient,
    MailingStatus,
    Message,
    QuestionKind,
    SurveyAnswer,
    SurveyQuestion,
)
from crm.rows import moment, query

LOOK_BACK = timedelta(days=60)
RECENT_TTL = 5.0
MAX_TEXT = 4000


@dataclass(frozen=True)
class Answered:
    recipient: MailingRecipient
    question: SurveyQuestion
    replaced: bool
    next_question: SurveyQuestion | None


async def _store(
    recipient: MailingRecipient, question: SurveyQuestion, option: int | None, text: str
) -> bool:
    """Store the answer; True when it replaced an earlier one."""
    values: dict[str, Any] = {
        "option": option,
        "text": text[:MAX_TEXT],
        "answered_at": clock.now(),
        "recipient_id": recipient.id,
    }
    client_id = recipient.client_id  # type: ignore[attr-defined]
    try:
        async with in_transaction():
            await SurveyAnswer.create(
                question_id=question.id,
                mailing_id=question.mailing_id,  # type: ignore[attr-defined]
                client_id=client_id,
                **values,
            )
        return False
    except IntegrityError:
        await SurveyAnswer.filter(question_id=question.id, client_id=client_id).update(**values)
        return True


async def _next(question: SurveyQuestion) -> SurveyQuestion | None:
    return (
        await SurveyQuestion.filter(
            mailing_id=question.mailing_id,  # type: ignore[attr-defined]
            position__gt=question.position,
        )
        .order_by("position")
        .first()
    )


async def _own(recipient: MailingRecipient, channel_id: int, external_id: str) -> bool:
    if recipient.channel_id != channel_id or recipient.identity_id is None:  # type: ignore[attr-defined]
        return False
    return await ChannelIdentity.filter(
        id=recipient.identity_id,  # type: ignore[attr-defined]
        external_id=external_id,
    ).exists()


async def answer(
    data: str,
    *,
    text: str = "",
    channel_id: int | None = None,
    external_id: str | None = None,
) -> Answered | None:
    """Record the answer that `data` names (`text` for a free-text question on the survey
    page); None when refused. `channel_id`/`external_id`: the messenger account that
    pressed the button, which must be the recipient's."""
    pressed = surveys.parse_data(data)
    if pressed is None:
        return None
    recipient = await MailingRecipient.filter(survey_token=pressed.token).first()
    if recipient is None:
        return None
    if channel_id is not None and not await _own(recipient, channel_id, external_id or ""):
        return None
    mailing = await Mailing.filter(id=recipient.mailing_id).first()  # type: ignore[attr-defined]
    if mailing is None or mailing.status == MailingStatus.CANCELLED:
        return None
    question = await SurveyQuestion.filter(mailing_id=mailing.id, position=pressed.position).first()
    if question is None:
        return None
    if question.kind == QuestionKind.CHOICE:
        if pressed.option is None or not 0 <= pressed.option < len(question.options):
            return None
        replaced = await _store(recipient, question, pressed.option, "")
    else:
        if pressed.option is not None or not text.strip():
            return None
        replaced = await _store(recipient, question, None, text.strip())
    return Answered(recipient, question, replaced, await _next(question))


async def send_next(answered: Answered) -> Message | None:
    """Queue the next question (or the thanks) in the recipient's conversation after a
    new answer on a messenger; nothing after a replaced answer, nor by email (the survey
    page shows the next question: a letter could not carry its links from here)."""
    recipient = answered.recipient
    if answered.replaced or recipient.identity_id is None:  # type: ignore[attr-defined]
        return None
    if recipient.message_id is None:  # type: ignore[attr-defined]
        return None
    sent = await Message.filter(id=recipient.message_id).first()  # type: ignore[attr-defined]
    if sent is None:
        return None
    following = answered.next_question
    meta: dict[str, Any]
    if following is None:
        text, meta = await surveys.thanks(), {"survey_done": True}
    else:
        text = following.text
        meta = {
            "survey": following.position,
            "buttons": surveys.buttons(recipient.survey_token or "", following),
        }
    return await queue_reply(
        sent.conversation_id,  # type: ignore[attr-defined]
        actor=None,
        text=text,
        meta=meta,
    )


async def current_question(recipient: MailingRecipient) -> SurveyQuestion | None:
    """The first question the recipient's client has not answered."""
    answered = await SurveyAnswer.filter(
        mailing_id=recipient.mailing_id,  # type: ignore[attr-defined]
        client_id=recipient.client_id,  # type: ignore[attr-defined]
    ).values_list("question_id", flat=True)
    return (
        await SurveyQuestion.filter(mailing_id=recipient.mailing_id)  # type: ignore[attr-defined]
        .exclude(id__in=list(answered))
        .order_by("position")
        .first()
    )


async def _read_recent(_: None) -> bool:
    return await Mailing.filter(
        kind=MailingKind.SURVEY, started_at__gte=clock.now() - LOOK_BACK
    ).exists()


_recent = Kept(_read_recent, ttl=RECENT_TTL, model=Mailing, changed_by=(Mailing,))


def forget_recent() -> None:
    _recent.forget()


def _when(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


async def _by_button(message: Message, data: str) -> None:
    """A VK payload's or Viber reply button's data, pressed by the message's sender."""
    pressed = surveys.parse_data(data)
    if pressed is None:
        return
    conversation = await message.conversation
    identity = await ChannelIdentity.filter(id=conversation.identity_id).first()  # type: ignore[attr-defined]
    if identity is None:
        return
    found = await answer(
        data,
        channel_id=message.channel_id,  # type: ignore[attr-defined]
        external_id=identity.external_id,
    )
    if found is None:
        return
    if message.text == data:  # Viber sends the button's data as the text: show the label
        label = str(found.question.options[pressed.option or 0])
        await Message.filter(id=message.id).update(text=label)
    await send_next(found)


async def capture(replies: Iterable[tuple[int, int]], *, now: datetime | None = None) -> int:
    """(client id, message id) of customers' new messages: the survey answers among them
    recorded (and the next questions queued). How many."""
    wanted = dict(replies)
    if not wanted or not await _recent.get(None):
        return 0
    at = now or clock.now()
    ids = sorted(wanted)
    marks = ", ".join(f"${n}" for n in range(3, len(ids) + 3))
    rows = await query(
        "SELECT r.id, r.client_id, m.conversation_id, m.sent_at, g.reply_days"
        " FROM mailing_recipients r JOIN messages m ON m.id = r.message_id"
        " JOIN mailings g ON g.id = r.mailing_id"
        f" WHERE g.kind = $1 AND r.client_id IN ({marks}) AND m.sent_at >= $2"
        " ORDER BY m.sent_at DESC",
        [MailingKind.SURVEY.value, moment(at - LOOK_BACK), *ids],
    )
    if not rows:
        return 0
    messages = {m.id: m for m in await Message.filter(id__in=[wanted[c] for c in ids])}
    done = 0
    for client_id in ids:
        message = messages.get(wanted[client_id])
        if message is None:
            continue
        if data := str(message.meta.get("button") or ""):
            await _by_button(message, data)
            done += 1
            continue
        for recipient_id, owner, conversation_id, sent_at, reply_days in rows:
            if int(owner) != client_id:
                continue
            if int(conversation_id) != message.conversation_id:  # type: ignore[attr-defined]
                continue
            if at - _when(sent_at) > timedelta(days=int(reply_days)):
                break
            recipient = await MailingRecipient.get(id=int(recipient_id))
            question = await current_question(recipient)
            if question is None or question.kind != QuestionKind.TEXT or not message.text:
                break
            data = surveys.button_data(recipient.survey_token or "", question.position, "t")
            found = await answer(data, text=message.text)
            if found is not None:
                await send_next(found)
                done += 1
            break
    return done

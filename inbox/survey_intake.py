"""Survey answers that reach the inbox as button presses (Telegram's callback_query).

A press names the answer by the button's data (`crm.mailings.surveys`); a forged token, a
press by another account than the recipient's, an option the question lacks are refused
and logged, nothing stored. An accepted new answer queues the next question (or the
thanks) in the survey's conversation; a redelivered press replaces the answer with itself
and sends nothing. VK's and Viber's presses arrive as the customer's messages and are
answered on the replies' path (`crm.mailings.survey_answers.capture`).

After an accepted press the answered question's buttons are taken off the bot's message
(editMessageReplyMarkup), so the customer sees the question answered and cannot press
again. That is a courtesy: when Telegram refuses or does not answer within EDIT_TIMEOUT the
answer stands all the same (a second press would only replace it with itself)."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.exceptions import AiogramError
from aiogram.utils.token import TokenValidationError

from crm.mailings import survey_answers
from crm.models import Channel, Direction, Message
from inbox.channels.base import ButtonPress
from inbox.channels.registry import config_of
from inbox.channels.telegram import TelegramAdapter

log = logging.getLogger(__name__)

EDIT_TIMEOUT = 5  # seconds: intake waits no longer for Telegram to drop the buttons
LOOK_AT = 50  # the conversation's latest outgoing messages searched for the question's


async def press(channel_id: int, event: ButtonPress) -> Message | None:
    """Record the press's answer; the next question's queued message, if any."""
    answered = await survey_answers.answer(
        event.data, channel_id=channel_id, external_id=event.external_user_id
    )
    if answered is None:
        log.info("refused a button press on channel %s", channel_id)
        return None
    await _drop_buttons(channel_id, answered)
    return await survey_answers.send_next(answered)


async def _asked_in(answered: survey_answers.Answered) -> Message | None:
    """The sent message that carried the answered question's buttons: the mailing's own
    message for the first question, a later one of the conversation for the others."""
    recipient = answered.recipient
    first_id = recipient.message_id  # type: ignore[attr-defined]
    if first_id is None:
        return None
    first = await Message.filter(id=first_id).first()
    if first is None:
        return None
    candidates = (
        await Message.filter(
            conversation_id=first.conversation_id,  # type: ignore[attr-defined]
            direction=Direction.OUT,
            id__gte=first_id,
            source_id__isnull=False,
        )
        .order_by("-id")
        .limit(LOOK_AT)
    )
    position = answered.question.position
    for message in candidates:
        meta: dict[str, Any] = message.meta or {}
        if meta.get("survey") == position and meta.get("buttons"):
            return message
    return None


async def _drop_buttons(channel_id: int, answered: survey_answers.Answered) -> None:
    message = await _asked_in(answered)
    if message is None or not message.source_id:
        return
    chat, _, message_id = message.source_id.partition(":")
    channel = await Channel.filter(id=channel_id).first()
    if channel is None or not message_id.isdigit():
        return
    adapter = TelegramAdapter(config_of(channel))
    try:
        await adapter.bot.edit_message_reply_markup(
            chat_id=chat,
            message_id=int(message_id),
            reply_markup=None,
            request_timeout=EDIT_TIMEOUT,
        )
    except (AiogramError, TokenValidationError) as exc:  # none left, too old, unreachable
        log.info("buttons of message %s kept: %r", message.id, exc)
    finally:
        await adapter.close()

"""Survey answers that reach the inbox as button presses (Telegram's callback_query).

A press names the answer by the button's data (`crm.mailings.surveys`); a forged token, a
press by another account than the recipient's, an option the question lacks are refused
and logged, nothing stored. An accepted new answer queues the next question (or the
thanks) in the survey's conversation; a redelivered press replaces the answer with itself
and sends nothing. VK's and Viber's presses arrive as the customer's messages and are
answered on the replies' path (`crm.mailings.survey_answers.capture`)."""

from __future__ import annotations

import logging

from crm.mailings import survey_answers
from crm.models import Message
from inbox.channels.base import ButtonPress

log = logging.getLogger(__name__)


async def press(channel_id: int, event: ButtonPress) -> Message | None:
    """Record the press's answer; the next question's queued message, if any."""
    answered = await survey_answers.answer(
        event.data, channel_id=channel_id, external_id=event.external_user_id
    )
    if answered is None:
        log.info("refused a button press on channel %s", channel_id)
        return None
    return await survey_answers.send_next(answered)

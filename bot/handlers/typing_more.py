"""The next part of what a manager just typed: Telegram sends a message over 4,096
characters as two (or more), moments apart. A note or a reply to a customer leaves the chat
in a `Typing.*_more` state for a few seconds (counted by Telegram's message dates, not our
clock); a plain message arriving within them joins the note or goes to the same customer.
Anything later, or anything else (a command, a reply to another card), is handled as usual:
the state is dropped and the message passes on (SkipHandler)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message

from bot.dialogs.states import Typing
from bot.replies import send_reply
from bot.views import Viewer
from crm import interactions

WINDOW = 5  # seconds between the parts of one split message


def stamp(message: Message) -> float:
    return message.date.timestamp() if isinstance(message.date, datetime) else 0.0


async def expect_more(
    state: FSMContext, message: Message, more: State, key: str, target: int
) -> None:
    """After a note or reply (`target`, kept under `key`): a part arriving within WINDOW,
    in state `more`, belongs to it."""
    await state.set_state(more)
    await state.set_data({key: target, "at": stamp(message)})


async def _part(message: Message, state: FSMContext, key: str) -> int:
    """The id the next part belongs to; otherwise the state is dropped and the message
    handled as if none was being typed."""
    data = await state.get_data()
    target = data.get(key)
    at = data.get("at")
    if (
        not isinstance(target, int)
        or not isinstance(at, int | float)
        or not 0 <= stamp(message) - at <= WINDOW
    ):
        await state.clear()
        raise SkipHandler()
    await state.update_data(at=stamp(message))
    return target


async def more_of_note(message: Message, viewer: Viewer, state: FSMContext) -> None:
    text = message.text or message.caption or ""
    if not text.strip():  # a sticker, a voice message: not the note's next part
        raise SkipHandler()
    note_id = await _part(message, state, "note_id")
    await interactions.add_to_note(note_id, text, actor=viewer.user)
    await viewer.say("📝 " + viewer._("Added to the note."))


async def more_of_reply(
    message: Message, viewer: Viewer, state: FSMContext, wake_outbox: Callable[[], None]
) -> None:
    conversation_id = await _part(message, state, "conversation_id")
    await send_reply(message, viewer, conversation_id, wake_outbox)


def router() -> Router:
    r = Router(name=__name__)
    plain = ~F.text.startswith("/") & ~F.reply_to_message
    r.message.register(more_of_note, StateFilter(Typing.note_more), plain)
    r.message.register(more_of_reply, StateFilter(Typing.reply_more), plain)
    return r

"""aiogram-dialog's message manager, with one change: a dialog opened from a card (a deal,
a reminder, a feed) leaves the card's own buttons alone. aiogram-dialog takes the message
a button was pressed on for the dialog's previous message and strips its keyboard when it
sends the dialog as a new message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiogram import Bot
from aiogram.types import Message
from aiogram_dialog.api.entities import OldMessage
from aiogram_dialog.manager.message_manager import MessageManager

_opened_from: ContextVar[int | None] = ContextVar("dialog_opened_from", default=None)


@contextmanager
def opened_from(message_id: int | None) -> Iterator[None]:
    """While a dialog starts, keep the keyboard of the card `message_id`."""
    token = _opened_from.set(message_id)
    try:
        yield
    finally:
        _opened_from.reset(token)


class CardSafeMessageManager(MessageManager):
    async def remove_inline_kbd(self, bot: Bot, old_message: OldMessage | None) -> Message | None:
        if old_message is not None and old_message.message_id == _opened_from.get():
            return None
        return await super().remove_inline_kbd(bot, old_message)

"""Bot API calls for the bot's own cards, whose answers it reads only in part.

Telegram answers sendMessage and the edits with the whole message (text, entities, the
keyboard), which aiogram parses into pydantic models: for a card that is a third of the
call's CPU. The bot never reads an edited card back, and of a sent one it needs only the ids.
These methods are aiogram's own (same fields, bot defaults and errors: a failed call still
raises TelegramBadRequest and the rest); only their answer is left as Telegram's JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.methods import EditMessageReplyMarkup, EditMessageText, SendMessage


class SendCard(SendMessage):
    """sendMessage answered with the sent message as JSON (see `Sent.of`)."""

    __returning__ = dict[str, Any]


class EditCard(EditMessageText):
    """editMessageText; the edited message is not parsed."""

    __returning__ = Any  # type: ignore[assignment]


class EditCardKeyboard(EditMessageReplyMarkup):
    """editMessageReplyMarkup; the edited message is not parsed."""

    __returning__ = Any  # type: ignore[assignment]


@dataclass(frozen=True)
class Sent:
    """A message the bot sent: where it is."""

    chat_id: int
    message_id: int

    @classmethod
    def of(cls, message: dict[str, Any]) -> Sent:
        return cls(chat_id=int(message["chat"]["id"]), message_id=int(message["message_id"]))

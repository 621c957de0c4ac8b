"""What nothing else took: a word we do not understand, a button with no handler."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.views import Viewer


async def unknown_message(message: Message, viewer: Viewer) -> None:
    await viewer.say(viewer._("I did not understand that. /help lists what I can do."))


async def unknown_button(query: CallbackQuery, viewer: Viewer) -> None:
    await query.answer(viewer.gettext("This button does nothing any more."))


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(unknown_message)
    r.callback_query.register(unknown_button)
    return r

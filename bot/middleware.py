"""Every update acts as the CRM user bound to the sender's Telegram account.

An unbound or deactivated account gets one polite refusal and nothing else; only
`/start <invite code>` passes through to be bound. Button presses are verified here (see
`bot.callbacks`): a forged or foreign button is refused before any handler runs.

The bound user is kept for USER_TTL seconds (`BoundUsers`), so a manager pressing buttons
costs no lookup each time; a deactivation, an unbinding or a role change made elsewhere (the
admin panel) applies within USER_TTL. The bot's own changes to the user forget it at once."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Chat, TelegramObject, Update
from aiogram.types import User as TelegramUser

from bot.callbacks import Signer, is_dialog_data
from bot.views import Viewer
from crm import manager_chat, users
from crm.i18n import N_, gettext, pick_locale
from crm.models import User

REFUSAL = N_("This bot is for the company's managers. Ask your administrator for an invite link.")
FORGED = N_("This button is not valid. Open the card again.")

USER_TTL = 2.0  # seconds a deactivation made elsewhere may take to refuse the manager

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class BoundUsers:
    """Active users by bound Telegram id, each re-read at most every `ttl` seconds.

    Only found users are kept (an invite just used binds at once, and strangers cannot
    grow the map); an entry is dropped when it expires or is `forget`-ed."""

    def __init__(self, ttl: float = USER_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._users: dict[int, tuple[float, User]] = {}

    async def get(self, telegram_id: int) -> User | None:
        now = self.clock()
        cached = self._users.get(telegram_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        user = await users.user_by_telegram(telegram_id)
        if user is None:
            self._users.pop(telegram_id, None)
        else:
            self._users[telegram_id] = (now + self.ttl, user)
        if len(self._users) > 1000:  # managers who stopped writing
            self._users = {k: v for k, v in self._users.items() if now < v[0]}
        return user

    def forget(self, telegram_id: int) -> None:
        """Read this user afresh next time (the bot changed them)."""
        self._users.pop(telegram_id, None)


def invite_code(update: Update) -> str | None:
    """The code of `/start CODE`, if that is what the update is."""
    message = update.message
    if message is None or not message.text:
        return None
    command, _, code = message.text.partition(" ")
    if command.split("@", 1)[0] != "/start":
        return None
    return code.strip() or None


async def refuse(update: Update, locale: str) -> None:
    text = gettext(REFUSAL, locale)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.message is not None:
        await update.message.answer(text, parse_mode=None)


class ActingUser(BaseMiddleware):
    """Puts `actor`, `locale`, `viewer` (and a verified `action`) and `bound_users` into
    the handlers' data."""

    def __init__(self, signer: Signer, bound_users: BoundUsers | None = None) -> None:
        self.signer = signer
        self.bound_users = bound_users or BoundUsers()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        sender: TelegramUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if sender is None or sender.is_bot or (chat is not None and chat.type != ChatType.PRIVATE):
            return None  # the managers' bot lives in private chats only
        data["bound_users"] = self.bound_users
        user = await self.bound_users.get(sender.id)
        if user is None:
            locale = pick_locale(sender.language_code)
            if invite_code(event) is not None:
                data.update(actor=None, locale=locale)
                return await handler(event, data)
            await refuse(event, locale)
            return None
        if user.telegram_blocked and event.my_chat_member is None:  # they are back
            await manager_chat.set_telegram_blocked(user.id, False)
            user.telegram_blocked = False
        viewer = Viewer(user, self.signer, data["bot"])
        data.update(actor=user, locale=viewer.locale, viewer=viewer)
        query = event.callback_query
        if query is not None and not is_dialog_data(query.data):
            action = self.signer.unpack(sender.id, query.data or "")
            if action is None:
                await _refuse_button(query, viewer)
                return None
            data["action"] = action
        return await handler(event, data)


async def _refuse_button(query: CallbackQuery, viewer: Viewer) -> None:
    await query.answer(viewer.gettext(FORGED), show_alert=True)

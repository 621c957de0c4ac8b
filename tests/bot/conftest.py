"""The managers' bot against the loopback Bot API fake: raw updates in through the
dispatcher, what the bot sent read back from the fake, the database checked.

`BotHarness` is one running bot (dispatcher + notifier) whose Telegram is `manager_api`;
customers write on a separate customer-facing bot whose Telegram is `customer_api`."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from bot.app import build_dispatcher, create_bot
from bot.callbacks import Signer
from bot.middleware import BoundUsers
from bot.notify import Notifier
from crm import channels, users
from crm.models import Channel, User
from inbox import events, hub
from inbox.channels.base import Attachment, InboundMessage
from inbox.service import Inbox
from tests.crm import factories
from tests.fakes.telegram_api import TelegramAPI

MANAGER_TOKEN = "7100000001:AAHmanagerBotTokenForTestsOnly_0001"
CUSTOMER_TOKEN = "7200000002:AAHcustomerBotTokenForTestsOnly_002"
SECRET_KEY = "test-secret-key-for-the-manager-bot"
_ids = itertools.count(1)


def tg_user(user_id: int, first_name: str = "Manager", language: str = "en") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language}


@dataclass
class Clock:
    """The monotonic clock of the bot's caches; tests move it explicitly."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class BotHarness:
    api: TelegramAPI
    bot: Bot
    dp: Dispatcher
    notifier: Notifier
    signer: Signer
    woken: list[int] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10_000))

    # -- updates in ----------------------------------------------------------------------

    async def feed(self, update: dict[str, Any]) -> None:
        update.setdefault("update_id", next(_ids))
        await self.dp.feed_raw_update(self.bot, update)
        await self.notifier.drain()

    def user_message(self, user_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "from": tg_user(user_id),
            "chat": {"id": user_id, "type": "private", "first_name": "Manager"},
            "date": int(time.time()),
            **content,
        }
        self.api.messages[(user_id, message["message_id"])] = message
        return message

    async def send(
        self,
        user_id: int,
        text: str | None = None,
        *,
        reply_to: dict[str, Any] | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        if text is not None:
            content["text"] = text
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self.user_message(user_id, **content)
        await self.feed({"message": message})
        return message

    async def press(
        self, user_id: int, message: dict[str, Any], label: str, *, exact: bool = False
    ) -> str:
        """Press the first button of `message` whose text contains (or is) `label`."""
        data = button_data(self.current(message), label, exact=exact)
        return await self.press_data(user_id, message, data)

    async def press_data(self, user_id: int, message: dict[str, Any], data: str) -> str:
        query_id = f"cbq-{next(_ids)}"
        current = self.api.messages.get((message["chat"]["id"], message["message_id"]), message)
        await self.feed(
            {
                "callback_query": {
                    "id": query_id,
                    "from": tg_user(user_id),
                    "message": current,
                    "chat_instance": f"ci-{user_id}",
                    "data": data,
                }
            }
        )
        return query_id

    # -- what the bot did ----------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Bot messages in the chat, current state (edits applied), oldest first."""
        return [
            self.api.messages[(chat_id, m["message_id"])]
            for m in self.api.delivered
            if m["chat"]["id"] == chat_id and (chat_id, m["message_id"]) in self.api.messages
        ]

    def last_to(self, chat_id: int) -> dict[str, Any]:
        found = self.sent_to(chat_id)
        assert found, f"the bot sent nothing to {chat_id}"
        return found[-1]

    def current(self, message: dict[str, Any]) -> dict[str, Any]:
        return self.api.messages[(message["chat"]["id"], message["message_id"])]

    def answer(self, query_id: str) -> dict[str, Any]:
        return self.api.answered_callbacks[query_id]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def button_data(message: dict[str, Any], label: str, *, exact: bool = False) -> str:
    for button in buttons(message):
        if (button["text"] == label) if exact else (label in button["text"]):
            return str(button["callback_data"])
    texts = [b["text"] for b in buttons(message)]
    raise AssertionError(f"no button {label!r} among {texts}")


@pytest.fixture
async def manager_api() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI(bot_username="crm_managers_bot") as fake:
        yield fake


@pytest.fixture
async def customer_api() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI(bot_username="shop_bot") as fake:
        yield fake


@pytest.fixture
async def harness(db: object, manager_api: TelegramAPI) -> AsyncIterator[BotHarness]:
    bot = create_bot(MANAGER_TOKEN, manager_api.base_url)
    signer = Signer(SECRET_KEY)
    notifier = Notifier(bot, signer)
    woken: list[int] = []
    clock = Clock()
    dp, _ = build_dispatcher(
        signer=signer,
        notifier=notifier,
        wake_outbox=lambda: woken.append(1),
        bound_users=BoundUsers(clock=clock),
    )
    unsubscribe = events.subscribe(notifier.on_event)
    try:
        yield BotHarness(manager_api, bot, dp, notifier, signer, woken, clock)
    finally:
        unsubscribe()
        await notifier.drain()
        await bot.session.close()


@pytest.fixture
async def inbox(db: object) -> AsyncIterator[Inbox]:
    running = Inbox()
    yield running
    await running.adapters.close()


@pytest.fixture
async def admin(db: object) -> User:
    return await factories.admin(locale="en")


async def bound_manager(telegram_id: int, **kw: Any) -> User:
    """A manager (English unless told) bound to `telegram_id` through an invite."""
    kw.setdefault("locale", "en")
    user = await factories.manager(**kw)
    invite = await users.create_invite(user.id, actor=None)
    return await users.bind_telegram(invite.code, telegram_id)


@pytest.fixture
async def shop(admin: User, customer_api: TelegramAPI) -> Channel:
    """A customer-facing Telegram bot everybody may see, with a scenario to accept into."""
    await factories.scenario(require_next_step=False)
    return await channels.create_channel(
        kind="telegram",
        name="Shop bot",
        credentials={"token": CUSTOMER_TOKEN},
        api_base=customer_api.base_url,
        actor=admin,
    )


async def customer_writes(
    channel: Channel,
    text: str,
    *,
    customer: int = 5551001,
    name: str = "Anna Smirnova",
    attachments: tuple[Attachment, ...] = (),
) -> hub.Outcome:
    """A customer message arriving on `channel`, as the intake would hand it to the hub."""
    return await hub.ingest(
        channel,
        InboundMessage(
            source_id=f"{customer}:{900_000 + next(_ids)}",  # clear of the bot's own ids
            external_user_id=str(customer),
            text=text,
            sent_at=datetime.now(UTC),
            profile_name=name,
            attachments=attachments,
        ),
    )

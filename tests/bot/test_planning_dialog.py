"""The planning dialog through aiogram-dialog's own test tools: `BotClient` feeds updates,
`MockMessageManager` records what the dialog shows; the rest of the bot talks to the fake
Bot API as usual."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiogram import Bot
from aiogram.types import Message
from aiogram_dialog.test_tools import BotClient, MockMessageManager
from aiogram_dialog.test_tools.keyboard import InlineButtonTextLocator

from bot.app import build_dispatcher, create_bot
from bot.callbacks import Signer
from bot.notify import Notifier
from crm import clock, deals
from crm.interactions import Plan, plan_interaction
from crm.models import Interaction, InteractionKind, InteractionState, Interest, User
from tests.bot.conftest import MANAGER_TOKEN, SECRET_KEY, bound_manager
from tests.crm import factories
from tests.fakes.telegram_api import TelegramAPI

ANNA = 660001
NOW = datetime(2026, 5, 12, 6, 0, tzinfo=UTC)  # 10:00 in Samara (UTC+4)


class Chat:
    def __init__(self, client: BotClient, messages: MockMessageManager, api: TelegramAPI):
        self.client, self.messages, self.api = client, messages, api

    def dialog(self) -> Message:
        return self.messages.last_message()

    async def click(self, text: str, message: Message | None = None) -> None:
        await self.client.click(message or self.dialog(), InlineButtonTextLocator(text))

    def bot_message(self) -> Message:
        """The last message the rest of the bot sent through the Bot API fake."""
        raw = self.api.delivered[-1]
        current = self.api.messages[(raw["chat"]["id"], raw["message_id"])]
        return Message.model_validate(current)


@pytest.fixture
async def chat(db: object, manager_api: TelegramAPI) -> AsyncIterator[Chat]:
    bot: Bot = create_bot(MANAGER_TOKEN, manager_api.base_url)
    signer = Signer(SECRET_KEY)
    messages = MockMessageManager()
    dp, _ = build_dispatcher(
        signer=signer,
        notifier=Notifier(bot, signer),
        wake_outbox=lambda: None,
        message_manager=messages,
    )
    yield Chat(BotClient(dp, user_id=ANNA, chat_id=ANNA, bot=bot), messages, manager_api)
    await bot.session.close()


async def manager_with_deal() -> tuple[User, Interest]:
    await factories.scenario("Sales", ("One", "Two"), require_next_step=True)
    anna = await bound_manager(ANNA, timezone="Europe/Samara")
    client = await factories.client(anna, name="Lotus", region="Приморский край")
    interest = await deals.create_interest(actor=anna, client_id=client.id, title="Kitchen")
    return anna, interest


async def open_planning(chat: Chat) -> None:
    """From /deals to the deal card's Plan button: the dialog asks for the kind."""
    await chat.client.send("/deals")
    await chat.click(r"1\. Kitchen", chat.bot_message())
    await chat.click(r"📅 Plan", chat.bot_message())


async def test_plan_from_the_deal_card_with_the_clients_time_beside(chat: Chat) -> None:
    with time_machine.travel(NOW, tick=True):
        anna, interest = await manager_with_deal()
        await open_planning(chat)

        shown = chat.dialog()
        assert shown.text is not None and "Plan an interaction with Lotus" in shown.text
        await chat.click(r".*Meeting")
        assert "choose the date" in (chat.dialog().text or "")
        await chat.click(r"13")
        times = [b.text for row in chat.dialog().reply_markup.inline_keyboard for b in row]  # type: ignore[union-attr]
        # Samara is UTC+4, the client's Primorye (Vladivostok) UTC+10: six hours ahead
        assert "10:00 · 👤 16:00" in times
        await chat.click(r"10:00 · 👤 16:00")
        await chat.client.send("Show the samples")
        await chat.client.send("Bring the catalogue & prices")
        summary = chat.dialog().text or ""
        assert "Show the samples" in summary and "client time 16:00" in summary
        await chat.click(r"✓ Save")

    planned = await Interaction.get(interest_id=interest.id, state=InteractionState.PLANNED)
    assert planned.kind == InteractionKind.MEETING
    assert planned.planned_at == datetime(2026, 5, 13, 10, 0, tzinfo=ZoneInfo("Europe/Samara"))
    assert planned.content == "Bring the catalogue & prices"
    assert planned.responsible_id == anna.id  # type: ignore[attr-defined]
    card = chat.bot_message()
    assert card.text is not None and "Next: 🤝 Meeting" in card.text


async def test_typed_time_and_going_back(chat: Chat) -> None:
    with time_machine.travel(NOW, tick=True):
        _, interest = await manager_with_deal()
        await open_planning(chat)
        await chat.click(r".*Call")
        await chat.click(r"« Back")
        await chat.click(r".*Task")
        await chat.click(r"20")
        await chat.client.send("25:99")  # explained in the dialog itself
        assert "There is no such time: “25:99”" in (chat.dialog().text or "")
        await chat.client.send("7.45")
        await chat.click(r"Skip »")
        await chat.click(r"Skip »")
        await chat.click(r"✓ Save")

    planned = await Interaction.get(interest_id=interest.id)
    assert planned.kind == InteractionKind.TASK
    assert planned.planned_at == datetime(2026, 5, 20, 7, 45, tzinfo=ZoneInfo("Europe/Samara"))


async def test_complete_and_plan_the_next_in_one_flow(chat: Chat) -> None:
    with time_machine.travel(NOW, tick=True):
        anna, interest = await manager_with_deal()
        call = await plan_interaction(
            Plan(kind="call", planned_at=clock.now() + timedelta(hours=1), subject="Intro call"),
            actor=anna,
            interest_id=interest.id,
        )
        await chat.client.send("/deals")
        await chat.click(r"1\. Kitchen", chat.bot_message())
        await chat.click(r"📜 Feed", chat.bot_message())
        feed = chat.bot_message()
        assert feed.text is not None and "Intro call" in feed.text
        await chat.click(r"✓ 1", feed)  # done: the scenario wants a next step, so plan it
        assert (await Interaction.get(id=call.id)).state == InteractionState.PLANNED
        assert "Marking done: Intro call" in (chat.dialog().text or "")
        await chat.click(r".*Email")
        await chat.click(r"14")
        await chat.click(r"12:00.*")
        await chat.click(r"Skip »")
        await chat.click(r"Skip »")
        await chat.click(r"✓ Save")

    assert (await Interaction.get(id=call.id)).state == InteractionState.DONE
    nxt = await Interaction.get(interest_id=interest.id, state=InteractionState.PLANNED)
    assert nxt.kind == InteractionKind.EMAIL

"""Binding a Telegram account with a one-time invite; everyone else is politely refused and
sees no data."""

from __future__ import annotations

from datetime import timedelta

from crm import users
from crm.models import Invite, User
from tests.bot.conftest import BotHarness, bound_manager
from tests.crm import factories

ANNA, BORIS, STRANGER = 610001, 610002, 610099
REFUSAL = "This bot is for the company's managers"


async def test_an_invite_binds_once_and_then_refuses(harness: BotHarness) -> None:
    anna = await factories.manager(full_name="Anna <Admin> & Co", locale="en")
    invite = await users.create_invite(anna.id, actor=None)

    await harness.send(ANNA, f"/start {invite.code}")

    greeting = harness.last_to(ANNA)["text"]
    assert "Hello, Anna <Admin> & Co! You are connected to the CRM." in greeting
    assert "/deals" in greeting
    assert (await User.get(id=anna.id)).telegram_user_id == ANNA
    assert (await Invite.get(id=invite.id)).used_at is not None

    await harness.send(BORIS, f"/start {invite.code}")
    assert "unknown, used or expired" in harness.last_to(BORIS)["text"]
    assert await User.filter(telegram_user_id=BORIS).count() == 0


async def test_an_expired_invite_is_refused(harness: BotHarness) -> None:
    anna = await factories.manager(locale="en")
    invite = await users.create_invite(anna.id, actor=None, ttl=timedelta(seconds=-1))
    await harness.send(ANNA, f"/start {invite.code}")
    assert "unknown, used or expired" in harness.last_to(ANNA)["text"]
    assert (await User.get(id=anna.id)).telegram_user_id is None


async def test_strangers_get_a_refusal_and_no_data(harness: BotHarness) -> None:
    await bound_manager(ANNA)
    for command in ("/start", "/deals", "/today", "/inbox", "/client Ромашка", "hello"):
        await harness.send(STRANGER, command)
    texts = [m["text"] for m in harness.sent_to(STRANGER)]
    assert len(texts) == 6
    assert all(text.startswith(REFUSAL) for text in texts)

    query = await harness.press_data(STRANGER, harness.user_message(STRANGER, text="x"), "do|1|x")
    assert harness.answer(query)["text"].startswith(REFUSAL)
    assert harness.answer(query)["show_alert"] is True


async def test_a_deactivated_manager_is_refused(harness: BotHarness, admin: User) -> None:
    anna = await bound_manager(ANNA)
    await users.deactivate_user(anna.id, actor=admin)
    await harness.send(ANNA, "/deals")
    assert harness.last_to(ANNA)["text"].startswith(REFUSAL)


async def test_a_bound_manager_gets_help(harness: BotHarness) -> None:
    await bound_manager(ANNA, full_name="Anna")
    await harness.send(ANNA, "/start")
    assert harness.last_to(ANNA)["text"].startswith("Hello, Anna!")
    await harness.send(ANNA, "/help")
    assert "/today" in harness.last_to(ANNA)["text"]


async def test_the_language_switch(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    await harness.send(ANNA, "/lang")
    await harness.press(ANNA, harness.last_to(ANNA), "Русский")
    assert (await User.get(id=anna.id)).locale == "ru"
    await harness.press(ANNA, harness.sent_to(ANNA)[-2], "English")
    assert (await User.get(id=anna.id)).locale == "en"

"""Binding a Telegram account with a one-time invite; everyone else is politely refused and
sees no data."""

from __future__ import annotations

from datetime import timedelta

from bot.middleware import USER_TTL
from crm import users
from crm.models import Invite, Role, User
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


async def test_a_manager_deactivated_while_using_the_bot_is_refused_within_seconds(
    harness: BotHarness, admin: User
) -> None:
    anna = await bound_manager(ANNA)
    await harness.send(ANNA, "/deals")
    assert harness.last_to(ANNA)["text"].startswith("📂")

    await users.deactivate_user(anna.id, actor=admin)  # in the admin panel
    harness.clock.advance(USER_TTL / 2)
    await harness.send(ANNA, "/deals")  # still the kept account, for at most USER_TTL
    assert harness.last_to(ANNA)["text"].startswith("📂")
    harness.clock.advance(USER_TTL / 2)
    await harness.send(ANNA, "/deals")
    assert harness.last_to(ANNA)["text"].startswith(REFUSAL)
    query = await harness.press_data(ANNA, harness.user_message(ANNA, text="x"), "do|1|x")
    assert harness.answer(query)["text"].startswith(REFUSAL)


async def test_an_account_unbound_elsewhere_is_refused_after_the_ttl(
    harness: BotHarness, admin: User
) -> None:
    anna = await bound_manager(ANNA)
    await harness.send(ANNA, "/help")
    await User.filter(id=anna.id).update(telegram_user_id=None)  # another process unbinds
    harness.clock.advance(USER_TTL)
    await harness.send(ANNA, "/help")
    assert harness.last_to(ANNA)["text"].startswith(REFUSAL)


async def test_a_role_change_applies_after_the_ttl(harness: BotHarness, admin: User) -> None:
    anna = await bound_manager(ANNA)
    boris = await bound_manager(BORIS)
    theirs = await factories.client(boris, name="Boris's client")
    await harness.send(ANNA, "/client Boris")
    assert "Boris's client" not in harness.last_to(ANNA)["text"]
    await users.update_user(anna.id, {"role": Role.ADMIN}, actor=admin)
    harness.clock.advance(USER_TTL)
    await harness.send(ANNA, "/client Boris")
    assert theirs.name in harness.last_to(ANNA)["text"]


async def test_a_bound_manager_gets_help(harness: BotHarness) -> None:
    await bound_manager(ANNA, full_name="Anna")
    await harness.send(ANNA, "/start")
    assert harness.last_to(ANNA)["text"].startswith("Hello, Anna!")
    await harness.send(ANNA, "/help")
    assert "/today" in harness.last_to(ANNA)["text"]


async def test_the_language_switch(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    await harness.send(ANNA, "/lang")
    card = harness.last_to(ANNA)
    await harness.press(ANNA, card, "Русский")
    assert (await User.get(id=anna.id)).locale == "ru"
    await harness.send(ANNA, "/help")  # in Russian at once, though the account is kept
    assert harness.last_to(ANNA)["text"].startswith("Команды:")
    await harness.press(ANNA, card, "English")
    assert (await User.get(id=anna.id)).locale == "en"

"""The deal card gives a deal its amount and a new name (typed, validated, shown per
locale), marks an overdue next step; /client tells namesakes apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine

from crm import deals
from crm.interactions import Plan, plan_interaction
from crm.models import Interest, User
from tests.bot.conftest import BotHarness, bound_manager, buttons
from tests.crm import factories

ANNA = 690001
NOW = datetime(2026, 5, 12, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
NBSP = "\u00a0"


async def deal_of(anna: User) -> Interest:
    await factories.scenario("Sales", ("One", "Two"), require_next_step=False)
    client = await factories.client(anna, name="Lotus")
    return await deals.create_interest(actor=anna, client_id=client.id, title="Kitchen")


async def open_card(harness: BotHarness) -> dict[str, object]:
    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "1. Kitchen")
    return harness.last_to(ANNA)


async def test_the_amount_is_typed_validated_and_shown_per_locale(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    interest = await deal_of(anna)
    card = await open_card(harness)
    await harness.press(ANNA, card, "💰 Amount")
    assert "“Kitchen” has no amount yet." in harness.last_to(ANNA)["text"]

    await harness.send(ANNA, "a lot")
    assert "That is not an amount" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "100 000 000 000 000")
    assert "Not an amount of money" in harness.last_to(ANNA)["text"]
    assert (await Interest.get(id=interest.id)).amount is None

    await harness.send(ANNA, "81,700")
    shown = harness.last_to(ANNA)
    assert shown["text"].startswith("📂 Kitchen")  # the card again, with its amount
    assert f"💰 RUB{NBSP}81,700.00" in shown["text"]
    assert (await Interest.get(id=interest.id)).amount == Decimal("81700.00")
    await harness.send(ANNA, "90 000")  # no longer typing an amount
    assert (await Interest.get(id=interest.id)).amount == Decimal("81700.00")

    await harness.send(ANNA, "/lang")
    await harness.press(ANNA, harness.last_to(ANNA), "Русский")
    card = await open_card(harness)
    await harness.press(ANNA, card, "💰 Сумма")
    assert f"81{NBSP}700,00{NBSP}₽" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "81 700,50")
    assert f"💰 81{NBSP}700,50{NBSP}₽" in harness.last_to(ANNA)["text"]
    assert (await Interest.get(id=interest.id)).amount == Decimal("81700.50")


async def test_a_deal_is_renamed_and_a_rename_can_be_cancelled(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    interest = await deal_of(anna)
    card = await open_card(harness)
    await harness.press(ANNA, card, "✏️ Rename")
    assert "Send the new name of “Kitchen”" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "Kitchen & hall <oak>")
    shown = harness.last_to(ANNA)
    assert shown["text"].startswith("📂 Kitchen & hall <oak>")
    sent = harness.api.calls_to("sendMessage")[-1].params["text"]
    assert "Kitchen &amp; hall &lt;oak&gt;" in sent  # escaped on the way
    assert (await Interest.get(id=interest.id)).title == "Kitchen & hall <oak>"

    await harness.press(ANNA, shown, "✏️ Rename")
    await harness.send(ANNA, "/cancel")
    assert "Cancelled." in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "Something else")
    assert (await Interest.get(id=interest.id)).title == "Kitchen & hall <oak>"


async def test_an_overdue_next_step_is_marked(harness: BotHarness) -> None:
    with time_machine.travel(NOW, tick=True):
        anna = await bound_manager(ANNA)
        interest = await deal_of(anna)
        await plan_interaction(
            Plan(kind="call", planned_at=NOW - timedelta(hours=2), subject="Price"),
            actor=anna,
            interest_id=interest.id,
        )
        text = str((await open_card(harness))["text"])
        assert "⏰ Overdue: 📞 Call" in text and "Price" in text and "Next:" not in text

    with time_machine.travel(NOW - timedelta(hours=3), tick=True):  # before it was due
        text = str((await open_card(harness))["text"])
        assert "📅 Next: 📞 Call" in text and "Overdue" not in text


async def test_client_results_tell_namesakes_apart(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    await factories.client(
        anna, name="Ivan Petrov", phones=["+7 912 345-67-89"], region="Приморский край"
    )
    await factories.client(anna, name="Ivan Petrov", phones=["8 916 123 45 67"], region="Татарстан")
    await factories.client(anna, name="Ivan Petrovich")

    await harness.send(ANNA, "/client petrov")
    listing = harness.last_to(ANNA)
    lines = listing["text"].splitlines()
    assert "1. Ivan Petrov · 📞 +7 912 345-67-89 · 📍 Приморский край" in lines
    assert "2. Ivan Petrov · 📞 +7 916 123-45-67 · 📍 Татарстан" in lines
    assert "3. Ivan Petrovich" in lines
    labels = [b["text"] for b in buttons(listing)]
    assert labels == [
        "1. Ivan Petrov · Приморский край",
        "2. Ivan Petrov · Татарстан",
        "3. Ivan Petrovich",
    ]
    await harness.press(ANNA, listing, "2. Ivan Petrov")
    assert "+79161234567" in harness.last_to(ANNA)["text"]

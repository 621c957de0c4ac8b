"""Closing a deal: Won is confirmed, closing asks what becomes of the planned
interactions (cancelled by default when lost), nothing of a closed deal nags, a closed
deal reopens from its card, and old buttons of a deal closed since are refused at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from crm import clock, deals, inquiries, scenarios
from crm.interactions import Plan, plan_interaction
from crm.models import (
    Channel,
    Interaction,
    InteractionState,
    Interest,
    InterestStatus,
    Reason,
    ReasonKind,
    Scenario,
    User,
)
from tests.bot.conftest import (
    BotHarness,
    bound_manager,
    button_data,
    buttons,
    customer_writes,
)
from tests.crm import factories

ANNA, BORIS = 670001, 670002
T0 = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # 10:00 in Moscow


@pytest.fixture
async def sales(db: object) -> Scenario:
    return await factories.scenario("Sales", ("First", "Second", "Third"))


@pytest.fixture
async def too_expensive(admin: User) -> Reason:
    return await scenarios.add_reason(ReasonKind.LOSS, "Too expensive", actor=admin)


async def deal_with_call(manager: User, title: str, *, hours: float = 1) -> Interest:
    client = await factories.client(manager, name=f"{title} client")
    interest = await deals.create_interest(actor=manager, client_id=client.id, title=title)
    await plan_interaction(
        Plan(kind="call", planned_at=clock.now() + timedelta(hours=hours), subject=f"{title} call"),
        actor=manager,
        interest_id=interest.id,
    )
    return interest


async def open_card(harness: BotHarness, chat: int, title: str) -> dict[str, object]:
    await harness.send(chat, "/deals")
    await harness.press(chat, harness.last_to(chat), title)
    return harness.last_to(chat)


def labels(message: dict[str, object]) -> list[str]:
    return [b["text"] for b in buttons(message)]  # type: ignore[arg-type]


async def test_won_is_confirmed_and_a_closed_deal_reopens(
    harness: BotHarness, sales: Scenario
) -> None:
    anna = await bound_manager(ANNA)
    interest = await deal_with_call(anna, "Sofa", hours=48)
    card = await open_card(harness, ANNA, "Sofa")

    query = await harness.press(ANNA, card, "Won")
    assert harness.answer(query)["text"] == "Close the deal as won?"
    assert (await Interest.get(id=interest.id)).status == InterestStatus.OPEN
    assert labels(harness.current(card)) == [
        "🏆 Won, keep 1 planned",
        "🏆 Won, cancel 1 planned",
        "« Back",
    ]
    await harness.press(ANNA, card, "Won, keep 1 planned")
    assert (await Interest.get(id=interest.id)).status == InterestStatus.WON
    assert (await Interaction.get(interest_id=interest.id)).state == InteractionState.PLANNED
    closed = harness.current(card)
    assert "🏆 Won" in closed["text"]
    assert "↩️ Reopen" in labels(closed) and "🏆 Won" not in labels(closed)

    await harness.press(ANNA, closed, "Reopen")
    assert (await Interest.get(id=interest.id)).status == InterestStatus.OPEN
    assert "🏆 Won" in labels(harness.current(card))

    plain = await deals.create_interest(
        actor=anna,
        client_id=interest.client_id,
        title="Chair",  # type: ignore[attr-defined]
    )
    chair = await open_card(harness, ANNA, "Chair")
    await harness.press(ANNA, chair, "Won")
    assert labels(harness.current(chair)) == ["🏆 Yes, it is won", "« Back"]
    await harness.press(ANNA, chair, "Yes, it is won")
    assert (await Interest.get(id=plain.id)).status == InterestStatus.WON


async def test_lost_cancels_its_plans_by_default_and_nothing_of_a_closed_deal_nags(
    harness: BotHarness, sales: Scenario, too_expensive: Reason
) -> None:
    with time_machine.travel(T0, tick=False):
        anna = await bound_manager(ANNA)
        lost = await deal_with_call(anna, "Lost deal")
        kept = await deal_with_call(anna, "Kept deal")
        live = await deal_with_call(anna, "Live deal")

        card = await open_card(harness, ANNA, "Lost deal")
        await harness.press(ANNA, card, "Lost")
        await harness.press(ANNA, card, "Too expensive")
        assert labels(harness.current(card)) == [
            "❌ Lost, cancel 1 planned",
            "❌ Lost, keep 1 planned",
            "« Back",
        ]
        await harness.press(ANNA, card, "Lost, cancel 1 planned")
        assert (await Interest.get(id=lost.id)).status == InterestStatus.LOST
        assert (await Interaction.get(interest_id=lost.id)).state == InteractionState.CANCELLED

        card = await open_card(harness, ANNA, "Kept deal")
        await harness.press(ANNA, card, "Won")
        await harness.press(ANNA, card, "Won, keep 1 planned")
        assert (await Interaction.get(interest_id=kept.id)).state == InteractionState.PLANNED

    later = T0 + timedelta(hours=3)  # every call is two hours overdue
    with time_machine.travel(later, tick=False):
        sent = await harness.notifier.deliver_due_reminders_once(now=later)
        assert sent == 1
        assert "Live deal call" in harness.last_to(ANNA)["text"]
        assert await harness.notifier.nag_overdue_once(now=later) == 1
        assert "Live deal call" in harness.last_to(ANNA)["text"]
        await harness.send(ANNA, "/today")
        today = harness.last_to(ANNA)["text"]
        assert "Live deal call" in today
        assert "Kept deal call" not in today and "Lost deal call" not in today
    texts = [m["text"] for m in harness.sent_to(ANNA)]
    assert not any("⏰" in t and "Kept deal call" in t for t in texts)
    assert live.status == InterestStatus.OPEN


async def test_old_buttons_of_a_deal_closed_since_are_refused_at_the_first_press(
    harness: BotHarness, sales: Scenario, too_expensive: Reason
) -> None:
    anna = await bound_manager(ANNA)
    interest = await deal_with_call(anna, "Sofa", hours=48)
    card = await open_card(harness, ANNA, "Sofa")
    stale = dict(harness.current(card))
    await deals.lose(interest.id, too_expensive.id, actor=anna)  # from the web, say

    for label in ("Lost", "Stage…", "Won", "Second"):
        query = await harness.press_data(ANNA, stale, button_data(stale, label))
        assert harness.answer(query)["text"] == "This deal is already closed."
        assert harness.answer(query)["show_alert"] is True
        now = harness.current(card)
        assert "Lost: Too expensive" in now["text"]
        assert labels(now)[0] == "↩️ Reopen", "the card is put back as it is now"


async def test_a_stale_inbox_entry_says_who_took_the_inquiry(
    harness: BotHarness, shop: Channel
) -> None:
    await bound_manager(ANNA, full_name="Anna")
    boris = await bound_manager(BORIS, full_name="Boris")
    await customer_writes(shop, "Do you deliver?")
    await harness.notifier.drain()
    await harness.send(ANNA, "/inbox")
    listing = harness.last_to(ANNA)
    inquiry = (await inquiries.open_inquiries(boris))[0]
    await inquiries.accept_inquiry(inquiry.id, actor=boris)

    query = await harness.press(ANNA, listing, "1.")
    assert harness.answer(query)["text"] == "Boris has already taken this inquiry"


async def test_without_loss_reasons_lost_still_closes_the_deal(
    harness: BotHarness, sales: Scenario
) -> None:
    anna = await bound_manager(ANNA)
    interest = await deal_with_call(anna, "Sofa", hours=48)
    card = await open_card(harness, ANNA, "Sofa")
    await harness.press(ANNA, card, "Lost")
    assert labels(harness.current(card)) == ["❌ Lost without a reason", "« Back"]
    await harness.press(ANNA, card, "Lost without a reason")
    await harness.press(ANNA, card, "Lost, cancel 1 planned")
    lost = await Interest.get(id=interest.id)
    assert lost.status == InterestStatus.LOST and lost.loss_reason_id is None  # type: ignore[attr-defined]
    assert "❌ Lost" in harness.current(card)["text"]

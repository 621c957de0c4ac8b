"""`/deals` and the deal card: stages, won/lost, and the "always plan the next step" loop:
a stage move the scenario refuses opens the planning dialog, and once the step is planned
the deal moves."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from crm import deals, scenarios
from crm.interactions import Plan, plan_interaction
from crm.models import (
    Interaction,
    InteractionKind,
    InteractionState,
    Interest,
    InterestStatus,
    ReasonKind,
    Scenario,
    StageChange,
    User,
)
from tests.bot.conftest import BotHarness, bound_manager, button_data, buttons
from tests.crm import factories

ANNA = 640001
MARCH_10 = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # 10:00 in Moscow


@pytest.fixture
async def sales(db: object) -> Scenario:
    return await factories.scenario(
        "Sales", ("Qualification", "Offer", "Contract"), require_next_step=True
    )


async def deal_of(manager: User, title: str = "Sofa for the office", **kw: object) -> Interest:
    client = await factories.client(manager, name=kw.pop("client", "Romashka LLC"))
    return await deals.create_interest(actor=manager, client_id=client.id, title=title, **kw)


async def test_deals_are_grouped_by_stage_and_paginated(
    harness: BotHarness, sales: Scenario
) -> None:
    anna = await bound_manager(ANNA)
    stages = await scenarios.stages_of(sales.id)
    for n in range(10):
        interest = await deal_of(anna, f"Deal {n}", client=f"Client {n}", amount=1000 * n)
        if n % 2:
            await deals.update_interest(interest.id, {"title": f"Deal {n} (offer)"}, actor=anna)
            await plan_call(anna, interest)
            await deals.move_stage(interest.id, stages[1].id, actor=anna)

    await harness.send(ANNA, "/deals")
    page = harness.last_to(ANNA)
    text = page["text"]
    assert "My deals: 10" in text
    assert text.index("Qualification") < text.index("Offer")
    labels = [b["text"] for b in buttons(page)]
    assert labels == [
        "1. Deal 8",
        "2. Deal 6",
        "3. Deal 4",
        "4. Deal 2",
        "5. Deal 0",
        "6. Deal 9 (offer)",
        "7. Deal 7 (offer)",
        "8. Deal 5 (offer)",
        "1/2",
        "»",
    ]

    await harness.press(ANNA, page, "»", exact=True)
    second = harness.current(page)
    assert [b["text"] for b in buttons(second)] == [
        "9. Deal 3 (offer)",
        "10. Deal 1 (offer)",
        "«",
        "2/2",
    ]
    assert "Offer" in second["text"] and "Qualification" not in second["text"]


async def plan_call(manager: User, interest: Interest) -> None:
    await plan_interaction(
        Plan(kind="call", planned_at=datetime(2031, 1, 1, tzinfo=UTC)),
        actor=manager,
        interest_id=interest.id,
    )


async def test_a_stage_move_opens_the_planning_dialog_until_a_step_is_planned(
    harness: BotHarness, sales: Scenario
) -> None:
    with time_machine.travel(MARCH_10, tick=True):
        anna = await bound_manager(ANNA)
        interest = await deal_of(anna, amount=Decimal("125000"))
        await harness.send(ANNA, "/deals")
        await harness.press(ANNA, harness.last_to(ANNA), "Sofa for the office")
        card = harness.last_to(ANNA)
        assert "Stage: Qualification (1 of 3)" in card["text"]
        assert "No next step planned" in card["text"]
        assert "RUB\u00a0125,000.00" in card["text"]  # not "RUB125,000.00"

        query = await harness.press(ANNA, card, "Offer")
        assert "Plan the next interaction first" in harness.answer(query).get("text", "")
        dialog = harness.last_to(ANNA)
        assert dialog["message_id"] != card["message_id"]
        assert "Plan the next interaction first" in dialog["text"]
        assert buttons(harness.current(card)), "the deal card keeps its buttons"
        assert (await Interest.get(id=interest.id)).stage_id == (  # type: ignore[attr-defined]
            await scenarios.stages_of(sales.id)
        )[0].id

        await harness.press(ANNA, dialog, "Call")
        assert "choose the date" in harness.current(dialog)["text"]
        assert "March 2026" in str(harness.current(dialog)["reply_markup"])
        await harness.press(ANNA, dialog, "11", exact=True)
        assert "choose the time" in harness.current(dialog)["text"]
        await harness.press(ANNA, dialog, "15:00", exact=True)
        assert "subject" in harness.current(dialog)["text"]
        await harness.send(ANNA, "Discuss the <offer> & price")
        details = harness.last_to(ANNA)
        assert "details" in details["text"]
        await harness.press(ANNA, details, "Skip")
        assert "Save it?" in harness.current(details)["text"]
        assert "Discuss the <offer> & price" in harness.current(details)["text"]
        await harness.press(ANNA, details, "Save")

    planned = await Interaction.get(interest_id=interest.id)
    assert planned.state == InteractionState.PLANNED and planned.kind == InteractionKind.CALL
    assert planned.planned_at == datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # 15:00 Moscow
    assert planned.subject == "Discuss the <offer> & price"
    moved = await Interest.get(id=interest.id).prefetch_related("stage")
    assert moved.stage.name == "Offer"
    assert await StageChange.filter(interest_id=interest.id).count() == 2
    assert "Planned: Call" in harness.current(details)["text"]
    final = harness.last_to(ANNA)
    assert "Stage: Offer (2 of 3)" in final["text"]
    assert "Discuss the &lt;offer&gt;" not in final["text"]  # shown as text, not markup
    assert "Discuss the <offer> & price" in final["text"]


async def test_won_and_lost_from_the_card(
    harness: BotHarness, sales: Scenario, admin: User
) -> None:
    await scenarios.add_reason(ReasonKind.LOSS, "Too expensive", actor=admin)
    anna = await bound_manager(ANNA)
    first = await deal_of(anna, "First")
    second = await deal_of(anna, "Second", client="Lotus")

    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "First")
    card = harness.last_to(ANNA)
    await harness.press(ANNA, card, "Won")
    assert (await Interest.get(id=first.id)).status == InterestStatus.OPEN  # confirmed first
    await harness.press(ANNA, harness.current(card), "Yes, it is won")
    assert (await Interest.get(id=first.id)).status == InterestStatus.WON
    assert "🏆 Won" in harness.current(card)["text"]

    await harness.press(ANNA, harness.current(card), "My deals")
    await harness.press(ANNA, harness.current(card), "Second")
    await harness.press(ANNA, harness.current(card), "Lost")
    await harness.press(ANNA, harness.current(card), "Too expensive")
    lost = await Interest.get(id=second.id).prefetch_related("loss_reason")
    assert lost.status == InterestStatus.LOST and lost.loss_reason.text == "Too expensive"
    assert "Lost: Too expensive" in harness.current(card)["text"]


async def test_a_manager_cannot_open_a_deal_of_someone_else(
    harness: BotHarness, sales: Scenario
) -> None:
    anna = await bound_manager(ANNA)
    boris = await bound_manager(ANNA + 1)
    theirs = await deal_of(boris, "Boris's deal")
    # a correctly signed button naming Boris's deal, as if Anna had made one up
    data = harness.signer.pack(ANNA, "do", theirs.id)
    query = await harness.press_data(ANNA, harness.user_message(ANNA, text="x"), data)
    assert harness.answer(query)["text"] == "Not found"
    assert all("Boris's deal" not in m["text"] for m in harness.sent_to(ANNA))
    assert anna.id != boris.id
    # nor its feed, read side by side with the access check: nothing of it is shown
    await plan_interaction(
        Plan(kind="call", planned_at=datetime(2031, 1, 5, 10, tzinfo=UTC), subject="Secret call"),
        actor=boris,
        interest_id=theirs.id,
    )
    sent_before = len(harness.sent_to(ANNA))
    feed = harness.signer.pack(ANNA, "fd", theirs.id, 0, "-", 0, 0)
    query = await harness.press_data(ANNA, harness.user_message(ANNA, text="x"), feed)
    assert harness.answer(query)["text"] == "Not found"
    assert len(harness.sent_to(ANNA)) == sent_before
    assert all("Secret call" not in m["text"] for m in harness.sent_to(ANNA))


async def test_cancel_closes_the_dialog_and_its_buttons_say_they_are_outdated(
    harness: BotHarness, sales: Scenario
) -> None:
    anna = await bound_manager(ANNA)
    await deal_of(anna)
    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "Sofa")
    await harness.press(ANNA, harness.last_to(ANNA), "Plan")
    dialog = harness.last_to(ANNA)
    assert "What kind of interaction?" in dialog["text"]

    await harness.send(ANNA, "/cancel")
    assert harness.last_to(ANNA)["text"] == "Cancelled."
    query = await harness.press_data(ANNA, dialog, button_data(dialog, "Call"))
    assert harness.answer(query)["text"] == "This menu is outdated. Open it again."
    assert not await Interaction.exists()

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from crm import clock, deals, interactions, scenarios
from crm.errors import Conflict, NextStepRequired, ValidationFailed
from crm.interactions import Plan
from crm.models import Interaction, InteractionState
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _deal(require_next_step: bool = True, allow_past: bool = True):  # type: ignore[no-untyped-def]
    manager = await f.manager()
    await f.scenario(require_next_step=require_next_step, allow_past_planning=allow_past)
    client = await f.client(manager)
    interest = await deals.create_interest(actor=manager, client_id=client.id, title="Поставка")
    return manager, client, interest


@time_machine.travel(T0, tick=False)
async def test_feed_planned_first_soonest_then_done_newest() -> None:
    manager, client, interest = await _deal(require_next_step=False)
    later = await interactions.plan_interaction(
        Plan("meeting", T0 + timedelta(days=3), "Встреча"), actor=manager, interest_id=interest.id
    )
    sooner = await interactions.plan_interaction(
        Plan("call", T0 + timedelta(days=1), "Звонок"), actor=manager, interest_id=interest.id
    )
    old = await interactions.record_done(
        actor=manager,
        kind="note",
        client_id=client.id,
        interest_id=interest.id,
        at=T0 - timedelta(days=2),
        content="Первый контакт",
    )
    new = await interactions.record_done(
        actor=manager,
        kind="email",
        client_id=client.id,
        interest_id=interest.id,
        at=T0 - timedelta(hours=1),
    )
    client_level = await interactions.record_done(actor=manager, kind="call", client_id=client.id)
    cancelled = await interactions.plan_interaction(
        Plan("sms", T0 + timedelta(days=2)), actor=manager, interest_id=interest.id
    )
    await interactions.cancel_interaction(cancelled.id, actor=manager)
    feed = await interactions.interest_feed(interest.id, actor=manager)
    assert [i.id for i in feed] == [sooner.id, later.id, cancelled.id, new.id, old.id]
    only_calls = await interactions.interest_feed(interest.id, actor=manager, kinds=["call"])
    assert [i.id for i in only_calls] == [sooner.id]
    whole = await interactions.interest_feed(interest.id, actor=manager, whole_client=True)
    assert client_level.id in [i.id for i in whole]
    restored = await interactions.restore_interaction(cancelled.id, actor=manager)
    assert restored.state == InteractionState.PLANNED


@time_machine.travel(T0, tick=False)
async def test_reminder_time_follows_lead_time_setting() -> None:
    manager, _, interest = await _deal(require_next_step=False)
    planned = await interactions.plan_interaction(
        Plan("call", T0 + timedelta(hours=2)), actor=manager, interest_id=interest.id
    )
    assert planned.remind_at == T0 + timedelta(hours=2) - timedelta(minutes=15)


@time_machine.travel(T0, tick=False)
async def test_completing_the_last_step_needs_the_next_one() -> None:
    manager, _, interest = await _deal(require_next_step=True)
    first = await interactions.plan_interaction(
        Plan("call", T0 + timedelta(hours=1)), actor=manager, interest_id=interest.id
    )
    with pytest.raises(NextStepRequired):
        await interactions.complete_interaction(first.id, actor=manager, result="Не дозвонился")
    assert (await Interaction.get(id=first.id)).state == InteractionState.PLANNED
    done, nxt = await interactions.complete_interaction(
        first.id,
        actor=manager,
        result="Договорились о встрече",
        next_plan=Plan("meeting", T0 + timedelta(days=2), "Встреча в офисе"),
    )
    assert done.state == InteractionState.DONE and "встрече" in done.content
    assert nxt is not None and nxt.state == InteractionState.PLANNED
    with pytest.raises(Conflict):
        await interactions.complete_interaction(first.id, actor=manager)


@time_machine.travel(T0, tick=False)
async def test_past_date_refused_when_scenario_forbids_it() -> None:
    manager, _, interest = await _deal(require_next_step=False, allow_past=False)
    with pytest.raises(ValidationFailed) as err:
        await interactions.plan_interaction(
            Plan("call", T0 - timedelta(days=1)), actor=manager, interest_id=interest.id
        )
    assert "planned_at" in err.value.fields
    with pytest.raises(ValidationFailed):
        await interactions.plan_interaction(
            Plan("telepathy", T0 + timedelta(days=1)), actor=manager, interest_id=interest.id
        )
    assert await Interaction.all().count() == 0


@time_machine.travel(T0, tick=False)
async def test_reschedule_rearms_reminder() -> None:
    manager, _, interest = await _deal(require_next_step=False)
    planned = await interactions.plan_interaction(
        Plan("call", T0 + timedelta(hours=1)), actor=manager, interest_id=interest.id
    )
    await Interaction.filter(id=planned.id).update(reminded_at=clock.now())
    moved = await interactions.reschedule(planned.id, T0 + timedelta(days=1), actor=manager)
    assert moved.reminded_at is None and moved.planned_at == T0 + timedelta(days=1)
    stages = await scenarios.stages_of(interest.scenario_id)  # type: ignore[attr-defined]
    assert stages

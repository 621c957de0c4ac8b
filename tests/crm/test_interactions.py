from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import time_machine

from crm import clock, company, deals, interactions, scenarios
from crm.errors import Conflict, NextStepRequired, NotFound, ValidationFailed
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


@time_machine.travel(T0, tick=False)
async def test_feed_limit_kinds_and_models_as_loaded() -> None:
    manager, client, interest = await _deal(require_next_step=False)
    planned = [
        await interactions.plan_interaction(
            Plan("call" if i % 2 else "meeting", T0 + timedelta(days=5 - i)),
            actor=manager,
            interest_id=interest.id,
        )
        for i in range(4)
    ]
    done = [
        await interactions.record_done(
            actor=manager,
            kind="note",
            client_id=client.id,
            interest_id=interest.id,
            at=T0 - timedelta(days=i),
        )
        for i in range(3)
    ]
    soonest = sorted(planned, key=lambda i: i.planned_at or T0)
    feed = await interactions.interest_feed(interest.id, actor=manager)
    assert [i.id for i in feed] == [i.id for i in soonest] + [i.id for i in done]
    assert [
        i.id for i in await interactions.interest_feed(interest.id, actor=manager, limit=3)
    ] == [i.id for i in soonest[:3]]
    five = await interactions.interest_feed(interest.id, actor=manager, limit=5)
    assert [i.id for i in five] == [i.id for i in soonest] + [done[0].id]
    notes = await interactions.interest_feed(interest.id, actor=manager, kinds=["note", "sms"])
    assert [i.id for i in notes] == [i.id for i in done]
    by_client = await interactions.feed(client_id=client.id, kinds=["meeting"])
    assert [i.id for i in by_client] == [i.id for i in soonest if i.kind == "meeting"]
    columns = Interaction._meta.fields_db_projection
    for shown in feed:
        loaded = await Interaction.get(id=shown.id)
        assert {c: getattr(shown, c) for c in columns} == {c: getattr(loaded, c) for c in columns}
    assert await interactions.interest_feed(interest.id, actor=manager, limit=0) == []


@time_machine.travel(T0, tick=False)
async def test_feed_of_an_interest_out_of_sight_is_not_found() -> None:
    manager, _, interest = await _deal(require_next_step=False)
    await interactions.plan_interaction(
        Plan("call", T0 + timedelta(days=1)), actor=manager, interest_id=interest.id
    )
    stranger, admin = await f.manager(), await f.admin()
    with pytest.raises(NotFound):
        await interactions.interest_feed(interest.id, actor=stranger)
    with pytest.raises(NotFound):
        await interactions.interest_feed(interest.id, actor=stranger, kinds=["telepathy"])
    assert len(await interactions.interest_feed(interest.id, actor=admin)) == 1
    empty = await deals.create_interest(
        actor=manager,
        client_id=interest.client_id,  # type: ignore[attr-defined]
        title="Пусто",
    )
    assert await interactions.interest_feed(empty.id, actor=admin) == []
    for actor in (admin, stranger):
        with pytest.raises(NotFound):  # no such interest: NotFound before the bad kind
            await interactions.interest_feed(10**6, actor=actor, kinds=["telepathy"])
        with pytest.raises(NotFound):
            await interactions.interest_feed(10**6, actor=actor)
    with pytest.raises(ValidationFailed):
        await interactions.interest_feed(interest.id, actor=admin, kinds=["telepathy"])
    await company.update_company({"clients_visible_to_all": True}, actor=admin)
    assert len(await interactions.interest_feed(interest.id, actor=stranger)) == 1


@time_machine.travel(T0, tick=False)
@pytest.mark.parametrize("responsible_id", [99999, 2**40, 0])
async def test_plan_for_an_unknown_responsible_is_refused(responsible_id: int) -> None:
    manager, client, interest = await _deal(require_next_step=False)
    plan = Plan("call", T0 + timedelta(days=1), responsible_id=responsible_id)
    with pytest.raises(ValidationFailed) as err:
        await interactions.plan_interaction(plan, actor=manager, interest_id=interest.id)
    assert err.value.fields["responsible_id"].msgid == "Unknown user"
    first = await interactions.plan_interaction(
        Plan("call", T0 + timedelta(hours=1)), actor=manager, client_id=client.id
    )
    with pytest.raises(ValidationFailed):
        await interactions.complete_interaction(first.id, actor=manager, next_plan=plan)
    gone = await f.manager()
    gone.is_active = False
    await gone.save()
    with pytest.raises(ValidationFailed):
        await interactions.plan_interaction(
            Plan("call", T0 + timedelta(days=1), responsible_id=gone.id),
            actor=manager,
            client_id=client.id,
        )
    assert await Interaction.all().count() == 1
    assert (await Interaction.get(id=first.id)).state == InteractionState.PLANNED


@time_machine.travel(T0, tick=False)
@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, 0, 5, tzinfo=UTC),
        datetime(1899, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2201, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
    ids=["year-1", "1899", "2201", "year-9999"],
)
async def test_plan_dates_outside_sane_years_are_refused(moment: datetime) -> None:
    manager, client, interest = await _deal(require_next_step=False)
    with pytest.raises(ValidationFailed) as err:
        await interactions.plan_interaction(
            Plan("call", moment), actor=manager, interest_id=interest.id
        )
    assert err.value.fields["planned_at"].msgid == "Out of range"
    planned = await interactions.plan_interaction(
        Plan("call", T0 + timedelta(days=1)), actor=manager, client_id=client.id
    )
    with pytest.raises(ValidationFailed):
        await interactions.reschedule(planned.id, moment, actor=manager)
    assert (await Interaction.get(id=planned.id)).planned_at == T0 + timedelta(days=1)
    edge = datetime(1900, 1, 1, tzinfo=UTC)
    await interactions.plan_interaction(Plan("call", edge), actor=manager, client_id=client.id)

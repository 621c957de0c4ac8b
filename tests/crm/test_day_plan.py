"""`crm.reminders.day_plan` (the `/today` read, one SQL query) gives what the ORM reads it
replaced give: overdue and the rest of the day, each soonest first, with their clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.models import Model

from crm import interactions, reminders
from crm.interactions import Plan
from crm.models import Client, Interaction, InteractionState, User
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")

NOW = datetime(2026, 3, 2, 12, 30, 0, 500_000, tzinfo=UTC)
END = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)


def _fields(obj: Any, model: type[Model]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in model._meta.fields_db_projection}


async def _plan(actor: User, client: Client, at: datetime, subject: str = "") -> Interaction:
    return await interactions.plan_interaction(
        Plan("call", at, subject=subject), actor=actor, client_id=client.id
    )


async def _orm(user_id: int, limit: int) -> tuple[list[Interaction], list[Interaction]]:
    """The reads /today made before day_plan."""
    mine = Interaction.filter(responsible_id=user_id, state=InteractionState.PLANNED)
    overdue = await mine.filter(planned_at__lt=NOW).order_by("planned_at", "id")
    later = await mine.filter(planned_at__gte=NOW, planned_at__lt=END).order_by("planned_at", "id")
    await Interaction.fetch_for_list([*overdue[:limit], *later[:limit]], "client")
    return overdue[:limit], later[:limit]


async def test_overdue_and_later_as_the_orm_reads_them() -> None:
    anna, boris = await f.manager(), await f.manager()
    shop = await f.client(anna, name="Магазин", region="Новосибирская область")
    firm = await f.client(anna, name="Фирма", kind="legal", inn="7707083893")
    theirs = await f.client(boris, name="Чужой")
    for hours, client in ((-30, shop), (-2, firm), (-1, shop), (-0.25, firm)):
        await _plan(anna, client, NOW + timedelta(hours=hours), subject=f"{hours}")
    await _plan(anna, shop, NOW)  # planned at this very moment: later, not overdue
    for hours, client in ((1, firm), (3, shop), (5, firm)):
        await _plan(anna, client, NOW + timedelta(hours=hours))
    await _plan(anna, shop, END)  # tomorrow in the manager's day: not shown
    await _plan(boris, theirs, NOW - timedelta(hours=1))  # another manager's
    done = await _plan(anna, shop, NOW - timedelta(hours=3))
    await Interaction.filter(id=done.id).update(state=InteractionState.DONE)
    cancelled = await _plan(anna, firm, NOW + timedelta(hours=2))
    await Interaction.filter(id=cancelled.id).update(state=InteractionState.CANCELLED)

    for limit in (15, 3, 0):
        plan = await reminders.day_plan(anna.id, NOW, END, limit=limit)
        overdue, later = await _orm(anna.id, limit)
        assert [_fields(i, Interaction) for i in plan.overdue] == [
            _fields(i, Interaction) for i in overdue
        ]
        assert [_fields(i, Interaction) for i in plan.later] == [
            _fields(i, Interaction) for i in later
        ]
        for got, want in zip([*plan.overdue, *plan.later], [*overdue, *later], strict=True):
            assert _fields(got.client, Client) == _fields(want.client, Client)
    plan = await reminders.day_plan(anna.id, NOW, END, limit=15)
    assert len(plan.overdue) == 4 and len(plan.later) == 4
    assert plan.later[0].planned_at == NOW
    assert all(not i._partial and i._saved_in_db for i in plan.overdue)


async def test_nothing_planned_is_an_empty_plan() -> None:
    anna = await f.manager()
    assert await reminders.day_plan(anna.id, NOW, END, limit=15) == ([], [])

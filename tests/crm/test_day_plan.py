"""`crm.reminders.day_plan` (the `/today` read, one SQL query) gives what the ORM reads it
replaced give: overdue and the rest of the day, each soonest first, with their clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise import connections
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


@contextmanager
def counted_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL statements run on the default connection while inside."""
    seen: list[str] = []
    client = type(connections.get("default"))
    for method in ("execute_query", "execute_query_dict", "execute_insert", "execute_many"):
        original = getattr(client, method)

        async def counting(self: Any, sql: str, *args: Any, _run: Any = original) -> Any:
            seen.append(sql)
            return await _run(self, sql, *args)

        monkeypatch.setattr(client, method, counting)
    yield seen
    monkeypatch.undo()


async def test_overdue_head_is_one_query_however_many_are_overdue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    anna, boris = await f.manager(), await f.manager()
    shop = await f.client(anna, name="Магазин")
    firm = await f.client(anna, name="Фирма", kind="legal", inn="7707083893")
    theirs = await f.client(boris, name="Чужой")
    await _plan(boris, theirs, NOW - timedelta(hours=1))  # another manager's
    await _plan(anna, shop, NOW)  # at this very moment: not overdue
    made = 0
    for total in (3, 240):
        for n in range(made, total):
            await _plan(anna, (shop, firm)[n % 2], NOW - timedelta(minutes=n + 1))
        made = total
        with counted_queries(monkeypatch) as seen:
            head = await reminders.overdue_head(anna.id, NOW, limit=15)
        assert len(seen) == 1, seen
        everything = await reminders.overdue_of(anna.id, now=NOW)
        assert head.total == len(everything) == total
        shown = everything[:15]
        await Interaction.fetch_for_list(shown, "client")
        assert [_fields(i, Interaction) for i in head.first] == [
            _fields(i, Interaction) for i in shown
        ]
        assert [_fields(i.client, Client) for i in head.first] == [
            _fields(i.client, Client) for i in shown
        ]
    assert await reminders.overdue_head(anna.id, NOW, limit=0) == (240, [])
    assert await reminders.overdue_head(boris.id, NOW - timedelta(days=1), limit=15) == (0, [])

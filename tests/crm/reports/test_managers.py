"""The managers' report of the known world, with plans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm import plans
from crm.errors import PermissionDenied, ValidationFailed
from crm.reports import managers as m
from crm.reports.filters import ReportFilter
from tests.crm.reports.world import World

pytestmark = pytest.mark.usefixtures("at_month_end")
MARCH = ReportFilter()


async def test_each_managers_month(world: World) -> None:
    report = await m.managers(MARCH, actor=world.head)
    rows = {r.name: r for r in report.rows}
    assert set(rows) == {"Анна", "Борис"}
    anna, boris = rows["Анна"], rows["Борис"]
    assert (anna.accepted, anna.rejected) == (2, 0)
    assert anna.first_response.median == pytest.approx(18.5)
    assert (anna.opened, anna.won, anna.won_amount, anna.lost) == (2, 1, Decimal("100.00"), 1)
    assert anna.conversion == 0.5
    assert (anna.interactions_done, anna.interactions_overdue, anna.no_next_step) == (1, 1, 0)
    # cA had a call on 5.03; cB and cD none: idle for 30 days
    assert anna.idle_clients == 2
    assert (anna.plan_amount, anna.plan_wins) == (Decimal("1000.00"), Decimal("2.00"))
    assert (anna.plan_amount_done, anna.plan_wins_done) == (0.1, 0.5)
    assert (boris.accepted, boris.rejected, boris.opened, boris.won, boris.lost) == (1, 1, 1, 0, 0)
    assert (boris.conversion, boris.no_next_step, boris.idle_clients) == (None, 1, 1)
    assert (boris.plan_amount, boris.plan_wins, boris.plan_amount_done) == (
        Decimal("500.00"),
        None,
        0.0,
    )


async def test_a_week_gets_its_share_of_the_plan(world: World) -> None:
    week = ReportFilter(preset=None, date_from=date(2026, 3, 2), date_to=date(2026, 3, 8))
    rows = {r.name: r for r in (await m.managers(week, actor=world.admin)).rows}
    assert rows["Анна"].plan_amount == Decimal("225.81")  # 1000 * 7 / 31
    assert rows["Анна"].won == 1


async def test_manager_sees_only_their_row_and_records(world: World) -> None:
    report = await m.managers(MARCH, actor=world.anna)
    assert [r.name for r in report.rows] == ["Анна"]
    with pytest.raises(PermissionDenied):
        await m.drill(
            ReportFilter(manager_ids=(world.boris.id,)),
            actor=world.anna,
            figure=m.OPENED,
            manager_id=world.boris.id,
        )
    # asking for someone else's row without naming them in the filter finds nothing
    page = await m.drill(MARCH, actor=world.anna, figure=m.OPENED, manager_id=world.boris.id)
    assert page.total == 0


async def test_drill_downs(world: World) -> None:
    async def ids(figure: str, who: int) -> list[int]:
        return (await m.drill(MARCH, actor=world.head, figure=figure, manager_id=who)).ids

    anna = world.anna.id
    assert await ids(m.WON, anna) == [world.deals["A"].id]
    assert sorted(await ids(m.OPENED, anna)) == sorted([world.deals["A"].id, world.deals["B"].id])
    assert len(await ids(m.OVERDUE, anna)) == 1
    assert len(await ids(m.DONE, anna)) == 1
    assert sorted(await ids(m.IDLE, anna)) == sorted(
        [world.clients["cB"].id, world.clients["cD"].id]
    )
    assert await ids(m.REJECTED, world.boris.id) == [world.inquiries["Q4"].id]
    assert await ids(m.ANSWERED, world.boris.id) == [world.inquiries["Q3"].id]


async def test_plans_are_set_by_admins_and_heads(world: World) -> None:
    await plans.set_plan(world.boris.id, date(2026, 4, 15), amount="1 500,5", actor=world.head)
    [april] = (await plans.plans_of_month(date(2026, 4, 1))).values()
    assert (april.amount, april.wins) == (Decimal("1500.50"), None)
    with pytest.raises(PermissionDenied):
        await plans.set_plan(world.anna.id, date(2026, 4, 1), wins=9, actor=world.anna)
    with pytest.raises(ValidationFailed):
        await plans.set_plan(world.anna.id, date(2026, 4, 1), wins=-1, actor=world.admin)
    await plans.set_plan(world.boris.id, date(2026, 4, 1), actor=world.admin)
    assert await plans.plans_of_month(date(2026, 4, 1)) == {}

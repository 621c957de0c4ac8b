"""The funnel of the known world (tests/crm/reports/world.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.errors import PermissionDenied, ValidationFailed
from crm.reports import funnel as f
from crm.reports.filters import FieldMatch, Preset, ReportFilter
from crm.reports.stats import Spread
from tests.crm.reports.world import World

pytestmark = pytest.mark.usefixtures("at_month_end")
MARCH = ReportFilter(preset=Preset.THIS_MONTH)
HOUR = 3600.0


async def test_funnel_of_the_month(world: World) -> None:
    report = await f.funnel(MARCH, actor=world.head)
    assert (report.period.first, report.period.last) == (date(2026, 3, 1), date(2026, 3, 31))
    [sale] = report.scenarios
    s1, s2, s3 = sale.stages
    assert (s1.entered, s1.entered_amount, s1.advanced, s1.won) == (3, Decimal("350.00"), 2, 1)
    assert (s1.to_next, s1.to_won) == (pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert (s2.entered, s2.entered_amount, s2.advanced, s2.won) == (3, Decimal("330.00"), 1, 1)
    assert (s3.entered, s3.to_next, s3.to_won) == (1, None, 0.0)
    # S1: B 2 h, A 48 h, C 72 h; S2: A 24 h to the win, C 24 h (D is still in it)
    assert s1.time_in_stage.count == 3
    assert s1.time_in_stage.median == pytest.approx(48 * HOUR)
    assert s1.time_in_stage.p90 == pytest.approx(48 * HOUR + 0.8 * 24 * HOUR)
    assert s2.time_in_stage == Spread(2, pytest.approx(24 * HOUR), pytest.approx(24 * HOUR))  # type: ignore[arg-type]
    assert s3.time_in_stage == Spread()
    assert (sale.won, sale.won_amount, sale.lost, sale.lost_amount) == (
        1,
        Decimal("100.00"),
        1,
        Decimal("50.00"),
    )
    assert sale.win_rate == 0.5
    [reason] = sale.loss_reasons
    assert (reason.reason, reason.count, reason.amount, reason.share) == (
        "Дорого",
        1,
        Decimal("50.00"),
        1.0,
    )


async def test_cohort_follows_the_deals_created_in_the_period(world: World) -> None:
    [sale] = (await f.funnel(MARCH, actor=world.admin, cohort=True)).scenarios
    assert [s.entered for s in sale.stages] == [3, 2, 1]  # D was created in February
    assert (sale.won, sale.lost) == (1, 1)
    feb = ReportFilter(preset=None, date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
    [old] = (await f.funnel(feb, actor=world.admin, cohort=True)).scenarios
    # D, created in February, entered S2 in March: the cohort follows it there
    assert [s.entered for s in old.stages] == [1, 1, 0]


async def test_empty_period(world: World) -> None:
    empty = ReportFilter(preset=None, date_from=date(2025, 1, 1), date_to=date(2025, 1, 31))
    [sale] = (await f.funnel(empty, actor=world.head)).scenarios
    assert [(s.entered, s.to_next, s.to_won) for s in sale.stages] == [(0, None, None)] * 2 + [
        (0, None, None)
    ]
    assert (sale.won, sale.lost, sale.win_rate, sale.loss_reasons) == (0, 0, None, [])


async def test_filters_narrow_the_funnel(world: World) -> None:
    by_field = ReportFilter(field=FieldMatch(world.field_id, "Опт"))  # cA and cC: A, C
    [sale] = (await f.funnel(by_field, actor=world.head)).scenarios
    assert [s.entered for s in sale.stages] == [2, 2, 1]
    promo = ReportFilter(lead_source="promo", channel_id=world.t.id)
    [sale] = (await f.funnel(promo, actor=world.head)).scenarios
    assert [s.entered for s in sale.stages] == [2, 1, 0]  # A and B came through T
    boris = ReportFilter(manager_ids=(world.boris.id,))
    [sale] = (await f.funnel(boris, actor=world.head)).scenarios
    assert [s.entered for s in sale.stages] == [1, 1, 1]


async def test_a_manager_sees_only_their_own_deals(world: World) -> None:
    [sale] = (await f.funnel(MARCH, actor=world.boris)).scenarios
    assert [s.entered for s in sale.stages] == [1, 1, 1]
    assert (sale.won, sale.lost) == (0, 0)
    with pytest.raises(PermissionDenied):
        await f.funnel(ReportFilter(manager_ids=(world.anna.id,)), actor=world.boris)
    page = await f.drill(MARCH, actor=world.boris, figure=f.ENTERED, key=world.stages[0])
    assert [row[1] for row in page.rows] == ["C"]


async def test_drill_downs_list_the_deals_behind_each_figure(world: World) -> None:
    def titles(page: f.DrillDown) -> list[str]:
        return [row[1] for row in page.rows]

    entered = await f.drill(MARCH, actor=world.head, figure=f.ENTERED, key=world.stages[1])
    assert (entered.total, sorted(titles(entered))) == (3, ["A", "C", "D"])
    assert entered.ids == sorted(entered.ids)
    advanced = await f.drill(MARCH, actor=world.head, figure=f.ADVANCED, key=world.stages[0])
    assert sorted(titles(advanced)) == ["A", "C"]
    won = await f.drill(MARCH, actor=world.head, figure=f.WON, key=world.scenario_id)
    assert titles(won) == ["A"] and won.rows[0][5] == Decimal("100.00")
    lost = await f.drill(MARCH, actor=world.head, figure=f.LOSS_REASON, key=world.reasons["Дорого"])
    assert titles(lost) == ["B"]
    timed = await f.drill(MARCH, actor=world.head, figure=f.TIME, key=world.stages[1])
    assert sorted(titles(timed)) == ["A", "C"]  # D is still in S2: not counted yet
    paged = await f.drill(
        MARCH, actor=world.head, figure=f.ENTERED, key=world.stages[0], page=2, per_page=2
    )
    assert (paged.total, len(paged.rows)) == (3, 1)
    with pytest.raises(ValidationFailed):
        await f.drill(MARCH, actor=world.head, figure="nope", key=1)


async def test_the_period_is_read_in_the_company_time_zone(world: World) -> None:
    from crm import company, deals
    from tests.crm.reports.world import at, msk

    # 28 February 23:30 in Moscow is already 1 March 06:30 in Vladivostok
    await at(
        msk(2, 28, 23, 30),
        lambda: deals.create_interest(
            actor=world.anna, client_id=world.clients["cD"].id, title="E"
        ),
    )
    [moscow] = (await f.funnel(MARCH, actor=world.head)).scenarios
    assert moscow.stages[0].entered == 3
    await company.update_company({"default_timezone": "Asia/Vladivostok"}, actor=None)
    vladivostok = await f.funnel(MARCH, actor=world.head)
    assert vladivostok.scenarios[0].stages[0].entered == 4
    assert vladivostok.period.start.isoformat() == "2026-02-28T14:00:00+00:00"

"""The pipeline of the known world on 31 March 2026, 12:00 Moscow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.reports import pipeline as p
from crm.reports.filters import ReportFilter
from tests.crm.reports.world import World

pytestmark = pytest.mark.usefixtures("at_month_end")


async def test_open_deals_by_stage_and_manager(world: World) -> None:
    report = await p.pipeline(ReportFilter(), actor=world.head)
    cells = [
        (c.stage, c.manager, c.count, c.amount, c.no_next_step, c.overdue) for c in report.cells
    ]
    assert cells == [
        ("S2", "Анна", 1, Decimal("30.00"), 0, 1),  # D: its call of 20.03 is overdue
        ("S3", "Борис", 1, Decimal("200.00"), 1, 0),  # C: nothing planned
    ]
    # D: created 20.02 10:00, read 31.03 12:00 (Moscow has no clock change)
    assert report.cells[0].average_age_days == pytest.approx(39 + 2 / 24)
    assert [(name, n) for _, name, n, _ in report.by_stage()] == [("S2", 1), ("S3", 1)]


async def test_manager_sees_own_pipeline_and_drills(world: World) -> None:
    mine = await p.pipeline(ReportFilter(), actor=world.anna)
    assert [c.stage for c in mine.cells] == ["S2"]
    overdue = await p.drill(ReportFilter(), actor=world.head, figure=p.OVERDUE)
    assert [r[1] for r in overdue.rows] == ["D"]
    none = await p.drill(ReportFilter(), actor=world.anna, figure=p.NO_NEXT_STEP)
    assert none.total == 0  # C (no next step) is Борис's
    everyone = await p.drill(ReportFilter(), actor=world.head, figure=p.NO_NEXT_STEP)
    assert [r[1] for r in everyone.rows] == ["C"]
    stage = await p.drill(
        ReportFilter(),
        actor=world.head,
        figure=p.OPEN,
        stage_id=world.stages[2],
        manager_id=world.boris.id,
    )
    assert stage.total == 1

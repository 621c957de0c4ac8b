"""Inquiries and response times of the known world, in working minutes."""

from __future__ import annotations

import pytest

from crm import company
from crm.errors import PermissionDenied
from crm.reports import inquiries as q
from crm.reports.filters import ReportFilter
from crm.reports.stats import Spread
from tests.crm.reports.world import World

pytestmark = pytest.mark.usefixtures("at_month_end")
MARCH = ReportFilter()


async def test_response_times_in_working_minutes(world: World) -> None:
    report = await q.inquiries(MARCH, actor=world.head)
    total = report.total
    assert (total.received, total.accepted, total.rejected, total.waiting) == (5, 3, 1, 1)
    # Q1 7 min; Q2 Friday 17:50 -> Tuesday 09:20 over the Monday holiday = 10 + 20; Q3 2 h
    assert total.first_response == Spread(3, 30.0, pytest.approx(30 + 0.8 * 90))  # type: ignore[arg-type]
    assert total.buckets == (0, 1, 1, 1, 0, 0)
    assert (total.sla_met, total.sla_share) == (1, pytest.approx(1 / 3))
    # accepted after 3, 15 and 1 working minutes (the robot's 17:51 message is no reply)
    assert total.accept == Spread(3, 3.0, pytest.approx(3 + 0.8 * 12))  # type: ignore[arg-type]
    assert [(r.reason, r.count) for r in total.rejected_by_reason] == [("Спам", 1)]
    channels = {g.name: g.figures for g in report.channels}
    assert (channels["T"].received, channels["T"].accepted, channels["T"].waiting) == (3, 2, 1)
    assert (channels["V"].received, channels["V"].rejected) == (2, 1)
    managers = {g.name: g.figures for g in report.managers}
    assert managers["Анна"].first_response.median == pytest.approx(18.5)
    assert managers["Борис"].first_response == Spread(1, 120.0, 120.0)
    assert managers[""].waiting == 1  # nobody has taken Q5


async def test_calendar_changes_the_figures(world: World) -> None:
    # a seven-day week without holidays or hours: Q2 waits all weekend long
    await company.update_company(
        {"work_days": "1234567", "holidays": [], "work_day_start": None, "work_day_end": None},
        actor=None,
    )
    report = await q.inquiries(MARCH, actor=world.head)
    anna = next(g for g in report.managers if g.name == "Анна").figures
    q2 = (3 * 24 + 15) * 60 + 30  # Friday 17:50 -> Tuesday 09:20
    assert anna.first_response.median == pytest.approx((7 + q2) / 2)
    assert report.total.buckets[-1] == 1


async def test_managers_see_their_own_inquiries_only(world: World) -> None:
    report = await q.inquiries(MARCH, actor=world.boris)
    assert report.total.received == 2  # Q3 accepted, Q4 rejected by Борис
    assert [g.name for g in report.managers] == ["Борис"]
    with pytest.raises(PermissionDenied):
        await q.inquiries(ReportFilter(manager_ids=(world.anna.id,)), actor=world.boris)
    page = await q.drill(MARCH, actor=world.boris, figure=q.RECEIVED)
    assert sorted(page.ids) == sorted([world.inquiries["Q3"].id, world.inquiries["Q4"].id])


async def test_drill_downs(world: World) -> None:
    missed = await q.drill(MARCH, actor=world.head, figure=q.SLA_MISSED)
    assert missed.ids == [world.inquiries["Q2"].id, world.inquiries["Q3"].id]
    bucket = await q.drill(MARCH, actor=world.head, figure=q.BUCKET, key=1)
    assert bucket.ids == [world.inquiries["Q1"].id]
    spam = await q.drill(MARCH, actor=world.head, figure=q.REASON, key=world.reasons["Спам"])
    assert [row[7] for row in spam.rows] == ["Спам"]
    waiting = await q.drill(MARCH, actor=world.head, figure=q.WAITING, channel_id=world.t.id)
    assert waiting.ids == [world.inquiries["Q5"].id]
    met = await q.drill(MARCH, actor=world.head, figure=q.SLA_MET)
    assert met.ids == [world.inquiries["Q1"].id]
    answered = await q.drill(MARCH, actor=world.head, figure=q.ANSWERED, manager_id=world.anna.id)
    assert answered.ids == [world.inquiries["Q1"].id, world.inquiries["Q2"].id]
    nobody = await q.drill(MARCH, actor=world.head, figure=q.RECEIVED, manager_id=0)
    assert nobody.ids == [world.inquiries["Q5"].id]

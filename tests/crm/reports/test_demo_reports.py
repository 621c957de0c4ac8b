"""`crmhub demo-data` gives the reports something to show: inquiries with response times
inside and outside working hours, rejections with reasons, stage changes over years,
losses with reasons, lead sources, plans."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from tortoise.context import TortoiseContext

from crm import demo
from crm.models import Channel, Inquiry, Message, Role, User
from crm.reports import funnel, inquiries, managers, sources
from crm.reports.filters import Preset, ReportFilter

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
YEAR = ReportFilter(preset=Preset.LAST_YEAR)


async def test_demo_data_fills_every_report(db: TortoiseContext) -> None:
    with time_machine.travel(T0, tick=False):
        stats = await demo.generate(600, seed=3, now=T0)
        admin = await User.get(role=Role.ADMIN)
        asked = await inquiries.inquiries(YEAR, actor=admin)
        flow = await funnel.funnel(YEAR, actor=admin)
        team = await managers.managers(ReportFilter(preset=Preset.THIS_MONTH), actor=admin)
        came = await sources.sources(YEAR, actor=admin)
    assert stats["inquiries"] == await Inquiry.all().count() > 50
    assert stats["messages"] == await Message.all().count()
    assert not await Channel.filter(is_active=True).exists()  # made-up credentials: off
    total = asked.total
    assert total.accepted > 0 and total.rejected > 0 and total.rejected_by_reason
    assert total.first_response.count > 0
    fast, slow = sum(total.buckets[:2]), sum(total.buckets[3:])
    assert fast > 0 and slow > 0  # answered in minutes in the day, the next morning at night
    assert total.first_response.median is not None and total.first_response.median < 60
    later = asked.next_response.total  # customers write again after the first reply
    assert later.answered > 0 and sum(later.buckets[:2]) > 0 and sum(later.buckets[3:]) > 0
    sale = flow.scenarios[0]
    assert sale.stages[0].entered > 0 and sale.won > 0 and sale.lost > 0 and sale.loss_reasons
    assert sale.stages[0].time_in_stage.count > 0
    assert all(row.plan_amount is not None for row in team.rows)
    assert len([r for r in came.lead_sources if r.first_messages]) > 1
    assert len(came.channels) == 3

"""Every report over a period with nothing in it: zeros and no figures, never an error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.reports import base, inquiries, managers, sources
from crm.reports.filters import ReportFilter
from crm.reports.stats import Spread
from tests.crm.reports.world import World

pytestmark = pytest.mark.usefixtures("at_month_end")
EMPTY = ReportFilter(preset=None, date_from=date(2025, 1, 1), date_to=date(2025, 1, 31))


async def test_nothing_happened(world: World) -> None:
    asked = await inquiries.inquiries(EMPTY, actor=world.head)
    assert (asked.total.received, asked.channels, asked.managers) == (0, [], [])
    assert (asked.total.first_response, asked.total.sla_share) == (Spread(), None)
    team = await managers.managers(EMPTY, actor=world.head)
    anna = next(r for r in team.rows if r.name == "Анна")
    assert (anna.opened, anna.won, anna.won_amount, anna.conversion) == (0, 0, Decimal(0), None)
    assert anna.plan_amount is None  # no plan for January 2025
    came = await sources.sources(EMPTY, actor=world.head)
    assert (came.channels, came.lead_sources, came.total.conversion) == ([], [], None)
    clients = await base.base(EMPTY, actor=world.head)
    assert sum(g.won_amount for g in clients.groups) == 0
    assert sum(g.clients for g in clients.groups) == 6  # the base is there; nothing was won

"""Lead sources and channels of the known world."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.reports import sources as s
from crm.reports.filters import ReportFilter
from tests.crm.reports.world import World

pytestmark = pytest.mark.usefixtures("at_month_end")
MARCH = ReportFilter()


def chain(row: s.SourceRow) -> tuple[int, int, int, int, Decimal]:
    return (row.first_messages, row.inquiries, row.interests, row.won, row.won_amount)


async def test_first_messages_to_won(world: World) -> None:
    report = await s.sources(MARCH, actor=world.head)
    assert {r.name: chain(r) for r in report.channels} == {
        "T": (3, 3, 2, 1, Decimal("100.00")),  # Q1 -> A (won), Q2 -> B, Q5; Q6 was February's
        "V": (2, 2, 1, 0, Decimal("0.00")),
    }
    assert [(r.name, chain(r)) for r in report.lead_sources] == [
        ("promo", (2, 2, 2, 1, Decimal("100.00"))),
        ("site", (1, 1, 1, 0, Decimal("0.00"))),
        ("", (2, 2, 0, 0, Decimal("0.00"))),
    ]
    assert chain(report.total) == (5, 5, 3, 1, Decimal("100.00"))
    assert report.total.conversion == pytest.approx(0.2)
    assert report.total.interests_amount == Decimal("350.00")


async def test_manager_and_drill_downs(world: World) -> None:
    mine = await s.sources(MARCH, actor=world.boris)
    assert chain(mine.total) == (1, 2, 1, 0, Decimal("0.00"))  # cC's conversation; Q3, Q4
    won = await s.drill(MARCH, actor=world.head, figure=s.WON, lead_source="promo")
    assert won.ids == [world.deals["A"].id]
    firsts = await s.drill(MARCH, actor=world.head, figure=s.FIRST_MESSAGES, channel_id=world.t.id)
    assert [r[1] for r in firsts.rows] == ["cA", "cB", "cF"]
    asked = await s.drill(MARCH, actor=world.head, figure=s.INQUIRIES, lead_source="")
    assert asked.ids == [world.inquiries["Q4"].id, world.inquiries["Q5"].id]

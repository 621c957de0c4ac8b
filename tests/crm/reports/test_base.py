"""The client base of the known world."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.errors import ValidationFailed
from crm.reports import base as b
from crm.reports.filters import ReportFilter
from tests.crm.reports.world import World

pytestmark = pytest.mark.usefixtures("at_month_end")
MARCH = ReportFilter()


async def test_grouped_by_kind(world: World) -> None:
    report = await b.base(MARCH, actor=world.head, group_by=("kind",))
    groups = {g.labels: g for g in report.groups}
    individual, legal = groups[("individual",)], groups[("legal",)]
    assert (individual.clients, individual.with_open_interests) == (5, 2)  # C (cC), D (cD)
    assert (legal.clients, legal.won_amount) == (1, Decimal("100.00"))
    # cA: a call on 5.03 (< 30 days); the other five never
    assert legal.last_contact == (1, 0, 0, 0, 0)
    assert individual.last_contact == (0, 0, 0, 0, 5)


async def test_grouped_by_custom_field_and_responsible(world: World) -> None:
    field = f"field:{world.field_id}"
    report = await b.base(MARCH, actor=world.head, group_by=(field, "responsible"))
    cells = {g.labels: g.clients for g in report.groups}
    assert cells == {
        ("Опт", "Анна"): 1,
        ("Опт", "Борис"): 1,
        ("Розница", "Анна"): 1,
        ("", "Анна"): 1,
        ("", ""): 2,
    }
    opt_anna = next(g for g in report.groups if g.labels == ("Опт", "Анна"))
    page = await b.drill(
        MARCH,
        actor=world.head,
        figure=b.GROUP,
        group_by=(field, "responsible"),
        keys=tuple(str(k) for k in opt_anna.keys),
    )
    assert [r[1] for r in page.rows] == ["cA"]
    tags = await b.base(MARCH, actor=world.head, group_by=("tag",))
    assert {g.labels: g.clients for g in tags.groups} == {("VIP",): 1, ("",): 5}
    nobody = await b.drill(MARCH, actor=world.head, figure=b.GROUP, group_by=("tag",), keys=(None,))
    assert nobody.total == 5


async def test_base_quality(world: World) -> None:
    quality = (await b.base(MARCH, actor=world.head)).quality
    assert quality == b.BaseQuality(
        clients=6, no_contacts=3, no_responsible=2, no_interaction=4, duplicates=2
    )
    dupes = await b.drill(MARCH, actor=world.head, figure=b.DUPLICATES)
    assert [r[1] for r in dupes.rows] == ["cA", "cF"]
    mine = (await b.base(MARCH, actor=world.anna)).quality
    assert (mine.clients, mine.no_responsible, mine.duplicates) == (3, 0, 1)
    theirs = await b.drill(MARCH, actor=world.anna, figure=b.NO_CONTACTS)
    assert [r[1] for r in theirs.rows] == ["cD"]


async def test_bad_groupings_are_refused(world: World) -> None:
    for group_by in ((), ("kind", "region", "tag"), ("colour",), ("field:999",)):
        with pytest.raises(ValidationFailed):
            await b.base(MARCH, actor=world.head, group_by=group_by)


async def test_drill_into_open_deals_and_last_contact(world: World) -> None:
    report = await b.base(MARCH, actor=world.head, group_by=("kind",))
    individual = next(g for g in report.groups if g.labels == ("individual",))
    open_ones = await b.drill(
        MARCH,
        actor=world.head,
        figure=b.WITH_OPEN_INTERESTS,
        group_by=("kind",),
        keys=individual.keys,
    )
    assert sorted(r[1] for r in open_ones.rows) == ["cC", "cD"]
    recent = await b.drill(
        MARCH,
        actor=world.head,
        figure=b.LAST_CONTACT_BUCKET,
        group_by=("kind",),
        keys=("legal",),
        bucket=0,
    )
    assert [r[1] for r in recent.rows] == ["cA"]
    never = await b.drill(
        MARCH,
        actor=world.head,
        figure=b.LAST_CONTACT_BUCKET,
        group_by=("kind",),
        keys=("individual",),
        bucket=4,
    )
    assert never.total == individual.last_contact[4] == 5
    with pytest.raises(ValidationFailed):
        await b.drill(
            MARCH,
            actor=world.head,
            figure=b.LAST_CONTACT_BUCKET,
            group_by=("kind",),
            keys=("legal",),
            bucket=9,
        )


async def test_drill_into_won_and_every_client(world: World) -> None:
    from crm.reports.records import parse_place, records

    report = await b.base(MARCH, actor=world.head, group_by=("kind",))
    legal = next(g for g in report.groups if g.labels == ("legal",))
    assert legal.won_amount == 100
    won = await b.drill(MARCH, actor=world.head, figure=b.WON, group_by=("kind",), keys=("legal",))
    assert [r[1] for r in won.rows] == ["A"]  # the deal, cA's
    every = await b.drill(MARCH, actor=world.head, figure=b.CLIENTS)
    assert every.total == report.quality.clients == 6
    # the records door passes a last-contact bucket as `key`
    place = parse_place(
        {"figure": b.LAST_CONTACT_BUCKET, "group_by": "kind", "keys": "legal", "key": "0"}
    )
    recent = await records("base", MARCH, place, actor=world.head)
    assert [r[1] for r in recent.rows] == ["cA"]

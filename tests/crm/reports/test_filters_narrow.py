"""The client filters (tag, client kind, relation type) and the scenario filter narrow every
report of the known world to the records of the matching clients and scenario (the funnel's
March: S1 A B C, S2 A C D, S3 C; cA legal with tag VIP; cC made a supplier here)."""

from __future__ import annotations

import pytest

from crm import scenarios
from crm.models import Client, ClientKind, RelationType, Tag
from crm.reports import funnel as f
from crm.reports import inquiries as i
from crm.reports import managers as m
from crm.reports import pipeline as p
from crm.reports.filters import ReportFilter
from tests.crm.reports.world import World

pytestmark = pytest.mark.usefixtures("at_month_end")


async def _entered(report_filter: ReportFilter, world: World) -> list[int]:
    [sale] = (await f.funnel(report_filter, actor=world.head)).scenarios
    return [s.entered for s in sale.stages]


async def _won(report_filter: ReportFilter, world: World) -> int:
    return sum(r.won for r in (await m.managers(report_filter, actor=world.head)).rows)


async def test_tag_and_kind_keep_the_clients_records(world: World) -> None:
    vip = await Tag.get(name="VIP")
    for only_ca in (ReportFilter(tag_id=vip.id), ReportFilter(client_kind=ClientKind.LEGAL)):
        assert await _entered(only_ca, world) == [1, 1, 0]  # A
        assert await _won(only_ca, world) == 1
        assert (await p.pipeline(only_ca, actor=world.head)).cells == []  # A is won
        assert (await i.inquiries(only_ca, actor=world.head)).total.received == 1  # Q1
    people = ReportFilter(client_kind=ClientKind.INDIVIDUAL)
    assert await _entered(people, world) == [2, 2, 1]  # B, C, D
    assert await _won(people, world) == 0


async def test_relation_type(world: World) -> None:
    await Client.filter(id=world.clients["cC"].id).update(relation_type=RelationType.SUPPLIER)
    suppliers = ReportFilter(relation_type=RelationType.SUPPLIER)
    assert await _entered(suppliers, world) == [1, 1, 1]  # C
    [cell] = (await p.pipeline(suppliers, actor=world.head)).cells
    assert (cell.stage, cell.manager, cell.count) == ("S3", "Борис", 1)
    assert (await i.inquiries(suppliers, actor=world.head)).total.received == 1  # Q3
    nobody = ReportFilter(relation_type=RelationType.COMPETITOR)
    assert await _entered(nobody, world) == [0, 0, 0]
    assert await _won(nobody, world) == 0


async def test_scenario(world: World) -> None:
    other = await scenarios.create_scenario("Сервис", ["T1"], require_next_step=False, actor=None)
    sale = ReportFilter(scenario_id=world.scenario_id)
    assert await _entered(sale, world) == [3, 3, 1]
    assert len((await p.pipeline(sale, actor=world.head)).cells) == 2  # C and D
    assert await _won(sale, world) == 1
    service = ReportFilter(scenario_id=other.id)
    assert [s.name for s in (await f.funnel(service, actor=world.head)).scenarios] == ["Сервис"]
    assert (await p.pipeline(service, actor=world.head)).cells == []
    assert await _won(service, world) == 0


async def test_several_managers(world: World) -> None:
    both = ReportFilter(manager_ids=(world.anna.id, world.boris.id))
    assert await _entered(both, world) == [3, 3, 1]
    assert [r.name for r in (await m.managers(both, actor=world.head)).rows] == ["Анна", "Борис"]
    anna = ReportFilter(manager_ids=(world.anna.id,))
    assert await _entered(anna, world) == [2, 2, 0]  # A, B; A, D
    assert [r.name for r in (await m.managers(anna, actor=world.head)).rows] == ["Анна"]

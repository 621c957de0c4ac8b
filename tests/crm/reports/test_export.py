"""Every report and a drill-down as CSV and XLSX, opened back with openpyxl."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from crm import clients
from crm.reports import base, export, funnel, inquiries, managers, pipeline, sources
from crm.reports.filters import ReportFilter
from tests.crm.reports.world import World, msk

pytestmark = pytest.mark.usefixtures("at_month_end")
MARCH = ReportFilter()


async def test_every_report_exports(world: World) -> None:
    reports = [
        await funnel.funnel(MARCH, actor=world.head),
        await pipeline.pipeline(MARCH, actor=world.head),
        await managers.managers(MARCH, actor=world.head),
        await inquiries.inquiries(MARCH, actor=world.head),
        await sources.sources(MARCH, actor=world.head),
        await base.base(MARCH, actor=world.head),
    ]
    for report in reports:
        tables = export.tables_of(report, "ru")
        book = load_workbook(io.BytesIO(export.to_xlsx(tables, timezone="Europe/Moscow")))
        assert len(book.sheetnames) == len(tables)
        for sheet, table in zip(book.worksheets, tables, strict=True):
            rows = list(sheet.iter_rows(values_only=True))
            assert list(rows[0]) == [c or None for c in table.columns]
            assert len(rows) == len(table.rows) + 1
        text = export.to_csv(tables).decode("utf-8-sig")
        assert tables[0].title in text
    funnel_book = load_workbook(io.BytesIO(export.to_xlsx(export.tables_of(reports[0], "ru"))))
    first = list(funnel_book.worksheets[0].iter_rows(values_only=True))
    assert first[0][:2] == ("Этап", "Вошло")
    assert first[1][:3] == ("S1", 3, 350)
    managers_sheet = load_workbook(io.BytesIO(export.to_xlsx(export.tables_of(reports[2]))))
    anna = next(r for r in managers_sheet.active.iter_rows(values_only=True) if r[0] == "Анна")
    assert anna[3] == 18.5 and anna[7] == 100


async def test_drill_down_exports_are_formula_safe_and_local(world: World) -> None:
    await clients.update_client(world.clients["cA"].id, {"name": "=HYPERLINK(1)"}, actor=world.anna)
    page = await funnel.drill(MARCH, actor=world.head, figure=funnel.WON, key=world.scenario_id)
    tables = export.tables_of(page, "en")
    sheet = load_workbook(io.BytesIO(export.to_xlsx(tables, timezone="Europe/Moscow"))).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("ID", "Deal", "Client")
    assert row[2] == "'=HYPERLINK(1)"
    assert row[5] == 100
    # closed at 10:00 Moscow time, written as the wall clock (XLSX has no zones)
    assert row[8] == msk(3, 5, 10).replace(tzinfo=None)
    lines = list(
        csv.reader(io.StringIO(export.to_csv(tables, timezone="Europe/Moscow").decode("utf-8-sig")))
    )
    assert lines[2][2] == "'=HYPERLINK(1)"
    assert lines[2][8] == "2026-03-05 10:00+03:00"
    assert Decimal(lines[2][5]) == Decimal("100.00")


async def test_stored_values_are_written_in_words(world: World) -> None:
    from crm import labels

    won = await funnel.drill(MARCH, actor=world.head, figure=funnel.WON, key=world.scenario_id)
    row = export.tables_of(won, "ru")[0].rows[0]
    assert row[6] == labels.text(labels.INTEREST_STATUS["won"], "ru") != "won"
    asked = await inquiries.drill(MARCH, actor=world.head, figure=inquiries.RECEIVED)
    statuses = {r[3] for r in export.tables_of(asked, "ru")[0].rows}
    assert statuses == {
        labels.text(labels.INQUIRY_STATUS[s], "ru") for s in ("accepted", "rejected", "open")
    }
    grouped = await base.base(MARCH, actor=world.head, group_by=("kind", "relation"))
    table = export.tables_of(grouped, "ru")[0]
    assert table.columns[:2] == ("Вид", "Тип отношений")
    written = {r[0] for r in table.rows} | {r[1] for r in table.rows}
    assert not written & {"legal", "individual", "buyer"}
    assert labels.text(labels.CLIENT_KIND["legal"], "ru") in written

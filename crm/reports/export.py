"""Reports and drill-downs as files: `tables_of(report)` flattens any report into titled
tables (headers translated), `to_csv` / `to_xlsx` write tables as bytes.

Every text cell goes through `crm.safe_cells.safe_cell` (a customer's name "=HYPERLINK(…)"
stays text in the spreadsheet). Moments are written in the reader's time zone (XLSX cells
are real dates without a zone, CSV cells ISO text); amounts and counts stay numbers;
times are given in hours (funnel) or working minutes (response times), rounded."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from crm.i18n import N_, gettext
from crm.reports.base import LAST_CONTACT, BaseReport
from crm.reports.drill import DrillDown
from crm.reports.funnel import FunnelReport
from crm.reports.inquiries import BUCKET_NAMES, InquiriesReport, InquiryGroup, ResponseFigures
from crm.reports.managers import ManagersReport
from crm.reports.next_response import NextResponse, NextResponseFigures
from crm.reports.pipeline import PipelineReport
from crm.reports.sources import SourceRow, SourcesReport
from crm.reports.stats import Spread
from crm.reports.words import DIMENSION_NAMES, GROUP_WORDS, WORDS, words
from crm.safe_cells import safe_cell


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


Tr = Callable[[str], str]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _spread_hours(s: Spread) -> tuple[float | None, float | None]:
    return _hours(s.median), _hours(s.p90)


def _funnel(report: FunnelReport, t: Tr) -> list[Table]:
    tables = []
    for sc in report.scenarios:
        columns = (
            N_("Stage"),
            N_("Entered"),
            N_("Amount"),
            N_("Went further"),
            N_("To the next stage"),
            N_("Won"),
            N_("To won"),
            N_("Median time in stage, h"),
            N_("90th percentile, h"),
        )
        rows = [
            (
                s.name,
                s.entered,
                s.entered_amount,
                s.advanced,
                s.to_next,
                s.won,
                s.to_won,
                *_spread_hours(s.time_in_stage),
            )
            for s in sc.stages
        ]
        tables.append(Table(f"{t(N_('Funnel'))}: {sc.name}", tuple(map(t, columns)), rows))
    outcome_columns = (
        N_("Scenario"),
        N_("Won"),
        N_("Won amount"),
        N_("Lost"),
        N_("Lost amount"),
        N_("Win rate"),
    )
    outcomes = [
        (s.name, s.won, s.won_amount, s.lost, s.lost_amount, s.win_rate) for s in report.scenarios
    ]
    reasons = [
        (s.name, r.reason, r.count, r.amount, r.share)
        for s in report.scenarios
        for r in s.loss_reasons
    ]
    reason_columns = (N_("Scenario"), N_("Loss reason"), N_("Deals"), N_("Amount"), N_("Share"))
    return [
        *tables,
        Table(t(N_("Won and lost")), tuple(map(t, outcome_columns)), outcomes),
        Table(t(N_("Loss reasons")), tuple(map(t, reason_columns)), reasons),
    ]


def _pipeline(report: PipelineReport, t: Tr) -> list[Table]:
    columns = (
        N_("Scenario"),
        N_("Stage"),
        N_("Manager"),
        N_("Deals"),
        N_("Amount"),
        N_("Average age, days"),
        N_("Without a next step"),
        N_("Overdue step"),
    )
    rows = [
        (
            c.scenario,
            c.stage,
            c.manager,
            c.count,
            c.amount,
            round(c.average_age_days, 1),
            c.no_next_step,
            c.overdue,
        )
        for c in report.cells
    ]
    return [Table(t(N_("Pipeline")), tuple(map(t, columns)), rows)]


def _managers(report: ManagersReport, t: Tr) -> list[Table]:
    columns = (
        N_("Manager"),
        N_("Inquiries accepted"),
        N_("Inquiries rejected"),
        N_("First reply, median, working min"),
        N_("First reply, 90th percentile, working min"),
        N_("Deals opened"),
        N_("Won"),
        N_("Won amount"),
        N_("Lost"),
        N_("Conversion"),
        N_("Interactions done"),
        N_("Interactions overdue"),
        N_("Without a next step"),
        N_("Clients without contact"),
        N_("Plan, amount"),
        N_("Plan done, amount"),
        N_("Plan, wins"),
        N_("Plan done, wins"),
        N_("Revenue"),
        N_("Overdue receivables"),
        N_("Days overdue"),
    )
    rows = [
        (
            r.name,
            r.accepted,
            r.rejected,
            _minutes(r.first_response.median),
            _minutes(r.first_response.p90),
            r.opened,
            r.won,
            r.won_amount,
            r.lost,
            r.conversion,
            r.interactions_done,
            r.interactions_overdue,
            r.no_next_step,
            r.idle_clients,
            r.plan_amount,
            r.plan_amount_done,
            r.plan_wins,
            r.plan_wins_done,
            r.revenue,
            r.overdue_receivables,
            r.days_overdue,
        )
        for r in report.rows
    ]
    return [Table(t(N_("Managers")), tuple(map(t, columns)), rows)]


def _response_row(name: str, f: ResponseFigures) -> tuple[Any, ...]:
    return (
        name,
        f.received,
        f.accepted,
        f.rejected,
        f.waiting,
        _minutes(f.accept.median),
        _minutes(f.accept.p90),
        _minutes(f.first_response.median),
        _minutes(f.first_response.p90),
        *f.buckets,
        f.sla_met,
        f.sla_share,
    )


def _inquiries(report: InquiriesReport, t: Tr) -> list[Table]:
    columns = (
        "",
        N_("Received"),
        N_("Accepted"),
        N_("Rejected"),
        N_("Waiting"),
        N_("Accepted in, median, working min"),
        N_("Accepted in, 90th percentile, working min"),
        N_("First reply, median, working min"),
        N_("First reply, 90th percentile, working min"),
        *BUCKET_NAMES,
        N_("Within the target"),
        N_("Share within the target"),
    )
    headers = tuple(t(c) if c else "" for c in columns)

    def table(title: str, groups: Sequence[InquiryGroup]) -> Table:
        rows = [_response_row(g.name, g.figures) for g in groups]
        return Table(title, (t(title), *headers[1:]), rows)

    reasons = [(r.reason, r.count) for r in report.total.rejected_by_reason]
    return [
        Table(t(N_("Total")), headers, [_response_row(t(N_("Total")), report.total)]),
        table(t(N_("Channels")), report.channels),
        table(t(N_("Managers")), report.managers),
        Table(t(N_("Rejection reasons")), (t(N_("Rejection reason")), t(N_("Inquiries"))), reasons),
        *_next_response(report.next_response, t),
    ]


def _next_row(name: str, f: NextResponseFigures) -> tuple[Any, ...]:
    s = f.next_response
    return (name, f.waits, f.answered, f.waiting, _minutes(s.median), _minutes(s.p90), *f.buckets)


def _next_response(report: NextResponse, t: Tr) -> list[Table]:
    """Next-response time of later customer messages: total, per channel, per manager."""
    columns = (
        N_("Messages waited"),
        N_("Answered"),
        N_("Still waiting"),
        N_("Next reply, median, working min"),
        N_("Next reply, 90th percentile, working min"),
        *BUCKET_NAMES,
    )
    rest = tuple(map(t, columns))
    total = _next_row(t(N_("Total")), report.total)
    return [
        Table(t(N_("Next response")), ("", *rest), [total]),
        Table(
            t(N_("Next response by channel")),
            (t(N_("Channel")), *rest),
            [_next_row(g.name, g.figures) for g in report.channels],
        ),
        Table(
            t(N_("Next response by manager")),
            (t(N_("Manager")), *rest),
            [_next_row(g.name or t(N_("nobody")), g.figures) for g in report.managers],
        ),
    ]


def _source_rows(rows: Sequence[SourceRow]) -> list[tuple[Any, ...]]:
    return [
        (
            r.name,
            r.first_messages,
            r.inquiries,
            r.interests,
            r.interests_amount,
            r.won,
            r.won_amount,
            r.conversion,
        )
        for r in rows
    ]


def _sources(report: SourcesReport, t: Tr) -> list[Table]:
    columns = (
        N_("First messages"),
        N_("Inquiries"),
        N_("Deals"),
        N_("Deals amount"),
        N_("Won"),
        N_("Won amount"),
        N_("Conversion"),
    )
    rest = tuple(map(t, columns))
    return [
        Table(t(N_("Channels")), (t(N_("Channel")), *rest), _source_rows(report.channels)),
        Table(
            t(N_("Lead sources")), (t(N_("Lead source")), *rest), _source_rows(report.lead_sources)
        ),
    ]


def _base(report: BaseReport, t: Tr, locale: str | None) -> list[Table]:
    buckets = [
        t(N_("Last contact under {days} days")).format(days=LAST_CONTACT[0]),
        *(
            t(N_("Last contact {low}-{high} days")).format(low=a, high=b)
            for a, b in itertools.pairwise(LAST_CONTACT)
        ),
        t(N_("Last contact over {days} days")).format(days=LAST_CONTACT[-1]),
        t(N_("Never contacted")),
    ]
    dims = report.group_by
    columns = (
        *(t(DIMENSION_NAMES.get(d, N_("Custom field"))) for d in dims),
        t(N_("Clients")),
        t(N_("With open deals")),
        t(N_("Won amount")),
        *buckets,
    )
    rows = [
        (
            *(
                words(text, GROUP_WORDS.get(d), locale)
                for d, text in zip(dims, g.labels, strict=False)
            ),
            g.clients,
            g.with_open_interests,
            g.won_amount,
            *g.last_contact,
        )
        for g in report.groups
    ]
    q = report.quality
    quality = [
        (t(N_("Clients")), q.clients),
        (t(N_("Without a phone or email")), q.no_contacts),
        (t(N_("Without a responsible")), q.no_responsible),
        (t(N_("Never contacted")), q.no_interaction),
        (t(N_("Possible duplicates")), q.duplicates),
    ]
    return [
        Table(t(N_("Client base")), columns, rows),
        Table(t(N_("Base quality")), (t(N_("Figure")), t(N_("Clients"))), quality),
    ]


def tables_of(report: Any, locale: str | None = None) -> list[Table]:
    """Any report's tables, titles and headers in `locale`."""

    def t(msgid: str) -> str:
        return gettext(msgid, locale)

    if isinstance(report, FunnelReport):
        return _funnel(report, t)
    if isinstance(report, PipelineReport):
        return _pipeline(report, t)
    if isinstance(report, ManagersReport):
        return _managers(report, t)
    if isinstance(report, InquiriesReport):
        return _inquiries(report, t)
    if isinstance(report, SourcesReport):
        return _sources(report, t)
    if isinstance(report, BaseReport):
        return _base(report, t, locale)
    if isinstance(report, DrillDown):
        return [drill_table(report, locale)]
    raise TypeError(f"not a report: {type(report).__name__}")


def drill_table(drill: DrillDown, locale: str | None = None) -> Table:
    """A drill-down's records, stored values (a deal's status, a client's kind) in words."""
    tables = [WORDS.get((drill.kind, column)) for column in drill.columns]
    rows = [
        tuple(words(value, table, locale) for value, table in zip(row, tables, strict=False))
        for row in drill.rows
    ]
    return Table(
        gettext(N_("Records"), locale), tuple(gettext(c, locale) for c in drill.columns), rows
    )


def _cell(value: Any, zone: ZoneInfo, *, xlsx: bool) -> Any:
    if value is None:
        return None if xlsx else ""
    if isinstance(value, datetime):
        local = value.astimezone(zone)
        return local.replace(tzinfo=None) if xlsx else local.isoformat(" ", "minutes")
    if isinstance(value, Enum):
        return safe_cell(str(value.value))
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | int | float):
        return value if xlsx else str(value)
    return safe_cell(str(value))


def to_csv(tables: Sequence[Table], *, timezone: str = "UTC") -> bytes:
    """The tables one after the other (a title line, the headers, the rows, a blank
    line), UTF-8 with a byte-order mark so that spreadsheet programs read Cyrillic."""
    zone, out = ZoneInfo(timezone), io.StringIO()
    writer = csv.writer(out)
    for n, table in enumerate(tables):
        if n:
            writer.writerow([])
        writer.writerow([safe_cell(table.title)])
        writer.writerow([safe_cell(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([_cell(v, zone, xlsx=False) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_name(title: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Sheet"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[:25]} {n}"
    taken.add(name.lower())
    return name


def to_xlsx(tables: Sequence[Table], *, timezone: str = "UTC") -> bytes:
    """A workbook with a sheet per table (headers in the first row)."""
    from openpyxl import Workbook

    zone, taken = ZoneInfo(timezone), set[str]()
    book = Workbook()
    book.remove(book.active)
    for table in tables or [Table("", (), [])]:
        sheet = book.create_sheet(_sheet_name(table.title, taken))
        sheet.append([safe_cell(c) for c in table.columns])
        for row in table.rows:
            sheet.append([_cell(v, zone, xlsx=True) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

"""Drill-downs: the records behind a figure, as a page of rows.

A report's `drill(...)` names the records with a FROM/WHERE over one kind of record
(interests `i` with their client `c`; clients `c`; inquiries `q` with `c`; interactions
`x` with `c`), built from the same `Scope` as the figure, so a drill-down shows exactly
what was counted and nothing the reader may not see. Here the count and one page of rows
(ids first) are read; the columns are plain values, named for the exports' headers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.reports.scope import Sql
from crm.reports.stats import as_moment, money
from crm.rows import query

PER_PAGE = 50
MAX_PER_PAGE = 1000


class RecordKind(StrEnum):
    INTERESTS = "interests"
    CLIENTS = "clients"
    INQUIRIES = "inquiries"
    INTERACTIONS = "interactions"
    MESSAGES = "messages"  # customers' messages (next-response waits)


@dataclass(frozen=True)
class DrillDown:
    kind: RecordKind
    total: int
    page: int
    per_page: int
    ids: list[int]  # the page's records, in order
    columns: tuple[str, ...]  # English msgids of the column headers
    rows: list[tuple[Any, ...]]


# kind -> (the alias its id is read from, the columns, their SQL over the page's rows)
_SHAPES: dict[RecordKind, tuple[str, tuple[str, ...], str, str]] = {
    RecordKind.INTERESTS: (
        "i",
        (
            N_("ID"),
            N_("Deal"),
            N_("Client"),
            N_("Stage"),
            N_("Responsible"),
            N_("Amount"),
            N_("Status"),
            N_("Created"),
            N_("Closed"),
        ),
        "i.id, i.title, c.name, g.name, u.full_name, i.amount, i.status, i.created_at, i.closed_at",
        "interests i JOIN clients c ON c.id = i.client_id JOIN stages g ON g.id = i.stage_id"
        " LEFT JOIN users u ON u.id = i.responsible_id",
    ),
    RecordKind.CLIENTS: (
        "c",
        (
            N_("ID"),
            N_("Client"),
            N_("Kind"),
            N_("Relation"),
            N_("Region"),
            N_("Lead source"),
            N_("Responsible"),
        ),
        "c.id, c.name, c.kind, c.relation_type, c.region, c.lead_source, u.full_name",
        "clients c LEFT JOIN users u ON u.id = c.responsible_id",
    ),
    RecordKind.INQUIRIES: (
        "q",
        (
            N_("ID"),
            N_("Client"),
            N_("Channel"),
            N_("Status"),
            N_("First message"),
            N_("Decided"),
            N_("Decided by"),
            N_("Rejection reason"),
        ),
        "q.id, c.name, h.name, q.status, q.first_message_at, q.decided_at, u.full_name, r.text",
        "inquiries q JOIN clients c ON c.id = q.client_id JOIN channels h ON h.id = q.channel_id"
        " LEFT JOIN users u ON u.id = q.decided_by_id"
        " LEFT JOIN reasons r ON r.id = q.rejection_reason_id",
    ),
    RecordKind.INTERACTIONS: (
        "x",
        (
            N_("ID"),
            N_("Kind"),
            N_("Subject"),
            N_("Client"),
            N_("Responsible"),
            N_("State"),
            N_("Planned"),
            N_("Done"),
        ),
        "x.id, x.kind, x.subject, c.name, u.full_name, x.state, x.planned_at, x.done_at",
        "interactions x JOIN clients c ON c.id = x.client_id"
        " LEFT JOIN users u ON u.id = x.responsible_id",
    ),
    RecordKind.MESSAGES: (
        "m",
        (N_("ID"), N_("Client"), N_("Channel"), N_("Message"), N_("Received")),
        "m.id, c.name, h.name, SUBSTR(m.text, 1, 200), m.created_at",
        "messages m JOIN conversations v ON v.id = m.conversation_id"
        " JOIN clients c ON c.id = v.client_id JOIN channels h ON h.id = m.channel_id",
    ),
}


def unknown_figure() -> ValidationFailed:
    return ValidationFailed.field("figure", N_("Unknown figure"))


# the columns holding moments (SQLite returns them as text) and amounts, per kind
_MOMENTS = {
    RecordKind.INTERESTS: (7, 8),
    RecordKind.CLIENTS: (),
    RecordKind.INQUIRIES: (4, 5),
    RecordKind.INTERACTIONS: (6, 7),
    RecordKind.MESSAGES: (4,),
}


async def page_of(
    kind: RecordKind, sql: Sql, from_where: str, *, page: int = 1, per_page: int = PER_PAGE
) -> DrillDown:
    """The records of `from_where` ("FROM ... WHERE ...", its record aliased as the kind's
    alias): how many, and page `page` of them by id."""
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    alias, columns, select, joined = _SHAPES[kind]
    count_rows = await query(f"SELECT COUNT(*) {from_where}", sql.params)
    total = int(count_rows[0][0]) if count_rows else 0
    limit, offset = sql(per_page), sql((page - 1) * per_page)
    rows = await query(
        f"SELECT {select} FROM {joined} WHERE {alias}.id IN"
        f" (SELECT {alias}.id {from_where} ORDER BY {alias}.id LIMIT {limit} OFFSET {offset})"
        f" ORDER BY {alias}.id",
        sql.params,
    )
    out = []
    for row in rows:
        values = list(row)
        for index in _MOMENTS[kind]:
            values[index] = as_moment(values[index])
        if kind == RecordKind.INTERESTS:
            values[5] = None if values[5] is None else money(values[5])
        out.append(tuple(values))
    return DrillDown(kind, total, page, per_page, [int(r[0]) for r in out], columns, out)


async def interests_page(
    sql: Sql, conditions: list[str], *, page: int = 1, per_page: int = PER_PAGE
) -> DrillDown:
    """The interests `i` (joined to their client `c`) meeting `conditions`."""
    inner = "SELECT i.id FROM interests i JOIN clients c ON c.id = i.client_id WHERE " + (
        " AND ".join(conditions) or "TRUE"
    )
    return await page_of(
        RecordKind.INTERESTS,
        sql,
        f"FROM interests i WHERE i.id IN ({inner})",
        page=page,
        per_page=per_page,
    )


async def page_of_ids(
    kind: RecordKind, ids: list[int], *, page: int = 1, per_page: int = PER_PAGE
) -> DrillDown:
    """A page of records named by id (figures computed outside SQL, such as working
    minutes, pick their records in Python): `ids` in the order given."""
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    chosen = ids[(page - 1) * per_page : page * per_page]
    sql, alias = Sql(), _SHAPES[kind][0]
    marks = ", ".join(sql(record_id) for record_id in chosen) or "NULL"
    from_where = f"FROM {kind.value} {alias} WHERE {alias}.id IN ({marks})"
    found = await page_of(kind, sql, from_where, per_page=MAX_PER_PAGE)
    order = {record_id: n for n, record_id in enumerate(chosen)}
    rows = sorted(found.rows, key=lambda row: order[int(row[0])])
    return DrillDown(kind, len(ids), page, per_page, [int(r[0]) for r in rows], found.columns, rows)

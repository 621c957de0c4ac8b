"""The client list as a file: every client matching the list's filters and visible to the
reader (`crm.client_list.client_query`), in the list's order, up to EXPORT_MAX rows (more
is refused with a ValidationFailed that says so and asks for a narrower filter).

Rows are read in batches of BATCH: `csv_chunks` yields the CSV a batch at a time (the web
streams it), `xlsx_bytes` hands each batch to a worker thread that appends it to a
write-only workbook (openpyxl), so the event loop keeps serving. Every text cell goes through
`crm.safe_cells.safe_cell`; moments are in the reader's time zone."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from crm import labels
from crm.client_list import ClientFilters, client_query, last_contacts, sorted_query
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import Client, ClientContact, ContactKind, User
from crm.safe_cells import safe_cell

EXPORT_MAX = 100_000
Rows = list[list[Any]]
BATCH = 2_000

COLUMNS = (
    N_("ID"),
    N_("Client"),
    N_("Legal name"),
    N_("Kind"),
    N_("INN"),
    N_("Relation"),
    N_("Responsible"),
    N_("Tags"),
    N_("Phones"),
    N_("Emails"),
    N_("Region"),
    N_("Created"),
    N_("Last contact"),
)


@dataclass(frozen=True)
class ExportSpec:
    """Who exports what, and how values read: the kind and relation values in `locale`'s
    words (crm.labels), `t` the column titles."""

    actor: User
    filters: ClientFilters
    sort: str
    timezone: str
    locale: str | None
    t: Callable[[str], str]


async def matching_in_order(spec: ExportSpec) -> list[int]:
    """The ids to export, in the list's order; more than EXPORT_MAX: refused."""
    limit = EXPORT_MAX
    query = sorted_query(await client_query(spec.actor, spec.filters), spec.sort)
    ids = cast(list[int], await query.limit(limit + 1).values_list("id", flat=True))
    if len(ids) > limit:
        raise ValidationFailed.field(
            "export",
            N_("More than {limit} clients match: narrow the filter to export them"),
            limit=limit,
        )
    return ids


def _moment(value: datetime | None, zone: ZoneInfo, *, xlsx: bool) -> Any:
    if value is None:
        return None
    local = value.astimezone(zone).replace(tzinfo=None)
    return local if xlsx else local.isoformat(sep=" ", timespec="minutes")


async def _batch_rows(spec: ExportSpec, ids: Sequence[int], *, xlsx: bool) -> list[list[Any]]:
    zone = ZoneInfo(spec.timezone)
    found = {
        c.id: c
        for c in await Client.filter(id__in=list(ids)).prefetch_related("tags", "responsible")
    }
    phones: dict[int, list[str]] = {}
    emails: dict[int, list[str]] = {}
    for cid, kind, value in (
        await ClientContact.filter(client_id__in=list(ids))
        .order_by("id")
        .values_list("client_id", "kind", "value")
    ):
        (phones if kind == ContactKind.PHONE else emails).setdefault(cid, []).append(value)
    last = await last_contacts(list(ids))
    rows = []
    for cid in ids:
        c = found.get(cid)
        if c is None:  # deleted meanwhile
            continue
        rows.append(
            [
                c.id,
                safe_cell(c.name),
                safe_cell(c.legal_name),
                safe_cell(labels.client_kind(c, spec.locale)),
                safe_cell(c.inn or ""),
                safe_cell(labels.label(c.relation_type, spec.locale)),
                safe_cell(c.responsible.full_name if c.responsible else ""),
                safe_cell(", ".join(sorted(t.name for t in c.tags))),
                safe_cell(", ".join(phones.get(cid, []))),
                safe_cell(", ".join(emails.get(cid, []))),
                safe_cell(c.region),
                _moment(c.created_at, zone, xlsx=xlsx),
                _moment(last.get(cid), zone, xlsx=xlsx),
            ]
        )
    return rows


async def _batches(
    spec: ExportSpec, ids: list[int], *, xlsx: bool
) -> AsyncIterator[list[list[Any]]]:
    for start in range(0, len(ids), BATCH):
        yield await _batch_rows(spec, ids[start : start + BATCH], xlsx=xlsx)


def _csv_text(rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


async def csv_chunks(spec: ExportSpec, ids: list[int]) -> AsyncIterator[bytes]:
    """The CSV of `ids` (from `matching_in_order`): a byte-order mark and the header row
    first (spreadsheet programs then read Cyrillic), then a chunk per batch."""
    yield "\ufeff".encode() + _csv_text([[safe_cell(spec.t(c)) for c in COLUMNS]])
    async for rows in _batches(spec, ids, xlsx=False):
        yield _csv_text(rows)


def _append(sheet: Any, rows: Rows) -> None:
    for row in rows:
        sheet.append(row)


def _save(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def xlsx_bytes(spec: ExportSpec, ids: list[int]) -> bytes:
    """The workbook of `ids`: a batch read, then written by a worker thread (openpyxl's
    write-only sheet keeps the written rows in a temporary file, not in memory), and so on;
    the file is saved in a thread too."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Clients")
    sheet.append([safe_cell(spec.t(c)) for c in COLUMNS])
    async for batch in _batches(spec, ids, xlsx=True):
        await asyncio.to_thread(_append, sheet, batch)
    return await asyncio.to_thread(_save, book)

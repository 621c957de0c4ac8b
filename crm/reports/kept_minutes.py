"""Kept figures of the inquiries: each inquiry's first reply a person wrote
(`first_reply_at`) and the working minutes from its first message to its acceptance
(`accept_minutes`, accepted ones only) and to that reply (`first_reply_minutes`), so that
the inquiries and managers reports group them in SQL instead of counting minutes per row.

The promise: after `ready()` returned True, every inquiry's kept figures equal what counting
afresh gives (the first reply by `first_reply()`, the minutes by crm.working_time under the
company's calendar now), except for a reply or decision written while the report reads.

How it is kept, with nothing more on the write paths (bench.ingest, bench.bot):
- A row is *settled* when `kept_calendar` holds `calendar_stamp()` of the company's
  calendar now. NULL means "count it all again, first reply included": a new inquiry, and a
  decision (crm.inquiries sets it in the UPDATE that decides). Another stamp means "count
  the minutes again": the calendar (hours, days, holidays, zone) changed since; the first
  reply stays, as a calendar does not move it.
- A message is written with `figures_pending` TRUE (the model's default: no statement
  more); the partial index messages_figures_pending holds only people's replies among them
  (an outgoing message with an author; a stage robot's has none, a customer's is incoming).
  Settling gives each pending reply to the inquiries whose first reply it may be (their
  stamp set NULL), then clears its flag.
- `settle()` does both in batches of BATCH, each one transaction; on PostgreSQL under an
  advisory lock, so the worker's tick and a report never count the same rows at once (a
  decision racing a batch is not overwritten: the batch's UPDATE requires the status it
  read). The worker runs it every minute (crmhub.runtime); a report runs `ready()` first,
  which settles what is left, unless more than READY_LIMIT rows are (just after a calendar
  change or the migration): then it returns False and the report counts the old way, from
  every row, until the worker has caught up.

The migration (0021) fills `first_reply_at` with one UPDATE and stamps the rows STALE, so
the worker counts their minutes in batches (1.5-7 s per 48k rows on the bench machine)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from crm.company import get_company, work_calendar
from crm.models import Direction, InquiryStatus
from crm.reports.stats import as_moment
from crm.rows import for_driver, moment
from crm.sql_indexes import FIGURES_PENDING_PREDICATE
from crm.working_time import WorkCalendar, WorkClock

BATCH = 5_000
READY_LIMIT = 20_000  # a report settles this many rows at most before reading
STALE = 0  # a stamp no calendar has: the minutes to count, the first reply known
LOCK_KEY = 1_418_018  # pg_advisory_xact_lock: one settler at a time


def calendar_stamp(calendar: WorkCalendar) -> int:
    """A number that changes when the calendar does (1..2**31-1, never STALE)."""
    text = "|".join(
        [
            calendar.timezone,
            ",".join(str(d) for d in sorted(calendar.work_days)),
            ",".join(d.isoformat() for d in sorted(calendar.holidays)),
            str(calendar.day_start),
            str(calendar.day_end),
        ]
    )
    return zlib.crc32(text.encode()) % 2_147_483_646 + 1


def first_reply(column: str, q: str = "q") -> str:
    """SQL for `column` of the first message a person sent in the inquiry `q`'s conversation
    since its first message."""
    return (
        f"(SELECT m.{column} FROM messages m WHERE m.conversation_id = {q}.conversation_id"
        f" AND m.direction = '{Direction.OUT.value}' AND m.author_id IS NOT NULL"
        f" AND m.created_at >= {q}.first_message_at ORDER BY m.created_at, m.id LIMIT 1)"
    )


def _unsettled(stamp: int) -> str:
    """The rows not settled under `stamp`, along the kept_calendar index (the stamp written
    out, not bound: a generic plan would not know how few rows there are)."""
    return f"(q.kept_calendar IS NULL OR q.kept_calendar < {stamp} OR q.kept_calendar > {stamp})"


async def _rows(conn: BaseDBAsyncClient, sql: str, params: list[Any]) -> list[Any]:
    _, rows = await conn.execute_query(for_driver(sql, conn.capabilities.dialect), params)
    return list(rows)


async def _lock(conn: BaseDBAsyncClient) -> None:
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")


async def _give_replies(conn: BaseDBAsyncClient) -> int:
    """Pending replies to their inquiries (stamp NULL where the reply may be the first)."""
    rows = await _rows(
        conn,
        f"SELECT id FROM messages WHERE {FIGURES_PENDING_PREDICATE} ORDER BY id LIMIT {BATCH}",
        [],
    )
    ids = [int(r[0]) for r in rows]
    if not ids:
        return 0
    marks = ", ".join(f"${n}" for n in range(1, len(ids) + 1))
    await _rows(
        conn,
        "UPDATE inquiries SET kept_calendar = NULL WHERE id IN (SELECT q.id FROM inquiries q"
        " JOIN messages m ON m.conversation_id = q.conversation_id"
        f" WHERE m.id IN ({marks}) AND m.created_at >= q.first_message_at"
        " AND (q.first_reply_at IS NULL OR q.first_reply_at > m.created_at))",
        ids,
    )
    await _rows(conn, f"UPDATE messages SET figures_pending = NULL WHERE id IN ({marks})", ids)
    return len(ids)


@dataclass(frozen=True)
class _Counted:
    id: int
    status: str
    first_reply_at: datetime | None
    accept_minutes: float | None
    first_reply_minutes: float | None


def count_minutes(calendar: WorkCalendar, rows: list[tuple[Any, ...]]) -> list[_Counted]:
    """(id, status, first message, decided, first reply) rows counted under `calendar`."""
    read = [(int(r[0]), str(r[1]), as_moment(r[2]), as_moment(r[3]), as_moment(r[4])) for r in rows]
    moments = [m for r in read for m in r[2:] if m is not None]
    if not moments:
        return []
    zone = calendar.zone
    clock = WorkClock(
        calendar,
        min(moments).astimezone(zone).date() - timedelta(days=1),
        max(moments).astimezone(zone).date() + timedelta(days=1),
    )
    out, accepted = [], InquiryStatus.ACCEPTED.value
    for id_, status, first, decided, replied in read:
        assert first is not None
        accept, reply = clock.minutes_from(first, decided if status == accepted else None, replied)
        out.append(_Counted(id_, status, replied, accept, reply))
    return out


async def _write(conn: BaseDBAsyncClient, counted: list[_Counted], stamp: int) -> None:
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(
            "UPDATE inquiries q SET first_reply_at = v.r, accept_minutes = v.a,"
            " first_reply_minutes = v.f, kept_calendar = $6"
            " FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::float8[], $5::float8[])"
            " AS v(id, s, r, a, f) WHERE q.id = v.id AND q.status = v.s",
            [
                [c.id for c in counted],
                [c.status for c in counted],
                [c.first_reply_at for c in counted],
                [c.accept_minutes for c in counted],
                [c.first_reply_minutes for c in counted],
                stamp,
            ],
        )
        return
    await conn.execute_many(
        "UPDATE inquiries SET first_reply_at = ?, accept_minutes = ?, first_reply_minutes = ?,"
        " kept_calendar = ? WHERE id = ? AND status = ?",
        [
            [
                None if c.first_reply_at is None else moment(c.first_reply_at),
                c.accept_minutes,
                c.first_reply_minutes,
                stamp,
                c.id,
                c.status,
            ]
            for c in counted
        ],
    )


async def _count_batch(
    conn: BaseDBAsyncClient, calendar: WorkCalendar, stamp: int, after: int
) -> tuple[int, int]:
    """Count the next BATCH unsettled rows after id `after`: (the last id, how many)."""
    rows = await _rows(
        conn,
        "SELECT q.id, q.status, q.first_message_at, q.decided_at,"
        f" CASE WHEN q.kept_calendar IS NULL THEN {first_reply('created_at')}"
        " ELSE q.first_reply_at END"
        f" FROM inquiries q WHERE {_unsettled(stamp)} AND q.id > $1 ORDER BY q.id LIMIT {BATCH}",
        [after],
    )
    if not rows:
        return 0, 0
    await _write(conn, count_minutes(calendar, rows), stamp)
    return int(rows[-1][0]), len(rows)


async def settle(calendar: WorkCalendar) -> int:
    """Give the pending replies to their inquiries and count every unsettled row, in
    batches of BATCH (one transaction each). Returns how many rows were counted."""
    stamp, counted = calendar_stamp(calendar), 0
    while True:
        after, gave = 0, False
        while True:  # one pass along the ids
            async with in_transaction() as conn:
                await _lock(conn)
                gave = bool(await _give_replies(conn)) or gave
                after, n = await _count_batch(conn, calendar, stamp, after)
            counted += n
            if not n:
                break
        if not gave:  # else replies may have unsettled rows behind the pass
            return counted


async def unsettled(calendar: WorkCalendar, limit: int) -> int:
    """How many rows are not settled under `calendar`, counting up to `limit`."""
    conn = connections.get("default")
    rows = await _rows(
        conn,
        f"SELECT COUNT(*) FROM (SELECT 1 FROM inquiries q"
        f" WHERE {_unsettled(calendar_stamp(calendar))} LIMIT {limit}) t",
        [],
    )
    return int(rows[0][0])


async def ready(calendar: WorkCalendar) -> bool:
    """Settle what is left before a report reads the kept figures; False (nothing done)
    when more than READY_LIMIT rows are: the report then counts from every row. Usually
    nothing is left, and this is one query along the two indexes."""
    conn = connections.get("default")
    limit = READY_LIMIT + 1
    rows = await _rows(
        conn,
        f"SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE {FIGURES_PENDING_PREDICATE}"
        f" LIMIT {limit}) p), (SELECT COUNT(*) FROM (SELECT 1 FROM inquiries q"
        f" WHERE {_unsettled(calendar_stamp(calendar))} LIMIT {limit}) u)",
        [],
    )
    left = int(rows[0][0]) + int(rows[0][1])
    if left > READY_LIMIT:
        return False
    if left:
        await settle(calendar)
    return True


async def settle_tick() -> int:
    """The worker's tick: settle under the company's calendar now."""
    return await settle(work_calendar(await get_company()))


async def backfill_first_replies(conn: BaseDBAsyncClient, *, give_pending: bool = True) -> None:
    """Every unsettled inquiry's first reply in one UPDATE, its minutes left to `settle`
    (stamp STALE); with `give_pending`, the pending replies are then marked given (they
    are in the first replies just read). For the migration (whose existing messages have
    no flag) and for rows written in bulk (crm.demo)."""
    await conn.execute_script(
        f"UPDATE inquiries SET first_reply_at = {first_reply('created_at', 'inquiries')},"
        f" kept_calendar = {STALE} WHERE kept_calendar IS NULL"
    )
    if give_pending:
        await conn.execute_script(
            f"UPDATE messages SET figures_pending = NULL WHERE {FIGURES_PENDING_PREDICATE}"
        )

"""Claiming rows exactly once across processes: the queue primitive of reminders and the
outbox. One statement marks a lease on due rows and returns them; on PostgreSQL the
candidates are picked `FOR UPDATE SKIP LOCKED`, so concurrent claimers get disjoint rows;
SQLite has one writer, so the single UPDATE ... RETURNING is atomic there."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise import connections

from crm import clock


async def claim(
    table: str,
    where: str,
    params: list[object],
    *,
    lease_column: str,
    lease: timedelta,
    order_by: str,
    limit: int,
    now: datetime | None = None,
) -> list[int]:
    """Lease up to `limit` rows of `table` matching `where` whose lease has expired; their
    ids, ascending.

    `where` uses `{}` for each of `params`, in order; they are bound, never interpolated."""
    rows = await _claim(
        table,
        where,
        params,
        lease_column=lease_column,
        lease=lease,
        order_by=order_by,
        limit=limit,
        now=now,
        returning="id",
    )
    return sorted(int(row[0]) for row in rows)


async def claim_rows(
    table: str,
    where: str,
    params: list[object],
    *,
    columns: Sequence[str],
    lease_column: str,
    lease: timedelta,
    order_by: str,
    limit: int,
    now: datetime | None = None,
) -> list[Sequence[Any]]:
    """`claim()`, returning the leased rows themselves (their `columns`, in that order,
    as the driver gives them; rows in no particular order), so that the caller needs no
    second query to load them."""
    return await _claim(
        table,
        where,
        params,
        lease_column=lease_column,
        lease=lease,
        order_by=order_by,
        limit=limit,
        now=now,
        returning=", ".join(columns),
    )


async def _claim(
    table: str,
    where: str,
    params: list[object],
    *,
    lease_column: str,
    lease: timedelta,
    order_by: str,
    limit: int,
    now: datetime | None,
    returning: str,
) -> list[Sequence[Any]]:
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    moment = now or clock.now()
    values: list[object] = [moment + lease, *params, moment, limit]
    marks = [f"${i}" if postgres else f"?{i}" for i in range(1, len(values) + 1)]
    condition = where.format(*marks[1 : 1 + len(params)])
    lease_free = f"({lease_column} IS NULL OR {lease_column} < {marks[-2]})"
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    sql = (
        f"UPDATE {table} SET {lease_column} = {marks[0]} WHERE id IN ("
        f"SELECT id FROM {table} WHERE {condition} AND {lease_free} "
        f"ORDER BY {order_by} LIMIT {marks[-1]}{lock}) AND {lease_free} RETURNING {returning}"
    )
    if postgres:
        # tortoise's execute_query() drops the rows of a statement starting with UPDATE;
        # as a CTE the rows come back as they are (records, no dicts to build).
        sql = f"WITH claimed AS ({sql}) SELECT * FROM claimed"
    else:
        # tortoise stores SQLite datetimes as UTC ISO text; compare in the same form.
        values = [
            v.astimezone(UTC).isoformat(" ") if isinstance(v, datetime) else v for v in values
        ]
    _, rows = await conn.execute_query(sql, values)
    return cast(list[Sequence[Any]], rows)

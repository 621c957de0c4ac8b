"""Claiming rows exactly once across processes: the queue primitive of reminders and the
outbox. One statement marks a lease on due rows and returns their ids; on PostgreSQL the
candidates are picked `FOR UPDATE SKIP LOCKED`, so concurrent claimers get disjoint rows;
SQLite has one writer, so the single UPDATE ... RETURNING is atomic there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    """Lease up to `limit` rows of `table` matching `where` whose lease has expired.

    `where` uses `{}` for each of `params`, in order; they are bound, never interpolated."""
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
        f"ORDER BY {order_by} LIMIT {marks[-1]}{lock}) AND {lease_free} RETURNING id"
    )
    if not postgres:
        # tortoise stores SQLite datetimes as UTC ISO text; compare in the same form.
        values = [
            v.astimezone(UTC).isoformat(" ") if isinstance(v, datetime) else v for v in values
        ]
    rows = await conn.execute_query_dict(sql, values)
    return sorted(int(r["id"]) for r in rows)

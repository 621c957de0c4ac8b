"""Writing the demo's bulk rows: COPY on PostgreSQL, executemany on SQLite, one
transaction per chunk."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from crm.demo.rows import COLUMNS, Rows


class CopyWriter:
    """PostgreSQL: COPY each table of a chunk in one transaction.

    As a superuser it skips the foreign key triggers (`session_replication_role = replica`,
    what pg_restore --disable-triggers does): they cost more than the COPY itself, and the
    rows point only at ids allocated here or read from the database just before."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.skip_triggers: bool | None = None

    async def write(self, rows: Rows) -> None:
        if self.skip_triggers is None:
            self.skip_triggers = await self.conn.fetchval("SHOW is_superuser") == "on"
        async with self.conn.transaction():
            await self.conn.execute("SET LOCAL synchronous_commit TO off")
            if self.skip_triggers:
                await self.conn.execute("SET LOCAL session_replication_role TO replica")
            for table, columns in COLUMNS.items():
                if rows[table]:
                    await self.conn.copy_records_to_table(
                        table, records=rows[table], columns=columns
                    )

    async def finish(self, counts: Counter[str]) -> None:
        """Move each id sequence past the explicit ids, and refresh planner statistics."""
        for table, columns in COLUMNS.items():
            if counts[table] and columns[0] == "id":
                await self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
                )
        await self.conn.execute(f"ANALYZE {', '.join(t for t in COLUMNS if counts[t])}")


class InsertWriter:
    """SQLite: executemany per table in one transaction (tortoise's connection autocommits)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def write(self, rows: Rows) -> None:
        await self.conn.execute("BEGIN")
        try:
            for table, columns in COLUMNS.items():
                if rows[table]:
                    marks = ", ".join("?" * len(columns))
                    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                    await self.conn.executemany(sql, rows[table])
        except BaseException:
            await self.conn.rollback()
            raise
        await self.conn.commit()

    async def finish(self, counts: Counter[str]) -> None:
        return None


async def next_ids(conn: BaseDBAsyncClient) -> dict[str, int]:
    ids = {}
    for table, columns in COLUMNS.items():
        if columns[0] == "id":
            rows = await conn.execute_query_dict(f"SELECT MAX(id) AS top FROM {table}")
            ids[table] = int(rows[0]["top"] or 0) + 1
    return ids

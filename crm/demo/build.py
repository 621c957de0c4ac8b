"""Realistic Russian demo data, fast enough for a million clients.

The few setup rows (managers, scenarios, custom fields, tags, loss reasons) go through the
services. The bulk (clients, contacts, key persons, interests, stage changes, interactions)
is generated in chunks from one `random.Random(seed)` with ids allocated up front, and
written with COPY on PostgreSQL (executemany on SQLite): a service call per row would take
hours for a million clients.

The package's modules: `words` (the vocabulary), `identifiers` (valid, unique INNs and
phones), `reference` (the reference rows, through the services), `rows` (the bulk's rows),
`writers` (COPY / executemany); here, `build`, the chunks are generated and written."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime

from tortoise import connections

from crm import clock, last_contact, stage_moves
from crm.company import get_company, work_calendar
from crm.demo.desk import desk_rows
from crm.demo.reference import prepare
from crm.demo.rows import COLUMNS, Builder, Rows
from crm.demo.writers import CopyWriter, InsertWriter, next_ids
from crm.reports import kept_minutes

CHUNK = 20_000


def _chunks(total: int) -> Iterator[int]:
    done = 0
    while done < total:
        size = min(CHUNK, total - done)
        yield size
        done += size


async def generate(
    n_clients: int,
    *,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Add `n_clients` demo clients with their contacts, key persons, interests and
    interactions (times relative to `now`); the same seed gives the same data. Returns
    the number of rows added per table. Not meant to run beside other writers."""
    if n_clients < 0:
        raise ValueError("n_clients must not be negative")
    moment = now or clock.now()
    setup = await prepare()
    conn = connections.get("default")
    builder = Builder(random.Random(seed), setup, await next_ids(conn), moment)
    _, before = await conn.execute_query("SELECT COALESCE(MAX(id), 0) FROM clients")
    counts: Counter[str] = Counter()
    async with conn.acquire_connection() as raw:
        postgres = conn.capabilities.dialect == "postgres"
        writer = CopyWriter(raw) if postgres else InsertWriter(raw)
        done = 0
        last: Rows = {}  # the last chunk: today's desk is made of its clients
        async for rows in _pipelined(builder, n_clients, writer):
            counts.update({table: len(table_rows) for table, table_rows in rows.items()})
            done += len(rows["clients"])
            last = rows
            if progress is not None:
                progress(done, n_clients)
        await _write_desk(builder, last, writer, counts)
        await writer.finish(counts)
    # the inquiries' kept figures (crm.reports.kept_minutes), as the worker would keep them
    await kept_minutes.backfill_first_replies(conn)
    await kept_minutes.settle(work_calendar(await get_company()))
    await stage_moves.settle(analyze=True)  # the funnel's kept values of the moves written
    await last_contact.backfill(conn, since_client=int(before[0][0]))  # written in bulk
    return {"users": setup.created_users, **{table: counts[table] for table in COLUMNS}}


async def _write_desk(
    builder: Builder, last: Rows, writer: CopyWriter | InsertWriter, counts: Counter[str]
) -> None:
    """Today's desk (crm.demo.desk): waiting inquiries, unanswered conversations."""
    rows = desk_rows(builder.rng, COLUMNS, last, builder.setup.channels, builder._id, builder.now)
    if rows:
        await writer.write({table: rows.get(table, []) for table in COLUMNS})
        counts.update({table: len(table_rows) for table, table_rows in rows.items()})


async def _pipelined(
    builder: Builder, total: int, writer: CopyWriter | InsertWriter
) -> AsyncIterator[Rows]:
    """Write chunk after chunk, generating the next one in a thread meanwhile (the database
    works on one core, Python on the other). Yields each chunk once it is written."""
    sizes = list(_chunks(total))
    if not sizes:
        return
    rows = await asyncio.to_thread(builder.chunk, sizes[0])
    for index in range(len(sizes)):
        following = (
            asyncio.ensure_future(asyncio.to_thread(builder.chunk, sizes[index + 1]))
            if index + 1 < len(sizes)
            else None
        )
        try:
            await writer.write(rows)
        finally:
            if following is not None and not following.done():
                await asyncio.wait([following])
        yield rows
        if following is not None:
            rows = following.result()

"""bench.domain's data: the scratch database made and topped up with `crm.demo`, the
proposed indexes, the rows the cases work on (the busiest interest, the bulk's clients), and
the due reminders the claim case adds for itself and removes."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from crm import clock, demo, sql_indexes
from crm.models import Client, Interaction, InteractionKind, InteractionState, User

BULK = 10_000
CLAIM_LIMIT = 100
CLAIM_MARK = "bench.domain: due reminder"


async def ensure_database(dsn: str) -> None:
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def populate(n_clients: int, seed: int) -> float | None:
    """Top the database up to `n_clients` clients; the seconds it took, or None."""
    have = await Client.all().count()
    if have >= n_clients:
        print(f"reusing the database: {have:,} clients")
        return None
    print(f"generating {n_clients - have:,} clients ...")

    def progress(done: int, total: int) -> None:
        sys.stdout.write(f"\r  {done:,}/{total:,}")
        sys.stdout.flush()

    started = time.perf_counter()
    stats = await demo.generate(n_clients - have, seed=seed + have, progress=progress)
    took = time.perf_counter() - started
    print(f"\n  {took:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in stats.items()))
    return took


async def create_proposed_indexes(raw: Any) -> list[str]:
    """Create the indexes of crm/sql_indexes.py that the database lacks (the migrations
    do not hold them yet); the names of those created, to drop after the run."""
    have = {
        r["indexname"]
        for r in await raw.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
    }
    created = []
    for index in sql_indexes.INDEXES:
        if index.name not in have:
            await raw.execute(index.create_postgres)
            created.append(index.name)
    await raw.execute("ANALYZE interactions")
    return created


async def pick_interest(raw: Any) -> tuple[int, int]:
    """The interest with the most interactions (the feed's worst case) and their count."""
    row = await raw.fetchrow(
        "SELECT interest_id, COUNT(*) AS n FROM interactions WHERE interest_id IS NOT NULL "
        "GROUP BY interest_id ORDER BY n DESC, interest_id LIMIT 1"
    )
    return int(row["interest_id"]), int(row["n"])


async def bulk_ids(raw: Any) -> list[int]:
    """BULK client ids spread evenly over the table."""
    total = await raw.fetchval("SELECT COUNT(*) FROM clients WHERE merged_into_id IS NULL")
    step = max(1, total // BULK)
    rows = await raw.fetch(
        "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM clients "
        "WHERE merged_into_id IS NULL) t WHERE n % $1 = 0 ORDER BY id LIMIT $2",
        step,
        BULK,
    )
    return [int(r["id"]) for r in rows]


async def remove_due_reminders(raw: Any) -> int:
    """Delete the reminders a run added (this one's, or a crashed one's)."""
    status = await raw.execute(
        "DELETE FROM interactions WHERE subject = $1 AND state = 'planned'", CLAIM_MARK
    )
    return int(status.split()[-1])


async def add_due_reminders(raw: Any, admin: User) -> int:
    """CLAIM_LIMIT planned calls of the admin whose reminders are due (untimed setup), so
    the claim case has 100 rows to claim however few due reminders the data holds."""
    await remove_due_reminders(raw)
    client_id = await raw.fetchval(
        "SELECT id FROM clients WHERE merged_into_id IS NULL ORDER BY id LIMIT 1"
    )
    now = clock.now()
    planned_at = now + timedelta(minutes=30)
    await Interaction.bulk_create(
        [
            Interaction(
                client_id=client_id,
                responsible_id=admin.id,
                kind=InteractionKind.CALL,
                state=InteractionState.PLANNED,
                subject=CLAIM_MARK,
                planned_at=planned_at,
                sort_at=planned_at,
                remind_at=now - timedelta(minutes=n + 1),
            )
            for n in range(CLAIM_LIMIT)
        ]
    )
    due = await raw.fetchval(
        "SELECT COUNT(*) FROM interactions WHERE state = 'planned' AND remind_at <= $1"
        " AND reminded_at IS NULL",
        now,
    )
    return int(due)

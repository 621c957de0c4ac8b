"""Domain services on a big PostgreSQL database, each beside hand-tuned raw SQL.

    .venv/bin/python -m bench.domain \
        --dsn postgresql://postgres@127.0.0.1:5432/crmhub_bench --clients 1000000 \
        --results bench/RESULTS.md

Builds the database with `crm.demo` (or reuses it when it already holds that many clients),
then times, warm, the median of the calls of each service and of the same work written as
raw SQL straight on asyncpg, interleaved in the same run (`--runs` calls for the bulk
update, four times as many for the sub-millisecond cases, whose medians need them to
settle on a shared 2-core machine). The baselines take a connection from the same asyncpg
pool per call, as the services do and as any raw-SQL service would; so the ratio is what
the ORM and the service code add, not the pool. The fixed cost of one query is printed
three ways: through tortoise, through the pool, on a held connection.

- feed      `interactions.interest_feed` of the interest with the most interactions
- claim     `reminders.claim_due_reminders` (100 rows); the claimed leases are reset after
            every call (untimed), so each call has the same work to do. The demo data has
            only a handful of due reminders, so the run adds 100 of its own (untimed, marked)
            and deletes them at the end: a fresh or a reused database claims 100 rows
- birthdays `reminders.birthdays_on(today)`: clients and key persons
- bulk      `clients.bulk_update` of the relation type of 10,000 clients with history rows;
            the value alternates, so every call changes every row

Target: each service at most 1.5x its baseline, and under 50 ms (the bulk update under 2 s).
`--explain` prints the plans of the baseline queries; `--proposed-indexes` creates the
indexes of crm/sql_indexes.py that the migrations do not make yet, for the run, and drops
those it created afterwards."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tortoise import connections

from bench.domain_data import (
    CLAIM_LIMIT,
    add_due_reminders,
    bulk_ids,
    create_proposed_indexes,
    ensure_database,
    pick_interest,
    populate,
    remove_due_reminders,
)
from bench.results import write_block
from crm import clients, clock, db, interactions, reminders
from crm.config import normalize_db_url
from crm.models import RelationType, User

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/crmhub_bench"
# The subject of the due reminders the run adds for the claim case (and deletes after it).
RATIO = 1.5

FEED_SQL = """
SELECT * FROM (
    (SELECT * FROM interactions WHERE interest_id = $1 AND state = 'planned'
     ORDER BY sort_at, id LIMIT $2)
    UNION ALL
    (SELECT * FROM interactions WHERE interest_id = $1 AND state IN ('done', 'cancelled')
     ORDER BY sort_at DESC, id DESC LIMIT $2)
) feed WHERE EXISTS (SELECT 1 FROM interests WHERE id = $1)
"""
CLAIM_SQL = """
UPDATE interactions SET remind_claimed_until = $1 WHERE id IN (
    SELECT id FROM interactions
    WHERE state = 'planned' AND remind_at <= $2 AND reminded_at IS NULL
      AND (remind_claimed_until IS NULL OR remind_claimed_until < $2)
    ORDER BY remind_at LIMIT $3 FOR UPDATE SKIP LOCKED
) RETURNING *
"""
BIRTHDAY_CLIENTS_SQL = """
SELECT * FROM clients WHERE birthday_md = ANY($1::smallint[]) AND merged_into_id IS NULL
ORDER BY name
"""
BIRTHDAY_PERSONS_SQL = """
SELECT p.*, c.name AS client_name, c.responsible_id AS client_responsible_id
FROM contact_persons p JOIN clients c ON c.id = p.client_id
WHERE p.birthday_md = ANY($1::smallint[]) ORDER BY p.name
"""
BULK_UPDATE_SQL = """
UPDATE clients c SET relation_type = $2, updated_at = $3
FROM (SELECT id, relation_type FROM clients
      WHERE id = ANY($1::int[]) AND merged_into_id IS NULL ORDER BY id FOR UPDATE) old
WHERE c.id = old.id
RETURNING c.id, old.relation_type
"""
BULK_HISTORY_SQL = """
INSERT INTO change_records (created_at, updated_at, entity, entity_id, field, old, new, actor_id)
SELECT $1, $1, 'client', e, 'relation_type', o, $2, $3
FROM unnest($4::int[], $5::text[]) AS u(e, o)
"""


@dataclass
class Case:
    name: str
    what: str
    orm: Callable[[], Awaitable[int]]
    raw: Callable[[], Awaitable[int]]
    budget_ms: float
    reset: Callable[[int], Awaitable[None]] | None = None


@dataclass
class Result:
    case: Case
    orm_ms: float
    raw_ms: float
    rows: int

    @property
    def ratio(self) -> float:
        return self.orm_ms / self.raw_ms

    @property
    def passed(self) -> bool:
        return self.ratio <= RATIO and self.orm_ms < self.case.budget_ms


def build_cases(
    raw: Any, pool: Any, admin: User, interest_id: int, ids: list[int], day: date
) -> list[Case]:
    """The baselines take a connection from `pool` per call, as the services do from
    tortoise's (the same asyncpg pool); `raw` is a held connection for the untimed resets."""
    claimed: list[int] = []
    values = [RelationType.SUPPLIER, RelationType.OTHER]
    turn = [0]
    keys = reminders.birthday_keys(day)

    async def feed_orm() -> int:
        return len(await interactions.interest_feed(interest_id, actor=admin))

    async def feed_raw() -> int:
        return len((await pool.fetch(FEED_SQL, interest_id, 50))[:50])

    async def claim_orm() -> int:
        rows = await reminders.claim_due_reminders(limit=CLAIM_LIMIT)
        claimed.extend(r.id for r in rows)
        return len(rows)

    async def claim_raw() -> int:
        now = clock.now()
        rows = await pool.fetch(CLAIM_SQL, now + reminders.LEASE, now, CLAIM_LIMIT)
        rows = sorted(rows, key=lambda r: (r["remind_at"], r["id"]))
        claimed.extend(r["id"] for r in rows)
        return len(rows)

    async def claim_reset(_: int) -> None:
        await raw.execute(
            "UPDATE interactions SET remind_claimed_until = NULL WHERE id = ANY($1::int[])",
            claimed,
        )
        claimed.clear()

    async def birthdays_orm() -> int:
        found = await reminders.birthdays_on(day)
        return len(found.clients) + len(found.persons)

    async def birthdays_raw() -> int:
        found, persons = await asyncio.gather(  # side by side, as the service does
            pool.fetch(BIRTHDAY_CLIENTS_SQL, keys), pool.fetch(BIRTHDAY_PERSONS_SQL, keys)
        )
        return len(found) + len(persons)

    def next_value() -> RelationType:
        turn[0] += 1
        return values[turn[0] % 2]

    async def bulk_orm() -> int:
        return (
            await clients.bulk_update(ids, {"relation_type": next_value()}, actor=admin)
        ).updated

    async def bulk_raw() -> int:
        value, now = next_value().value, clock.now()
        async with pool.acquire() as held, held.transaction():
            rows = await held.fetch(BULK_UPDATE_SQL, ids, value, now)
            if len(rows) != len(ids):
                raise RuntimeError("some clients are gone or merged")
            changed = [r for r in rows if r["relation_type"] != value]
            await held.execute(
                BULK_HISTORY_SQL,
                now,
                value,
                admin.id,
                [r["id"] for r in changed],
                [r["relation_type"] for r in changed],
            )
        return len(rows)

    return [
        Case("feed", f"interest_feed (interest #{interest_id})", feed_orm, feed_raw, 50),
        Case(
            "claim",
            f"claim_due_reminders({CLAIM_LIMIT})",
            claim_orm,
            claim_raw,
            50,
            claim_reset,
        ),
        Case("birthdays", f"birthdays_on({day.isoformat()})", birthdays_orm, birthdays_raw, 50),
        Case("bulk", f"bulk_update({len(ids):,} clients)", bulk_orm, bulk_raw, 2000),
    ]


async def measure(case: Case, runs: int, warmup: int) -> Result:
    times: dict[str, list[float]] = {"orm": [], "raw": []}
    rows = 0
    for i in range(warmup + runs):
        order = [("orm", case.orm), ("raw", case.raw)]
        if i % 2:
            order.reverse()
        for label, func in order:
            started = time.perf_counter()
            rows = await func()
            elapsed = (time.perf_counter() - started) * 1000
            if case.reset is not None:
                await case.reset(rows)
            if i >= warmup:
                times[label].append(elapsed)
    return Result(case, statistics.median(times["orm"]), statistics.median(times["raw"]), rows)


async def query_floor(raw: Any, pool: Any, runs: int) -> tuple[float, float, float]:
    """The fixed cost of one query, ms: `SELECT 1` through tortoise, through the asyncpg
    pool (a checkout per query, what the baselines pay) and on a held connection."""
    conn = connections.get("default")

    async def tortoise() -> int:
        await conn.execute_query("SELECT 1")
        return 1

    async def pooled() -> int:
        await pool.fetch("SELECT 1")
        return 1

    async def held() -> int:
        await raw.fetch("SELECT 1")
        return 1

    first = await measure(Case("floor", "SELECT 1", tortoise, pooled, 0), runs * 10, 20)
    second = await measure(Case("floor", "SELECT 1", pooled, held, 0), runs * 10, 20)
    return first.orm_ms, first.raw_ms, second.raw_ms


async def explain(raw: Any, interest_id: int, ids: list[int], day: date) -> None:
    now = clock.now()
    keys = reminders.birthday_keys(day)
    plans: list[tuple[str, str, list[Any]]] = [
        ("feed", FEED_SQL, [interest_id, 50]),
        ("claim", CLAIM_SQL, [now + reminders.LEASE, now, CLAIM_LIMIT]),
        ("birthdays: clients", BIRTHDAY_CLIENTS_SQL, [keys]),
        ("birthdays: persons", BIRTHDAY_PERSONS_SQL, [keys]),
    ]
    for title, sql, args in plans:
        transaction = raw.transaction()
        await transaction.start()
        try:  # EXPLAIN ANALYZE runs the claim's UPDATE: roll it back
            rows = await raw.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
        finally:
            await transaction.rollback()
        print(f"\n-- {title}\n" + "\n".join(r[0] for r in rows))


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def table(results: list[Result]) -> str:
    lines = [
        "| case | service call | rows | ORM median ms | raw SQL median ms | ratio | budget ms "
        "| pass |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.case.name} | `{r.case.what}` | {r.rows:,} | {r.orm_ms:.2f} | {r.raw_ms:.2f} "
            f"| {r.ratio:.2f}x | {r.case.budget_ms:.0f} | {'pass' if r.passed else 'FAIL'} |"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    dsn = args.dsn
    await ensure_database(dsn)
    url = normalize_db_url(dsn)
    await db.migrate(url)
    async with db.session(url):
        built = await populate(args.clients, args.seed)
        conn = connections.get("default")
        pool = conn._pool  # asyncpg's pool under tortoise: the baselines' connections
        async with conn.acquire_connection() as raw:
            version = await raw.fetchval("SHOW server_version")
            counts = {
                t: await raw.fetchval(f"SELECT COUNT(*) FROM {t}")
                for t in ("clients", "interests", "interactions", "contact_persons")
            }
            created: list[str] = []
            if args.proposed_indexes:
                created = await create_proposed_indexes(raw)
            admin = await User.get(email="admin@demo.local")
            due = await add_due_reminders(raw, admin)
            try:
                interest_id, feed_size = await pick_interest(raw)
                ids = await bulk_ids(raw)
                day = clock.now().date()
                if args.explain:
                    await explain(raw, interest_id, ids, day)
                cases = [
                    c
                    for c in build_cases(raw, pool, admin, interest_id, ids, day)
                    if not args.only or c.name in args.only
                ]
                results = []
                for case in cases:
                    runs = args.runs if case.budget_ms >= 1000 else args.runs * 4
                    result = await measure(case, runs, args.warmup)
                    results.append(result)
                    print(
                        f"{case.name:<10} orm {result.orm_ms:9.2f} ms   raw {result.raw_ms:9.2f}"
                        f" ms   {result.ratio:5.2f}x   {'pass' if result.passed else 'FAIL'}"
                    )
                floor = await query_floor(raw, pool, args.runs)
            finally:
                await remove_due_reminders(raw)
                for name in created:  # only those this run made
                    await raw.execute(f"DROP INDEX IF EXISTS {name}")
    when = datetime.now(UTC)
    lines = [
        f"### bench.domain, {when:%Y-%m-%d %H:%M} UTC"
        + (" — with the proposed indexes" if args.proposed_indexes else ""),
        "",
        f"- machine: {machine()}, PostgreSQL {version}",
        f"- data: {counts['clients']:,} clients, {counts['interests']:,} interests, "
        f"{counts['interactions']:,} interactions, {counts['contact_persons']:,} key persons"
        + (f"; generated in this run in {built:.1f} s" if built is not None else ""),
        f"- median of {args.runs * 4} warm runs ({args.runs} for the bulk update; "
        f"{args.warmup} warm-up), ORM and raw interleaved; "
        f"the feed's interest has {feed_size} interactions; {due:,} due reminders"
        f" ({CLAIM_LIMIT} of them added for the claim case and deleted after it)",
        "- baselines: the same SQL straight on asyncpg, a connection from the same pool per call",
        f"- target: ORM <= {RATIO}x raw and under the budget",
        f"- fixed cost of one query: `SELECT 1` {floor[0]:.3f} ms through tortoise,"
        f" {floor[1]:.3f} ms through the asyncpg pool (the baselines),"
        f" {floor[2]:.3f} ms on a held connection",
        "",
        table(results),
    ]
    block = "\n".join(lines)
    print()
    print(block)
    if args.results:
        variant = "proposed-indexes" if args.proposed_indexes else "schema"
        write_block(Path(args.results), f"bench.domain {variant}", block)
        print(f"\nwritten to {args.results}")
    return 0 if all(r.passed for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.domain", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--dsn", default=DEFAULT_DSN, help="PostgreSQL database (created if missing)"
    )
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=("feed", "claim", "birthdays", "bulk"))
    parser.add_argument("--explain", action="store_true", help="print the baselines' plans")
    parser.add_argument("--proposed-indexes", action="store_true")
    parser.add_argument("--results", help="write the figures into this markdown file")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())

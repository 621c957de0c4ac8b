"""Computing segments (crm.segments) on the 1,000,000-client demo database (PostgreSQL).

    .venv/bin/python -m bench.segments \
        --dsn postgresql://postgres@127.0.0.1:5432/crmhub_bench --results bench/RESULTS.md

The demo database (bench.domain / bench.reports build it) has no money facts: before the
timed cases the run adds, untimed, an invoice and one to three payments over the last 14
months for each of `--paid` won deals (numbers "bench-segments-N"). A database made before
the segments' migration lacks their tables and the company's ABC/XYZ thresholds: the run
adds them (as migration 0016 does) and drops what it added at the end, with the invoices
and payments it made, so the shared database is left as it was (`--keep` keeps them).

Cases, each the median of `--runs` warm runs after one untimed warm-up:
- rule query: the segment's compiled query counted (`SELECT count(*) FROM (...)`);
- first compute: `members.recompute` of a new segment (every member joins: ~100k rows
  inserted), measured once per run on a segment made afresh;
- recompute: `members.recompute` of the same segment again (nobody joins or leaves), the
  nightly case;
- classify: `abcxyz.classify` (ABC/XYZ of every client with revenue).
Target: computing a segment of about 100,000 clients under 2 s (first compute and
recompute)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from bench.results import write_block
from crm import db
from crm.config import normalize_db_url
from crm.models import Segment, Tag
from crm.segments.abcxyz import classify
from crm.segments.compile import compile_rule
from crm.segments.members import PG_SETTINGS, recompute
from crm.segments.rules import parse_rule

BUDGET_MS = 2000.0
PREFIX = "bench-segments-"

SHIM_TABLES = {
    "segments": """CREATE TABLE segments (
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
        id SERIAL PRIMARY KEY, name VARCHAR(200) NOT NULL UNIQUE,
        description TEXT NOT NULL, rule JSONB NOT NULL, computed_at TIMESTAMPTZ,
        members_count INT NOT NULL, author_id INT REFERENCES users (id) ON DELETE SET NULL)""",
    "segment_members": """CREATE TABLE segment_members (
        id BIGSERIAL PRIMARY KEY,
        segment_id INT NOT NULL, client_id INT NOT NULL,
        joined_at TIMESTAMPTZ NOT NULL, left_at TIMESTAMPTZ);
        CREATE INDEX idx_segment_me_segment_3c4b1e ON segment_members (segment_id, client_id);
        CREATE INDEX idx_segment_me_client__1b1c0e ON segment_members (client_id)""",
    "client_classes": """CREATE TABLE client_classes (
        id SERIAL PRIMARY KEY, client_id INT NOT NULL UNIQUE,
        abc VARCHAR(1) NOT NULL, xyz VARCHAR(1) NOT NULL, revenue NUMERIC(18, 2) NOT NULL,
        variation DOUBLE PRECISION NOT NULL, computed_on DATE NOT NULL);
        CREATE INDEX idx_client_cla_abc_8d3e0f ON client_classes (abc, xyz)""",
}
SHIM_COLUMNS = {
    "abc_a_percent": "SMALLINT NOT NULL DEFAULT 80",
    "abc_b_percent": "SMALLINT NOT NULL DEFAULT 15",
    "xyz_x_percent": "SMALLINT NOT NULL DEFAULT 10",
    "xyz_y_percent": "SMALLINT NOT NULL DEFAULT 25",
    "classes_on": "DATE",
}


async def run_sql(sql: str, params: list[Any] | None = None) -> list[Any]:
    _, rows = await connections.get("default").execute_query(sql, params or [])
    return list(rows)


async def add_schema() -> tuple[list[str], list[str]]:
    """The segments' tables and the company's columns the database lacks, added."""
    tables, columns = [], []
    for table, ddl in SHIM_TABLES.items():
        if not (await run_sql("SELECT to_regclass($1)", [table]))[0][0]:
            for statement in ddl.split(";"):
                await run_sql(statement)
            tables.append(table)
    have = {
        r[0]
        for r in await run_sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'company'"
        )
    }
    for column, kind in SHIM_COLUMNS.items():
        if column not in have:
            await run_sql(f"ALTER TABLE company ADD COLUMN {column} {kind}")
            columns.append(column)
    return tables, columns


async def remove_schema(tables: list[str], columns: list[str]) -> None:
    for table in reversed(tables):
        await run_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    for column in columns:
        await run_sql(f"ALTER TABLE company DROP COLUMN IF EXISTS {column}")


async def remove_money() -> None:
    """The run's invoices and payments deleted (payments.invoice_id has no index: without
    one made for the delete, each invoice's cascade would read every payment)."""
    await run_sql(
        f"CREATE INDEX IF NOT EXISTS {PREFIX[:-1].replace('-', '_')} ON payments (invoice_id)"
    )
    await run_sql(
        "DELETE FROM payments p USING invoices v WHERE v.id = p.invoice_id"
        f" AND v.number LIKE '{PREFIX}%'"
    )
    await run_sql(f"DELETE FROM invoices WHERE number LIKE '{PREFIX}%'")
    await run_sql(f"DROP INDEX IF EXISTS {PREFIX[:-1].replace('-', '_')}")


async def add_money(paid: int) -> int:
    """An invoice per won deal (up to `paid` of them) and 1-3 payments over 14 months."""
    await remove_money()
    await run_sql(
        "INSERT INTO invoices (created_at, updated_at, interest_id, client_id, number,"
        " issued_on, due_on, amount, currency, paid)"
        f" SELECT now(), now(), i.id, i.client_id, '{PREFIX}' || i.id,"
        " current_date - (i.id % 420), current_date - (i.id % 420) + 30,"
        " 1000 + (i.id % 97) * 500, 'RUB', 0"
        " FROM interests i WHERE i.status = 'won' ORDER BY i.id LIMIT $1",
        [paid],
    )
    await run_sql(
        "INSERT INTO payments (created_at, updated_at, invoice_id, client_id, paid_on,"
        " amount, overpayment)"
        " SELECT now(), now(), v.id, v.client_id, v.issued_on + 30 * k, v.amount / 3, 0"
        " FROM invoices v CROSS JOIN generate_series(0, 2) k"
        f" WHERE v.number LIKE '{PREFIX}%' AND k <= v.id % 3"
    )
    await run_sql(
        "UPDATE invoices v SET paid = s.total FROM (SELECT invoice_id, SUM(amount) total"
        " FROM payments GROUP BY invoice_id) s"
        f" WHERE s.invoice_id = v.id AND v.number LIKE '{PREFIX}%'"
    )
    await run_sql("ANALYZE invoices")
    await run_sql("ANALYZE payments")
    return int(
        (await run_sql(f"SELECT count(*) FROM invoices WHERE number LIKE '{PREFIX}%'"))[0][0]
    )


async def rules() -> dict[str, dict[str, Any]]:
    """About 100,000 members each on the demo data: client fields; activity and money."""
    vip = await Tag.get(name="VIP")
    return {
        "fields": {
            "op": "or",
            "items": [
                {"field": "region", "op": "eq", "value": "Санкт-Петербург"},
                {
                    "kind": "group",
                    "op": "and",
                    "items": [
                        {"field": "tag", "op": "any", "values": [str(vip.id)]},
                        {"field": "kind", "op": "eq", "value": "legal"},
                    ],
                },
            ],
        },
        "activity+money": {
            "op": "or",
            "items": [
                {"field": "revenue", "op": "gt", "value": "20000", "days": 365},
                {"field": "days_overdue", "op": "gt", "value": "30"},
                {
                    "kind": "group",
                    "op": "and",
                    "items": [
                        {"field": "no_interaction_days", "op": "eq", "days": 365},
                        {"field": "has_email", "op": "yes"},
                        {"field": "relation_type", "op": "in", "values": ["supplier"]},
                    ],
                },
            ],
        },
    }


async def drop_segments() -> None:
    """The run's segments and their members (segment_members has no foreign keys)."""
    await run_sql(
        "DELETE FROM segment_members WHERE segment_id IN"
        f" (SELECT id FROM segments WHERE name LIKE '{PREFIX}%')"
    )
    await Segment.filter(name__startswith=PREFIX).delete()


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await fn()
    return (time.perf_counter() - start) * 1000, result


async def bench_rule(name: str, rule: dict[str, Any], runs: int) -> list[tuple[str, float, str]]:
    parsed = parse_rule(rule)
    out = []

    async def count() -> int:
        sql, params = await compile_rule(parsed)
        async with in_transaction() as conn:  # planned as members.recompute plans it
            for setting in PG_SETTINGS:
                await conn.execute_query(f"SET LOCAL {setting}")
            _, rows = await conn.execute_query(f"SELECT count(*) FROM ({sql}) q", params)
        return int(rows[0][0])

    await count()
    samples, members = [], 0
    for _ in range(runs):
        ms, members = await timed(count)
        samples.append(ms)
    out.append((f"{name}: rule query", statistics.median(samples), f"{members:,} clients"))
    firsts, agains = [], []
    for n in range(runs + 1):
        await drop_segments()
        segment = await Segment.create(name=f"{PREFIX}{name}-{n}", rule=rule)
        ms_first, outcome = await timed(partial(recompute, segment))
        ms_again, again = await timed(partial(recompute, segment))
        assert again.joined == again.left == 0 and outcome.members == members
        if n:  # the first round warms up
            firsts.append(ms_first)
            agains.append(ms_again)
    out.append((f"{name}: first compute", statistics.median(firsts), f"{members:,} joined"))
    out.append((f"{name}: recompute", statistics.median(agains), "nobody joins or leaves"))
    await drop_segments()
    return out


async def main(args: argparse.Namespace) -> int:
    await db.init(normalize_db_url(args.dsn))
    tables, columns = await add_schema()
    try:
        made = await add_money(args.paid)
        rows: list[tuple[str, float, str]] = []
        for name, rule in (await rules()).items():
            rows += await bench_rule(name, rule, args.runs)
            print(*rows[-3:], sep="\n", flush=True)
        ms, counts = await timed(classify)
        rows.append(
            ("classify (ABC/XYZ)", ms, f"A {counts['A']:,}, B {counts['B']:,}, C {counts['C']:,}")
        )
        clients = int(
            (
                await run_sql(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = 'clients'::regclass"
                )
            )[0][0]
        )
        failed = [r for r in rows if "compute" in r[0] and r[1] >= BUDGET_MS]
        lines = [
            f"## bench.segments: computing segments, PostgreSQL, ~{clients:,} clients",
            "",
            f"{made:,} invoices with 1-3 payments each added for the run. Target: a segment of"
            f" about 100,000 clients computed under {BUDGET_MS:.0f} ms."
            f" Median of {args.runs} warm runs.",
            "",
            "| case | ms | notes |",
            "| --- | ---: | --- |",
            *(f"| {n} | {ms:.0f} | {note} |" for n, ms, note in rows),
            "",
            f"Verdict: {'FAIL' if failed else 'PASS'}",
        ]
        text = "\n".join(lines)
        print(text)
        if args.results:
            write_block(Path(args.results), "bench.segments", text)
        return 1 if failed else 0
    finally:
        if not args.keep:
            await Segment.filter(
                name__startswith=PREFIX
            ).delete() if "segments" not in tables else None
            await remove_money()
            await remove_schema(tables, columns)
        await db.close()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/crmhub_bench")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--paid", type=int, default=150_000)
    parser.add_argument("--results", default="")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))

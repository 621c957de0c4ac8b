"""Client import (CSV, dedup on) into PostgreSQL, beside plain COPY of the same rows.

    .venv/bin/python -m bench.import \
        --dsn postgresql://postgres@127.0.0.1:5432/crmhub_bench_import --rows 100000 \
        --results bench/RESULTS.md

Makes a CSV of `--rows` clients (name, INN, phone, email; 1% of the rows repeat an earlier
client's INN, so dedup has work to do), then, each into an empty schema of the same
database:

- import    `crm.imports.importer.run_import`: read, validate (INN checksum, phone, email),
            match by INN/email/phone, write clients, contacts, tag links and history rows
- COPY      the same CSV read with the csv module and loaded with COPY into the same tables
            (the same rows: clients, their contacts and one history row each), no checks

Prints rows/s of both and the ratio. Target: the import at least 10,000 rows/s and at
least 25% of COPY's rate. The database is dropped and made again: never point `--dsn` at
data you care about."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise import connections
from tortoise.context import TortoiseContext

from bench.results import write_block
from bench.scratch import recreate
from crm.config import normalize_db_url
from crm.db import tortoise_config
from crm.imports.files import open_table
from crm.imports.importer import run_import
from crm.imports.values import ImportOptions
from crm.models import Client, ClientContact

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/crmhub_bench_import"
TARGET_RATE = 10_000
TARGET_SHARE = 0.25
WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
HEADERS = ["Наименование", "ИНН", "Телефон", "E-mail"]
CLIENT_COLUMNS = (
    "id", "created_at", "updated_at", "kind", "name", "legal_name", "inn", "org_form", "region",
    "timezone", "relation_type", "is_lead", "lead_source", "note",
)  # fmt: skip
HISTORY_COLUMNS = ("id", "created_at", "updated_at", "entity", "entity_id", "field", "old", "new")


def legal_inn(n: int) -> str:
    body = f"{n:09d}"
    control = sum(int(d) * w for d, w in zip(body, WEIGHTS_10, strict=True)) % 11 % 10
    return body + str(control)


def make_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(HEADERS)
        for i in range(rows):
            n = i - 37 if i % 100 == 99 else i  # 1%: an earlier client's INN again
            out.writerow(
                [
                    f"ООО «Клиент {i}»",
                    legal_inn(100_000_000 + n),
                    f"+7 (916) {i // 10000 % 1000:03d}-{i // 100 % 100:02d}-{i % 100:02d}",
                    f"client{i}@example.ru",
                ]
            )


async def fresh_schema(ctx: TortoiseContext) -> None:
    conn = connections.get("default")
    await conn.execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    await ctx.generate_schemas(safe=False)


async def time_import(path: Path) -> tuple[float, int, int]:
    table = open_table(path, path.name)
    options = ImportOptions(mapping={0: "name", 1: "inn", 2: "phone", 3: "email"}, kind="legal")
    started = time.perf_counter()
    outcome = await run_import(table, options, actor=None, locale="en")
    seconds = time.perf_counter() - started
    if outcome.failed:
        raise SystemExit(f"{len(outcome.failed)} rows failed: {outcome.failed[0].reason}")
    return seconds, outcome.created, outcome.updated


async def time_copy(path: Path) -> float:
    """Read the same CSV and COPY the same rows into the same tables, no checks."""
    conn = connections.get("default")
    started = time.perf_counter()
    now = datetime.now(UTC)
    clients, contacts, history = [], [], []
    text = path.read_text(encoding="utf-8")  # noqa: ASYNC240 (timed on purpose, like the import)
    reader = csv.reader(io.StringIO(text), delimiter=";")
    next(reader)
    digits = str.maketrans("", "", " ()-")
    for i, (name, inn, phone, email) in enumerate(reader, start=1):
        clients.append((i, now, now, "legal", name, "", inn, "", "", "Europe/Moscow", "buyer",
                        False, "", ""))  # fmt: skip
        contacts.append((2 * i - 1, now, now, i, "phone", phone.translate(digits), 0))
        contacts.append((2 * i, now, now, i, "email", email, 0))
        history.append((i, now, now, "client", i, "name", None, name))
    async with conn.acquire_connection() as raw, raw.transaction():
        await raw.copy_records_to_table(
            "clients",
            records=clients,
            columns=CLIENT_COLUMNS,
        )
        await raw.copy_records_to_table(
            "client_contacts",
            records=contacts,
            columns=("id", "created_at", "updated_at", "client_id", "kind", "value", "position"),
        )
        await raw.copy_records_to_table(
            "change_records",
            records=history,
            columns=HISTORY_COLUMNS,
        )
    return time.perf_counter() - started


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}"


async def run(args: argparse.Namespace) -> int:
    await recreate(args.dsn)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clients.csv"
        make_csv(path, args.rows)
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(normalize_db_url(args.dsn)))
            try:
                server = await connections.get("default").execute_query_dict("SELECT version()")
                await fresh_schema(ctx)
                seconds, created, updated = await time_import(path)
                imported = (await Client.all().count(), await ClientContact.all().count())
                await fresh_schema(ctx)
                copy_seconds = await time_copy(path)
                copied = (await Client.all().count(), await ClientContact.all().count())
            finally:
                await ctx.close_connections()
    rate, copy_rate = args.rows / seconds, args.rows / copy_seconds
    share = rate / copy_rate
    passed = rate >= TARGET_RATE and share >= TARGET_SHARE
    version = str(server[0]["version"]).split(" on ")[0]
    block = "\n".join(
        [
            f"### bench.import, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"- machine: {machine()}, {version}",
            f"- {args.rows:,} CSV rows (1% repeat an earlier INN), dedup on INN, email, phone",
            f"- import: {created:,} created, {updated:,} updated; rows in the database "
            f"(clients, contacts): import {imported[0]:,}/{imported[1]:,}, "
            f"COPY {copied[0]:,}/{copied[1]:,}",
            "- target: import >= 10,000 rows/s and >= 25% of COPY",
            "",
            "| load | seconds | rows/s |",
            "| --- | ---: | ---: |",
            f"| `crm.imports.importer.run_import` | {seconds:.2f} | {rate:,.0f} |",
            f"| PostgreSQL COPY of the same rows | {copy_seconds:.2f} | {copy_rate:,.0f} |",
            "",
            f"Import / COPY: **{share:.0%}** — {'PASS' if passed else 'FAIL'}",
        ]
    )
    print(block)
    if args.results:
        write_block(Path(args.results), "bench.import", block)
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--results", help="markdown file whose bench.import block to replace")
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

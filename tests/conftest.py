"""Database fixtures. The suite runs on SQLite; `make test` runs the database tests again
with CRMHUB_TEST_BACKEND=postgres when CRMHUB_TEST_PG_DSN is set (CI sets it; then an
unreachable server fails the run instead of skipping). tortoise caches compiled queries on
the model classes, so one process speaks to one backend only."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tortoise.context import TortoiseContext

from crm import kept, sql_indexes
from crm.config import normalize_db_url
from crm.db import tortoise_config

PG_DSN = os.environ.get("CRMHUB_TEST_PG_DSN")
BACKEND = os.environ.get("CRMHUB_TEST_BACKEND", "sqlite")
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"CRMHUB_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
if BACKEND == "postgres" and not PG_DSN:
    raise RuntimeError("CRMHUB_TEST_BACKEND=postgres needs CRMHUB_TEST_PG_DSN")

_pg_schema_ready: dict[str, bool] = {}


def pg_test_url() -> str:
    """A database of our own next to the one named in CRMHUB_TEST_PG_DSN."""
    assert PG_DSN
    parts = urlsplit(PG_DSN)
    name = (parts.path.lstrip("/") or "test") + "_crmhub"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return urlunsplit(parts._replace(path=f"/{name}{worker}"))


async def _recreate_pg_database(url: str) -> None:
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _truncate_all(ctx: TortoiseContext) -> None:
    assert ctx.apps is not None
    tables = ", ".join(f'"{m._meta.db_table}"' for m in ctx.apps.get_models_iterable())
    await ctx.db().execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def backend() -> str:
    return BACKEND


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile a catalog whose .po is newer than its .mo (`make` does it; a bare `pytest`
    after editing a .po would otherwise test the old translations, or English)."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    locales = Path(__file__).resolve().parent.parent / "locales"
    for po in locales.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that use a database."""
    if BACKEND != "postgres":
        return
    keep = [i for i in items if "db" in getattr(i, "fixturenames", ())]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def db_url(backend: str) -> str:
    if backend == "postgres":
        return normalize_db_url(pg_test_url())
    return "sqlite://:memory:"


@pytest.fixture
async def db(backend: str, db_url: str) -> AsyncIterator[TortoiseContext]:
    """A clean database with the current schema, as a tortoise context."""
    async with TortoiseContext() as ctx:
        if backend == "postgres":
            if not _pg_schema_ready.get(db_url):
                await _recreate_pg_database(pg_test_url())
                await ctx.init(config=tortoise_config(db_url))
                await ctx.generate_schemas(safe=False)
                await sql_indexes.ensure(ctx.db())
                _pg_schema_ready[db_url] = True
            else:
                await ctx.init(config=tortoise_config(db_url))
                await _truncate_all(ctx)
        else:
            await ctx.init(config=tortoise_config(db_url))
            await ctx.generate_schemas(safe=False)
            await sql_indexes.ensure(ctx.db())
        try:
            yield ctx
        finally:
            await kept.drain()  # as crm.db.close does
            await ctx.close_connections()


def pytest_report_header(config: Any) -> str:
    return f"crmhub database backend: {BACKEND}"

"""`crmhub migrate` builds the schema from the migrations on each backend, idempotently."""

from __future__ import annotations

import os

import asyncpg
import pytest
from tortoise.context import TortoiseContext

from crm import clients, db, sql_indexes
from crm.config import normalize_db_url
from tests.conftest import BACKEND, PG_DSN
from tests.crm import factories as f


@pytest.fixture
async def empty_db_url(tmp_path: os.PathLike[str], db: TortoiseContext) -> str:
    """A database with no tables (SQLite file, or a fresh PostgreSQL database)."""
    if BACKEND == "sqlite":
        return f"sqlite://{tmp_path}/migrated.sqlite3"
    assert PG_DSN
    admin = PG_DSN.rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute('DROP DATABASE IF EXISTS "crmhub_migrate" WITH (FORCE)')
        await conn.execute('CREATE DATABASE "crmhub_migrate"')
    finally:
        await conn.close()
    return normalize_db_url(PG_DSN.rsplit("/", 1)[0] + "/crmhub_migrate")


async def test_migrations_apply_and_the_schema_works(empty_db_url: str) -> None:
    async with TortoiseContext():
        await db.migrate(empty_db_url)
        await db.migrate(empty_db_url)  # nothing pending the second time
        await db.close()
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(empty_db_url))
        try:
            admin = await f.admin()
            client = await clients.create_client(
                actor=admin, name="Клиент", phones=["+79161234567"]
            )
            assert client.id
            assert (await db.ping())["status"] == "ok"
            # The partial indexes of crm/sql_indexes.py come with the migrations too.
            conn = ctx.db()
            if BACKEND == "sqlite":
                sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
            else:
                sql = "SELECT indexname AS name FROM pg_indexes"
            names = {r["name"] for r in (await conn.execute_query(sql))[1]}
            assert {i.name for i in sql_indexes.INDEXES} <= names
        finally:
            await ctx.close_connections()

"""Database lifecycle: tortoise config, init/close, and the migrations runner."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import time
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as migrate_api

from crm import kept

MODELS = ["crm.models"]

# tortoise passes TimeField values (company working hours) to sqlite3 as `datetime.time`,
# which sqlite3 cannot bind; store them as ISO text, which tortoise reads back.
sqlite3.register_adapter(time, lambda value: value.isoformat())


POOL = "minsize=2&maxsize=20"  # asyncpg pool unless the URL says otherwise


def with_pool(db_url: str) -> str:
    """PostgreSQL URLs get a pool big enough for concurrent webhooks and workers."""
    if not is_postgres(db_url) or "maxsize=" in db_url:
        return db_url
    return f"{db_url}{'&' if '?' in db_url else '?'}{POOL}"


async def _keep_session(connection: object) -> None:
    """asyncpg's pool resets each connection it takes back (advisory locks, cursors,
    LISTEN, session settings): one more round trip per query. crmhub uses none of those
    session features (only SET LOCAL inside transactions, which end with them), and asyncpg
    still rolls back an unfinished transaction on release, so the reset is skipped."""


def connection_config(db_url: str) -> dict[str, Any]:
    """The URL expanded: SQLite on `crm.sqlite_engine` (UPPER and LOWER for every alphabet),
    PostgreSQL with the pool's settings."""
    if not is_postgres(db_url):
        config = expand_db_url(db_url)
        config["engine"] = "crm.sqlite_engine"
        return config
    config = expand_db_url(with_pool(db_url))
    config["credentials"]["reset"] = _keep_session
    return config


def tortoise_config(db_url: str) -> dict[str, Any]:
    """The one tortoise config: app `models`, migrations in the `migrations` package."""
    return {
        "connections": {"default": connection_config(db_url)},
        "apps": {
            "models": {
                "models": MODELS,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(db_url: str) -> bool:
    return db_url.startswith(("postgres://", "asyncpg://"))


async def init(db_url: str) -> None:
    if db_url.startswith("sqlite://") and ":memory:" not in db_url:
        from pathlib import Path

        Path(db_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(config=tortoise_config(db_url), _create_db=False)


async def close() -> None:
    await kept.drain()  # background reloads finish on the connections they began on
    await Tortoise.close_connections()


async def migrate(db_url: str, progress: Any = None) -> None:
    """Apply every pending migration (idempotent)."""
    if db_url.startswith("sqlite://") and ":memory:" not in db_url:
        from pathlib import Path

        Path(db_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    await migrate_api(config=tortoise_config(db_url), progress=progress)


async def ping() -> dict[str, Any]:
    """Database status for /healthz."""
    conn = get_connection("default")
    await conn.execute_query("SELECT 1")
    return {"status": "ok", "dialect": conn.capabilities.dialect}


@asynccontextmanager
async def session(db_url: str) -> AsyncIterator[None]:
    """Init, yield, and always close (an SQLite thread left open hangs the process)."""
    await init(db_url)
    try:
        yield
    finally:
        await close()


# For the `tortoise` command line (`tortoise -c crm.db.TORTOISE_ORM makemigrations`).
TORTOISE_ORM = tortoise_config("sqlite://:memory:")

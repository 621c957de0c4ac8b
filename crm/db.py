"""Database lifecycle: tortoise config, init/close, the migrations runner, and the check
that the configured PostgreSQL answers before anything starts (`check_reachable`)."""

from __future__ import annotations

import asyncio
import getpass
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import time
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as migrate_api

from crm import kept
from crm.errors import BadSetting
from crm.i18n import N_

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
    # PostgreSQL's JIT compiles a big report's query for seconds before running it (6.5 s
    # of a 1M-client pipeline report's 24, bench.reports); crmhub's queries gain nothing
    # from it, so its connections run without it.
    settings = config["credentials"].setdefault("server_settings", {})
    settings.setdefault("jit", "off")
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


DATABASE_URL = "CRMHUB_DATABASE_URL"
NO_ANSWER = N_(
    "PostgreSQL at {address} does not answer (tried for {seconds} s): start it, or correct "
    "the host and port"
)
NO_DATABASE = N_("The database {name} does not exist at {address}: create it with {command}")
REFUSED = N_("PostgreSQL at {address} refused user {user}: check the user name and password")
FAILED = N_("PostgreSQL at {address} refused the connection: {error}")
WAIT = 5.0  # seconds a starting PostgreSQL is given (a container started alongside)


async def check_reachable(db_url: str, *, wait: float = WAIT) -> None:
    """PostgreSQL answers and has the database, or BadSetting says what to do about
    CRMHUB_DATABASE_URL; while nothing answers it is asked again for `wait` seconds. The
    message names host and port, never the password. SQLite: nothing to ask."""
    if not is_postgres(db_url):
        return
    creds = expand_db_url(db_url)["credentials"]
    host, port = creds.get("host") or "localhost", int(creds.get("port") or 5432)
    user, name = creds.get("user") or getpass.getuser(), str(creds.get("database"))
    address = f"{host}:{port}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        try:
            connection = await asyncpg.connect(
                host=creds.get("host"),
                port=port,
                user=creds.get("user"),
                password=creds.get("password"),
                database=name,
                ssl=creds.get("ssl"),
                timeout=max(0.5, min(2.0, deadline - loop.time())),
            )
        except (OSError, TimeoutError, asyncpg.CannotConnectNowError):
            if loop.time() >= deadline:
                raise BadSetting.variable(
                    DATABASE_URL, NO_ANSWER, address=address, seconds=round(wait)
                ) from None
            await asyncio.sleep(0.5)
            continue
        except asyncpg.InvalidCatalogNameError:
            command = f"createdb -h {host} -p {port} -U {user} {name}"
            raise BadSetting.variable(
                DATABASE_URL, NO_DATABASE, name=name, address=address, command=command
            ) from None
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
            raise BadSetting.variable(DATABASE_URL, REFUSED, address=address, user=user) from None
        except asyncpg.PostgresError as exc:
            raise BadSetting.variable(DATABASE_URL, FAILED, address=address, error=exc) from None
        await connection.close()
        return


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

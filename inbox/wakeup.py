"""Waking the worker when a webhook is stored, across processes (PostgreSQL NOTIFY).

With `crmhub run --role web` and `--role worker` apart, the web process stores each webhook
and the worker used to find it by looking every WORKER_TICK (0.1 s): on average half a tick
of wait per message before anything happened (bench/desk.py live). Now the web process,
after storing, sends `NOTIFY crmhub_intake` (`IntakeBell`: one at a time, and one more when
webhooks came while it was in flight, so a burst costs a few notifications, not one each),
and the worker LISTENs on a connection of its own (`listen`) and wakes its intake loop at
once. The tick stays as the fallback (a lost connection, another database)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from tortoise import connections

log = logging.getLogger(__name__)

CHANNEL = "crmhub_intake"
RECONNECT = 5.0  # seconds between checks of the listening connection


def on_postgres() -> bool:
    try:
        return str(connections.get("default").capabilities.dialect) == "postgres"
    except Exception:  # no database set up
        return False


class IntakeBell:
    """The web side: `ring()` after a webhook is stored."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def ring(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._send(), name="intake-bell")

    async def _send(self) -> None:
        while True:
            self._again = False
            try:
                await connections.get("default").execute_query(
                    "SELECT pg_notify($1, '')", [CHANNEL]
                )
            except Exception:
                log.exception("waking the worker failed (it finds the webhook on its tick)")
            if not self._again:
                return

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


async def _connect() -> asyncpg.Connection:
    client: Any = connections.get("default")
    return await asyncpg.connect(
        host=client.host,
        port=client.port,
        user=client.user,
        password=client.password,
        database=client.database,
    )


async def listen(wake: Callable[[], None]) -> None:
    """The worker side: call `wake` on every notification, until cancelled (reconnecting
    when the connection is lost)."""
    conn: asyncpg.Connection | None = None
    try:
        while True:
            if conn is None or conn.is_closed():
                try:
                    conn = await _connect()
                    await conn.add_listener(CHANNEL, lambda *_: wake())
                    wake()  # what was stored while nobody listened
                except Exception:
                    log.exception("listening for stored webhooks failed; trying again")
                    conn = None
            await asyncio.sleep(RECONNECT)
    finally:
        if conn is not None and not conn.is_closed():
            await conn.close()

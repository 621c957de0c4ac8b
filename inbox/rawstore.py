"""Storing raw bodies, the one write on the acknowledgement path of every webhook.

`GroupWriter` commits bodies in groups: a body that arrives while `WRITERS` INSERTs are in
flight waits for one of them to end and is written with the others that arrived meanwhile,
in one statement (group commit). Each caller still returns only once its own row is committed,
so "persisted before acknowledged" holds per body; under load one round trip and one commit
serve many webhooks, and at a trickle a body is written alone, at once. If a group's INSERT
fails, its rows are retried one by one, so one bad body costs its own caller an error and
nobody else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC

from tortoise import connections

from crm import clock
from crm.models import RawEventStatus

log = logging.getLogger(__name__)

MAX_GROUP = 500  # bodies per statement
WRITERS = 2  # statements in flight at once; a body waits only when all of them are busy

_PG_INSERT = (
    "INSERT INTO raw_events (channel_id, body, status, error, attempts, created_at, updated_at)"
    " SELECT c, b, $3, '', 0, $4, $4 FROM unnest($1::int[], $2::text[]) AS u(c, b)"
)
_SQLITE_INSERT = (
    "INSERT INTO raw_events (channel_id, body, status, error, attempts, created_at, updated_at)"
    " VALUES (?, ?, ?, '', 0, ?, ?)"
)


def as_text(body: bytes) -> str:
    """What the database stores: the body as text (JSON and base64 are UTF-8 already)."""
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


async def insert(rows: Sequence[tuple[int, str]]) -> None:
    """`(channel_id, text)` rows as pending raw events, in one statement and transaction."""
    if not rows:
        return
    conn = connections.get("default")
    now = clock.now()
    pending = RawEventStatus.PENDING.value
    if conn.capabilities.dialect == "postgres":
        values: list[object] = [[c for c, _ in rows], [b for _, b in rows], pending, now]
        # asyncpg's own pool, the cheapest path there is; None inside a transaction
        pool = getattr(conn, "_pool", None)
        if pool is not None:
            await pool.execute(_PG_INSERT, *values)
        else:
            await conn.execute_query(_PG_INSERT, values)
        return
    at = now.astimezone(UTC).isoformat(" ")  # tortoise keeps SQLite datetimes as UTC ISO text
    await conn.execute_many(_SQLITE_INSERT, [[c, b, pending, at, at] for c, b in rows])


async def store_many(channel_id: int, bodies: Sequence[bytes]) -> None:
    await insert([(channel_id, as_text(body)) for body in bodies])


class GroupWriter:
    """Writes raw bodies in groups (see the module's docstring). One per process."""

    def __init__(self, max_group: int = MAX_GROUP, writers: int = WRITERS) -> None:
        self.max_group = max_group
        self.writers = writers
        self._waiting: list[tuple[int, str, asyncio.Future[None]]] = []
        self._flushers: set[asyncio.Task[None]] = set()  # held: the loop keeps weak refs
        self._running = 0  # counted in _flush itself, so that no body is left behind
        self.groups = 0  # statements issued, for tests and diagnostics

    async def store(self, channel_id: int, body: bytes) -> None:
        """Returns once the body is committed; raises if it could not be."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((channel_id, as_text(body), done))
        if self._running < self.writers:
            self._running += 1
            flusher = asyncio.create_task(self._flush())
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        # shield: a caller that goes away must not cancel the group the others wait for
        await asyncio.shield(done)

    async def _flush(self) -> None:
        group: list[tuple[int, str, asyncio.Future[None]]] = []
        try:
            while self._waiting:
                group = self._waiting[: self.max_group]
                del self._waiting[: self.max_group]
                await self._write(group)
        except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
            for _, _, done in group + self._waiting:
                _settle(done, exc)
            self._waiting.clear()
            raise
        finally:
            self._running -= 1

    async def _write(self, group: list[tuple[int, str, asyncio.Future[None]]]) -> None:
        self.groups += 1
        try:
            await insert([(channel_id, text) for channel_id, text, _ in group])
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0][2], exc)
                return
            log.warning("a group of %s raw events failed; writing them one by one", len(group))
            for item in group:
                await self._write([item])
            return
        for _, _, done in group:
            _settle(done, None)


def _settle(done: asyncio.Future[None], exc: BaseException | None) -> None:
    if done.done():
        return
    if exc is None:
        done.set_result(None)
    else:
        done.set_exception(exc)

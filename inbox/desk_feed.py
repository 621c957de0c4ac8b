"""The desk's live feed: "something changed in conversation N", for every open desk page.

An event names only its kind and a conversation id, never a customer's words: the reader's
page fetches what changed through the pages' own access checks, and the web process sends
an event only to a reader who may see that conversation (admin_web.views.desk_live).

Three homes, chosen by `desk_feed(redis_url)`:
- Redis (`CRMHUB_REDIS_URL`): a stream (XADD, capped at MAX_EVENTS). Every process
  appends (the worker on inbox events, the web on replies and inquiries taken) and every
  web process reads, so a desk connected to any of them hears every event. An event's id is
  its stream id, so a reader that reconnects with `Last-Event-ID` reads on from there;
  events older than the cap are gone (the page then shows the state it fetches anyway).
- PostgreSQL, when the install has no Redis (`PostgresFeed`): each event is a row of
  `desk_events` (its id the event id) and a NOTIFY on DESK_CHANNEL in the same
  transaction. Every web process LISTENs on one connection of its own and keeps what it
  hears in memory, so its open desks wait on memory, not on the database; a reader behind
  what this process heard (a page reconnecting with an older Last-Event-ID, maybe from
  another process) reads the rows. Publishers take a transaction-level advisory lock, so
  event ids commit, and are heard, in increasing order (a later id never overtakes).
  The table keeps about MAX_EVENTS rows; a reader behind them is told to `reset`.
- Memory: this process only (`--role all` on SQLite, or tests): the last MAX_EVENTS kept
  in a ring with increasing ids; a reader further behind is told to `reset`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from redis.asyncio import Redis
from tortoise import connections
from tortoise.transactions import in_transaction

STREAM = "crmhub:desk"
MAX_EVENTS = 10_000
RESET = "reset"  # the reader is too far behind: reload what it shows


@dataclass(frozen=True)
class DeskEvent:
    id: str
    kind: str  # message | status | inquiry | reset
    conversation_id: int


class DeskFeed(Protocol):
    async def publish(self, kind: str, conversation_id: int) -> None: ...

    async def last_id(self) -> str: ...

    async def read(self, after: str, *, wait: float) -> list[DeskEvent]:
        """Events after `after`, waiting up to `wait` seconds for one."""

    async def close(self) -> None: ...


class MemoryFeed:
    def __init__(self, size: int = MAX_EVENTS) -> None:
        self._events: deque[DeskEvent] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()

    async def publish(self, kind: str, conversation_id: int) -> None:
        async with self._changed:
            self._events.append(DeskEvent(str(next(self._ids)), kind, conversation_id))
            self._changed.notify_all()

    async def last_id(self) -> str:
        return self._events[-1].id if self._events else "0"

    def _after(self, after: str) -> list[DeskEvent]:
        number = int(after) if after.isdigit() else 0
        if self._events and number < int(self._events[0].id) - 1:
            return [DeskEvent(self._events[-1].id, RESET, 0)]
        return [e for e in self._events if int(e.id) > number]

    async def read(self, after: str, *, wait: float) -> list[DeskEvent]:
        async with self._changed:
            found = self._after(after)
            if not found:
                try:
                    await asyncio.wait_for(self._changed.wait(), wait)
                except TimeoutError:
                    return []
                found = self._after(after)
            return found

    async def close(self) -> None:
        return None


class RedisFeed:
    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url)

    async def publish(self, kind: str, conversation_id: int) -> None:
        await self._redis.xadd(
            STREAM,
            {"kind": kind, "conversation_id": str(conversation_id)},
            maxlen=MAX_EVENTS,
            approximate=True,
        )

    async def last_id(self) -> str:
        last = await self._redis.xrevrange(STREAM, count=1)
        return str(last[0][0].decode()) if last else "0-0"

    async def read(self, after: str, *, wait: float) -> list[DeskEvent]:
        answer = await self._redis.xread(
            {STREAM: after or "0-0"}, count=200, block=max(1, int(wait * 1000))
        )
        found = []
        for _, entries in answer or []:
            for entry_id, fields in entries:
                conversation = fields.get(b"conversation_id", b"0").decode()
                found.append(
                    DeskEvent(
                        entry_id.decode(),
                        fields.get(b"kind", b"").decode(),
                        int(conversation) if conversation.isdigit() else 0,
                    )
                )
        return found

    async def close(self) -> None:
        await self._redis.aclose()


DESK_CHANNEL = "crmhub_desk"
LOCK_KEY = 0x6372_6D68_6465_736B  # "crmhdesk": serializes the publishers' commits
TRIM_EVERY = 500  # publishes of this process between two trims of the table
PAGE = 200  # events read from the table at once


class PostgresFeed:
    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        self._connect = connect
        self._listener: asyncpg.Connection | None = None
        self._starting = asyncio.Lock()
        self._heard: deque[DeskEvent] = deque(maxlen=MAX_EVENTS)
        self._last = 0  # the newest id this process knows of (heard, or read when listening)
        self._bell = asyncio.Event()  # rung (and replaced) on every event heard
        self._published = 0

    async def publish(self, kind: str, conversation_id: int) -> None:
        async with in_transaction() as conn:
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY])
            rows = await conn.execute_query_dict(
                "INSERT INTO desk_events (kind, conversation_id, created_at)"
                " VALUES ($1, $2, now()) RETURNING id",
                [kind, conversation_id],
            )
            event_id = int(rows[0]["id"])
            payload = f"{event_id} {kind} {conversation_id}"
            await conn.execute_query("SELECT pg_notify($1, $2)", [DESK_CHANNEL, payload])
        self._published += 1
        if self._published % TRIM_EVERY == 0:
            await connections.get("default").execute_query(
                "DELETE FROM desk_events WHERE id <= $1", [event_id - MAX_EVENTS]
            )

    async def _listen(self) -> None:
        """LISTEN on a connection of our own (once; again after it was lost)."""
        if self._listener is not None and not self._listener.is_closed():
            return
        async with self._starting:
            if self._listener is not None and not self._listener.is_closed():
                return
            listener = await self._connect()
            await listener.add_listener(DESK_CHANNEL, self._hear)
            # what committed before LISTEN is read from the table, what after is heard
            newest = await listener.fetchval("SELECT COALESCE(MAX(id), 0) FROM desk_events")
            self._heard.clear()
            self._last = max(self._last, int(newest))
            self._listener = listener

    def _hear(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        ident, kind, conversation = str(payload).split(" ", 2)
        event = DeskEvent(ident, kind, int(conversation))
        if int(ident) <= self._last:
            return  # read from the table already
        self._heard.append(event)
        self._last = int(ident)
        bell, self._bell = self._bell, asyncio.Event()
        bell.set()

    async def last_id(self) -> str:
        await self._listen()
        return str(self._last)

    async def _from_table(self, after: int) -> list[DeskEvent]:
        rows = await connections.get("default").execute_query_dict(
            "SELECT id, kind, conversation_id FROM desk_events WHERE id > $1 ORDER BY id LIMIT $2",
            [after, PAGE],
        )
        if after and (not rows or int(rows[0]["id"]) > after + 1):
            oldest = await connections.get("default").execute_query_dict(
                "SELECT MIN(id) AS id FROM desk_events"
            )
            first = oldest[0]["id"] if oldest else None
            if first is None or int(first) > after + 1:  # trimmed past the reader
                return [DeskEvent(str(max(self._last, after)), RESET, 0)]
        return [DeskEvent(str(r["id"]), str(r["kind"]), int(r["conversation_id"])) for r in rows]

    def _in_memory(self, after: int) -> list[DeskEvent] | None:
        """The events after `after` from what this process heard; None when it heard too
        little to say (the reader is behind it: the table answers)."""
        start = int(self._heard[0].id) - 1 if self._heard else self._last
        if after < start:
            return None
        return [e for e in self._heard if int(e.id) > after]

    async def read(self, after: str, *, wait: float) -> list[DeskEvent]:
        await self._listen()
        number = int(after) if after.isdigit() else 0
        bell = self._bell
        found = self._in_memory(number)
        if found is None:
            return await self._from_table(number)
        if found:
            return found
        try:
            await asyncio.wait_for(bell.wait(), wait)
        except TimeoutError:
            return []
        return self._in_memory(number) or []

    async def close(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        self._listener = None


async def _connect_like_default() -> asyncpg.Connection:
    """A connection of its own to the database tortoise's default connection uses."""
    client: Any = connections.get("default")
    return await asyncpg.connect(
        host=client.host,
        port=client.port,
        user=client.user,
        password=client.password,
        database=client.database,
    )


def on_postgres() -> bool:
    """The database in use is PostgreSQL (False before the database is set up)."""
    try:
        return str(connections.get("default").capabilities.dialect) == "postgres"
    except Exception:  # no database configured yet
        return False


def desk_feed(redis_url: str | None) -> DeskFeed:
    """Redis when configured, else PostgreSQL when that is the database, else memory."""
    if redis_url:
        return RedisFeed(redis_url)
    if on_postgres():
        return PostgresFeed(_connect_like_default)
    return MemoryFeed()

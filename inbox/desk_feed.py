"""The desk's live feed: "something changed in conversation N", for every open desk page.

An event names only its kind and a conversation id, never a customer's words: the reader's
page fetches what changed through the pages' own access checks, and the web process sends
an event only to a reader who may see that conversation (admin_web.views.desk_live).

Two homes, chosen by `desk_feed(redis_url)`:
- Redis (`CRMHUB_REDIS_URL`): a stream (XADD, capped at MAX_EVENTS). Every process
  appends (the worker on inbox events, the web on replies and inquiries taken) and every
  web process reads, so a desk connected to any of them hears every event. An event's id is
  its stream id, so a reader that reconnects with `Last-Event-ID` reads on from there;
  events older than the cap are gone (the page then shows the state it fetches anyway).
- Memory: this process only (`--role all`, or tests): the last MAX_EVENTS kept in a ring
  with increasing ids; a reader further behind is told to `reset` (reload what it shows).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

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


def desk_feed(redis_url: str | None) -> DeskFeed:
    return RedisFeed(redis_url) if redis_url else MemoryFeed()

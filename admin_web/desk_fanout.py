"""One reader of the desk feed per web process, and who may hear each event, for every open
desk of that process (admin_web.views.desk_live).

Each open desk used to read the feed itself and ask the database, per batch of events,
whether its reader may see each conversation: with 50 desks at 200 customer messages a
second that was 10,000 feed reads and as many access checks a second, and the web process
fell behind (bench/desk.py live). Now:

- `Fanout` reads the feed once (one task per process) and keeps the last RING events in
  memory; a desk waits on that and takes what is newer than its last event id. A desk
  further behind (a page reconnecting with an old Last-Event-ID) reads the feed itself.
- `Audience` knows each conversation's client's responsible manager and channel (read in
  one query per batch of new conversations, kept FACTS_TTL seconds) and each reader's
  rights (`sees_all_clients`, the channels they may see; kept as long), and applies
  `crm.access.access_conversation`'s rule to them in memory. A change of rights or of a
  client's manager is heard within FACTS_TTL seconds."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from dataclasses import dataclass

from crm.access import sees_all_clients
from crm.channels import channel_filter
from crm.models import Channel, Conversation, User
from inbox.desk_feed import DeskEvent, DeskFeed

log = logging.getLogger(__name__)

RING = 5_000  # events kept in memory for the desks of this process
FACTS_TTL = 1.0  # seconds a conversation's manager and channel, and a reader's rights, are kept
READ_WAIT = 5.0


class Fanout:
    def __init__(self, feed: DeskFeed) -> None:
        self.feed = feed
        # the events heard, oldest first, and their keys (for a binary search: every desk
        # looks up its place on every event, and a scan of the whole list cost most of the
        # web process's CPU at 200 messages/s and 50 desks); trimmed to RING at 2 * RING
        self._events: list[DeskEvent] = []
        self._keys: list[tuple[int, int]] = []
        self._evicted = False
        self._start = ""  # the id the reading began after: memory holds everything newer
        self._bell = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def _run(self) -> None:
        after = await self.feed.last_id()
        self._start = after
        self._ready.set()
        while True:
            try:
                found = await self.feed.read(after, wait=READ_WAIT)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the desk feed failed; again in a second")
                await asyncio.sleep(1.0)
                continue
            if found:
                self._events.extend(found)
                self._keys.extend(_key(e.id) for e in found)
                if len(self._events) > 2 * RING:
                    del self._events[:-RING], self._keys[:-RING]
                    self._evicted = True
                after = found[-1].id
                bell, self._bell = self._bell, asyncio.Event()
                bell.set()

    async def _started(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="desk-fanout")
        await self._ready.wait()

    async def last_id(self) -> str:
        await self._started()
        return self._events[-1].id if self._events else self._start

    def _newer(self, after: str) -> list[DeskEvent] | None:
        """What memory holds after `after`; None when `after` is older than memory."""
        key = _key(after)
        if self._keys and key >= self._keys[0]:
            pass
        elif self._evicted or key < _key(self._start):
            return None
        return self._events[bisect.bisect_right(self._keys, key) :]

    async def read(self, after: str, *, wait: float) -> list[DeskEvent]:
        """As DeskFeed.read, from memory when it can."""
        await self._started()
        bell = self._bell
        found = self._newer(after)
        if found is None:
            return await self.feed.read(after, wait=wait)
        if found:
            return found
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bell.wait(), wait)
        found = self._newer(after)
        if found is None:  # memory moved past this reader while it waited
            return await self.feed.read(after, wait=0)
        return found

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


def _key(event_id: str) -> tuple[int, int]:
    """An event id in order: Redis's "ms-seq", or the memory feed's number."""
    first, _, second = event_id.partition("-")
    return (int(first) if first.isdigit() else 0, int(second) if second.isdigit() else 0)


@dataclass
class Reader:
    sees_all: bool
    channels: frozenset[int]
    until: float


class Audience:
    def __init__(self) -> None:
        # conversation -> (has a client, its responsible, its channel (None: no such
        # conversation), kept until)
        self._facts: dict[int, tuple[bool, int | None, int | None, float]] = {}
        self._readers: dict[int, Reader] = {}

    async def _reader(self, user: User) -> Reader:
        now = time.monotonic()
        known = self._readers.get(user.id)
        if known is None or known.until < now:
            channels = await Channel.filter(await channel_filter(user)).values_list("id", flat=True)
            known = Reader(
                await sees_all_clients(user),
                frozenset(int(str(c)) for c in channels),
                now + FACTS_TTL,
            )
            self._readers[user.id] = known
        return known

    async def _learn(self, ids: set[int]) -> None:
        now = time.monotonic()
        stale = [i for i in ids if (f := self._facts.get(i)) is None or f[3] < now]
        if not stale:
            return
        rows = await Conversation.filter(id__in=stale).values_list(
            "id", "channel_id", "client_id", "client__responsible_id"
        )
        for i in stale:
            self._facts[i] = (False, None, None, now + FACTS_TTL)
        for conversation_id, channel_id, client_id, responsible_id in rows:
            has_client = client_id is not None
            self._facts[int(conversation_id)] = (
                has_client,
                responsible_id,
                channel_id,
                now + FACTS_TTL,
            )
        if len(self._facts) > 4 * RING:
            self._facts = {k: v for k, v in self._facts.items() if v[3] >= now}

    async def visible(self, user: User, conversation_ids: set[int]) -> set[int]:
        """Which of the conversations `user` may see (`crm.access.access_conversation`)."""
        await self._learn(conversation_ids)
        reader = await self._reader(user)
        seen = set()
        for conversation_id in conversation_ids:
            facts = self._facts.get(conversation_id)
            if facts is None:
                continue
            has_client, responsible_id, channel_id, _ = facts
            if channel_id is None:  # no such conversation
                continue
            if (
                reader.sees_all
                or (has_client and responsible_id == user.id)
                or (has_client and responsible_id is None and channel_id in reader.channels)
            ):
                seen.add(conversation_id)
        return seen

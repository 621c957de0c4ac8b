"""admin_web.desk_fanout.Fanout: one reader of the feed for every desk of a process; a desk
reads what is newer than its last event from memory, and a desk behind what memory holds
reads the feed itself, so a reconnect from an old event id misses nothing."""

from __future__ import annotations

import pytest

from admin_web import desk_fanout
from admin_web.desk_fanout import Fanout
from inbox.desk_feed import MemoryFeed


async def test_desks_read_from_memory_and_a_late_one_from_the_feed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(desk_fanout, "RING", 3)
    feed = MemoryFeed()
    await feed.publish("message", 1)  # before the process listened: only the feed has it
    fanout = Fanout(feed)
    start = await fanout.last_id()
    assert start == "1"
    for conversation in (2, 3):
        await feed.publish("message", conversation)
    first = await fanout.read(start, wait=2)
    while len(first) < 2:
        first += await fanout.read(first[-1].id if first else start, wait=2)
    assert [e.conversation_id for e in first] == [2, 3]
    assert await fanout.read(first[-1].id, wait=0.05) == []  # nothing newer: waits, empty
    # a page that reconnects from before the process listened reads the feed itself
    assert [e.conversation_id for e in await fanout.read("0", wait=1)] == [1, 2, 3]
    # past 2 * RING the oldest are dropped from memory: older ids go to the feed too
    for conversation in range(4, 12):
        await feed.publish("message", conversation)
    heard: list[int] = []
    after = first[-1].id
    while len(heard) < 8:
        found = await fanout.read(after, wait=2)
        heard += [e.conversation_id for e in found]
        after = found[-1].id
    assert heard == list(range(4, 12))
    assert [e.conversation_id for e in await fanout.read("2", wait=1)] == list(range(3, 12))
    await fanout.close()

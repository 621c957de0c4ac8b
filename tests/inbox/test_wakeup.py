"""inbox.wakeup: the web process's NOTIFY after storing a webhook wakes a worker's intake in
another connection at once (PostgreSQL); elsewhere nothing is sent and the tick stays."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.context import TortoiseContext

from inbox import wakeup


async def test_a_ring_wakes_the_listening_worker(db: TortoiseContext, backend: str) -> None:
    if backend != "postgres":
        assert not wakeup.on_postgres()
        pytest.skip("NOTIFY is PostgreSQL's")
    assert wakeup.on_postgres()
    woken = asyncio.Event()
    listening = asyncio.create_task(wakeup.listen(woken.set))
    async with asyncio.timeout(10):
        await woken.wait()  # on connecting: whatever was stored before
    woken.clear()
    bell = wakeup.IntakeBell()
    for _ in range(5):  # a burst: one notification in flight, one more after it
        bell.ring()
    async with asyncio.timeout(10):
        await woken.wait()
    await bell.close()
    listening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await listening

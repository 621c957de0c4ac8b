"""Pacing shared by every worker: two pacers (as two worker processes would hold) on one
channel never send closer than the channel's interval, nor twice a second to one chat;
through Redis (CRMHUB_TEST_REDIS_URL), PostgreSQL's pace_slots, and in one process."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from crm.models import Channel
from inbox.ratelimit import Pacer, PgPacer, RedisPacer, SharedPacer, channel_rate
from tests.fakes.limits import Bucket

REDIS_URL = os.environ.get("CRMHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/8")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisConnectionError, OSError):
        await client.aclose()
        if "CRMHUB_TEST_REDIS_URL" in os.environ:
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    keys = [key async for key in client.scan_iter("crmhub:pace:*")]
    if keys:
        await client.delete(*keys)
    yield REDIS_URL
    await client.aclose()


async def sends(pacers: list[Pacer], count: int, *, per_second: float, chats: int) -> list[float]:
    """`count` sends split over the pacers, concurrently; the moment each went."""
    moments: list[float] = []

    async def one(n: int) -> None:
        pacer = pacers[n % len(pacers)]
        await pacer.wait("telegram", 7, f"chat{n % chats}", per_second=per_second)
        moments.append(time.time())

    await asyncio.gather(*(one(n) for n in range(count)))
    return sorted(moments)


def check(moments: list[float], per_second: float) -> None:
    """As the platform counts (the fakes' token bucket: the rate, a second's burst), no
    send would have been refused, and the whole run kept near the limit, not slower."""
    bucket = Bucket(per_second, per_second)
    bucket.at = moments[0]
    assert all(bucket.take(m) for m in moments)
    elapsed = moments[-1] - moments[0]
    assert elapsed >= (len(moments) - 1 - per_second) / per_second  # the burst at most
    assert elapsed <= (len(moments) - 1) / per_second * 1.5 + 0.1


async def test_two_redis_pacers_share_the_channel_and_the_chats(redis_url: str) -> None:
    pacers: list[Pacer] = [RedisPacer(redis_url), RedisPacer(redis_url)]
    try:
        check(await sends(pacers, 61, per_second=30.0, chats=61), 30.0)
        # One chat: one a second, whichever worker sends.
        started = time.time()
        moments = await sends(pacers, 3, per_second=30.0, chats=1)
        assert moments[-1] - started >= 1.99
    finally:
        for pacer in pacers:
            await pacer.close()


async def test_two_postgres_pacers_share_the_channel(db: object, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("pace_slots are PostgreSQL's")
    pacers: list[Pacer] = [PgPacer(), PgPacer()]
    check(await sends(pacers, 61, per_second=30.0, chats=61), 30.0)
    shared = SharedPacer()
    check(await sends([shared], 10, per_second=60.0, chats=10), 60.0)
    assert isinstance(shared._chosen, PgPacer)


async def test_one_process_paces_alone(db: object) -> None:
    check(await sends([Pacer()], 20, per_second=60.0, chats=20), 60.0)


def test_a_mailbox_sets_its_own_rate() -> None:
    assert channel_rate(Channel(settings={"send_rate": "2.5"})) == 2.5
    assert channel_rate(Channel(settings={"send_rate": "fast"})) is None
    assert channel_rate(Channel(settings={"send_rate": -1})) is None
    assert channel_rate(Channel(settings={})) is None


def test_the_telegram_fake_enforces_flood_control() -> None:
    from tests.fakes.limits import Limits

    limits = Limits(bot=(30.0, 30.0), chat=(1.0, 2.0))
    assert all(limits.allow(bot="b", chat=n) for n in range(30))
    assert not limits.allow(bot="b", chat=99)  # the 31st at once
    assert limits.allow(bot="other", chat=1001) and limits.allow(bot="other", chat=1001)
    assert not limits.allow(bot="other", chat=1001)  # a third to one chat at once
    assert limits.refused == 2


async def test_sends_woken_late_together_do_not_go_at_once(db: object) -> None:
    """A worker starved of CPU wakes its waiting sends after their moments have passed:
    each takes a new moment, so they are spaced again instead of going in one burst."""
    pacer = Pacer()
    moments: list[float] = []

    async def one(n: int) -> None:
        await pacer.wait("telegram", 7, f"chat{n}", per_second=10.0)
        moments.append(time.time())

    tasks = [asyncio.create_task(one(n)) for n in range(15)]
    await asyncio.sleep(0.05)  # all have taken their moments (0 to 1.4 s from now)
    time.sleep(1.5)  # noqa: ASYNC251 - the process starved: every moment passes meanwhile
    await asyncio.gather(*tasks)
    moments.sort()
    bucket = Bucket(10.0, 10.0)  # as the platform counts: the rate, a second's burst
    bucket.at = moments[0]
    assert all(bucket.take(m) for m in moments)

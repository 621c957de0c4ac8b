"""Group commit of webhook bodies (`inbox.rawstore.GroupWriter`) on the real database:
every caller returns only once its own row is committed, concurrent bodies share
statements, and one bad body fails alone."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError

from crm import channels
from crm.models import Channel, RawEvent, RawEventStatus
from inbox.rawstore import GroupWriter
from tests.crm import factories


@pytest.fixture
async def channel(db: object) -> Channel:
    admin = await factories.admin()
    return await channels.create_channel(
        kind="telegram",
        name="Shop",
        credentials={"token": "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"},
        actor=admin,
    )


async def test_concurrent_bodies_share_statements_and_are_all_committed(channel: Channel) -> None:
    writer = GroupWriter()
    bodies = [f'{{"update_id": {i}}}'.encode() for i in range(40)]
    await asyncio.gather(*(writer.store(channel.id, body) for body in bodies))
    rows = await RawEvent.all().order_by("id")
    assert sorted(r.body for r in rows) == sorted(b.decode() for b in bodies)
    assert {r.status for r in rows} == {RawEventStatus.PENDING}
    assert 1 <= writer.groups < 40


async def test_a_group_never_exceeds_its_size(channel: Channel) -> None:
    writer = GroupWriter(max_group=7)
    await asyncio.gather(*(writer.store(channel.id, b"{}") for _ in range(30)))
    assert await RawEvent.all().count() == 30
    assert writer.groups >= 5


async def test_one_bad_body_fails_alone(channel: Channel) -> None:
    writer = GroupWriter()
    good = [writer.store(channel.id, f'{{"n": {i}}}'.encode()) for i in range(5)]
    bad = writer.store(channel.id + 999, b"{}")  # no such channel: the foreign key refuses
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert results[:5] == [None] * 5
    # tortoise's error on SQLite, the driver's own from asyncpg's pool on PostgreSQL
    assert isinstance(results[5], IntegrityError | asyncpg.ForeignKeyViolationError)
    assert await RawEvent.filter(channel_id=channel.id).count() == 5


async def test_a_caller_that_goes_away_does_not_cancel_the_others(channel: Channel) -> None:
    writer = GroupWriter()
    first = asyncio.ensure_future(writer.store(channel.id, b'{"a": 1}'))
    second = asyncio.ensure_future(writer.store(channel.id, b'{"b": 2}'))
    await asyncio.sleep(0)
    first.cancel()
    await second
    await asyncio.sleep(0.05)
    assert await RawEvent.all().count() == 2  # the cancelled caller's body was committed too


async def test_a_trickle_is_written_at_once_body_by_body(channel: Channel) -> None:
    writer = GroupWriter()
    for i in range(5):
        await asyncio.wait_for(writer.store(channel.id, f'{{"n": {i}}}'.encode()), 5)
        assert await RawEvent.all().count() == i + 1  # committed before store() returned
    assert writer.groups == 5

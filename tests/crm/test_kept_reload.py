"""`crm.kept.Kept` reloads a value asked for in the second half of its ttl in the
background: the caller gets the kept value at once, the next one the reloaded value, and
nothing returned is ever older than the ttl."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from crm import kept, scenarios
from crm.models import Stage
from tests.crm import factories as f
from tests.crm.conftest import Clock

pytestmark = pytest.mark.usefixtures("db")

TTL = scenarios.STAGES_TTL


async def names(scenario_id: int) -> list[str]:
    return [s.name for s in await scenarios.stages_of(scenario_id)]


async def test_a_value_asked_for_late_is_reloaded_beside(clock: Clock, reads: list[int]) -> None:
    s = await f.scenario(stages=("A", "B"))
    assert await names(s.id) == ["A", "B"]
    first = (await scenarios.stages_of(s.id))[0]
    await Stage.filter(id=first.id).update(name="Lead")  # another process: no signal here
    clock.now += TTL * 0.4  # the first half: kept, no reload
    assert await names(s.id) == ["A", "B"]
    assert reads == [s.id]

    clock.now += TTL * 0.2  # the second half: the kept value now, a reload beside
    assert await names(s.id) == ["A", "B"]
    await kept.drain()
    assert reads == [s.id, s.id]
    assert await names(s.id) == ["Lead", "B"]  # the reload's, with no read of its own
    assert reads == [s.id, s.id]

    clock.now += TTL * 0.99  # the reload is kept from the moment it began
    assert await names(s.id) == ["Lead", "B"]
    await kept.drain()
    clock.now += TTL  # past every reload: read in the foreground
    await names(s.id)
    assert len(reads) == 4


async def test_no_reload_beside_a_transaction(clock: Clock, reads: list[int]) -> None:
    s = await f.scenario(stages=("A",))
    async with in_transaction():  # its connection is its own: nothing may run beside it
        assert await names(s.id) == ["A"]
        clock.now += TTL * 0.75
        assert await names(s.id) == ["A"]
        await Stage.filter(scenario_id=s.id).update(name="B")
        await kept.drain()
        assert reads == [s.id]
    clock.now += TTL  # outside, past the ttl: read afresh
    assert await names(s.id) == ["B"]


async def test_one_reload_at_a_time_per_key(clock: Clock, reads: list[int]) -> None:
    s = await f.scenario(stages=("A",))
    await names(s.id)
    clock.now += TTL * 0.75
    await asyncio.gather(*(names(s.id) for _ in range(5)))
    await kept.drain()
    assert reads == [s.id, s.id]


async def test_a_reload_overtaken_by_a_change_is_not_kept(
    clock: Clock, reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await f.scenario(stages=("A", "B"))
    await names(s.id)
    gate, read_old = asyncio.Event(), asyncio.Event()
    counting = scenarios._stage_lists.load

    async def held(scenario_id: int) -> list[Stage]:
        stages = await counting(scenario_id)  # read before the change below
        read_old.set()
        await gate.wait()
        return stages

    monkeypatch.setattr(scenarios._stage_lists, "load", held)
    clock.now += TTL * 0.75
    assert await names(s.id) == ["A", "B"]  # a reload starts, and reads the old list
    await read_old.wait()
    assert reads == [s.id, s.id]
    await scenarios.add_stage(s.id, "C", actor=None)  # saved here: forgets every kept list
    gate.set()
    await kept.drain()
    assert await names(s.id) == ["A", "B", "C"]  # read afresh: the reload was not kept
    assert reads == [s.id, s.id, s.id]


async def test_a_failed_reload_leaves_the_next_read_to_the_foreground(
    clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    s = await f.scenario(stages=("A",))
    await names(s.id)
    read = scenarios._read_stages

    async def failing(scenario_id: int) -> list[Stage]:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(scenarios._stage_lists, "load", failing)
    clock.now += TTL * 0.75
    assert await names(s.id) == ["A"]
    await kept.drain()
    assert "reloading a kept value failed" in caplog.text
    monkeypatch.setattr(scenarios._stage_lists, "load", read)
    clock.now += TTL * 0.3  # past the first read's ttl: nothing newer was kept
    await Stage.filter(scenario_id=s.id).update(name="Z")
    assert await names(s.id) == ["Z"]


def test_drain_drops_the_reloads_of_an_event_loop_gone() -> None:
    other = asyncio.new_event_loop()
    stuck = other.create_task(asyncio.sleep(3600))  # a reload its loop never finished
    kept._reloads.add(stuck)
    try:
        asyncio.run(asyncio.wait_for(kept.drain(), 5))  # neither hangs nor mixes loops
        assert stuck not in kept._reloads
    finally:
        stuck.cancel()
        other.run_until_complete(asyncio.gather(stuck, return_exceptions=True))
        other.close()

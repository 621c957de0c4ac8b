"""`crm.scenarios.stages_of` keeps a scenario's stages a moment: a change in this process
applies at once, one from another process within STAGES_TTL."""

from __future__ import annotations

import pytest

from crm import scenarios
from crm.models import Stage
from tests.crm import factories as f
from tests.crm.conftest import Clock

pytestmark = pytest.mark.usefixtures("db")


async def names(scenario_id: int) -> list[str]:
    return [s.name for s in await scenarios.stages_of(scenario_id)]


async def test_changes_in_this_process_apply_at_once(clock: Clock) -> None:
    s = await f.scenario(stages=("A", "B"))
    assert await names(s.id) == ["A", "B"]  # now kept
    c = await scenarios.add_stage(s.id, "C", position=1, actor=None)
    assert await names(s.id) == ["A", "C", "B"]
    await scenarios.rename_stage(c.id, "Talks", actor=None)
    assert await names(s.id) == ["A", "Talks", "B"]
    ids = [st.id for st in await scenarios.stages_of(s.id)]
    await scenarios.reorder_stages(s.id, list(reversed(ids)), actor=None)
    assert await names(s.id) == ["B", "Talks", "A"]
    await scenarios.delete_stage(c.id, actor=None)
    assert await names(s.id) == ["B", "A"]


async def test_a_change_from_another_process_applies_within_the_ttl(clock: Clock) -> None:
    s = await f.scenario(stages=("A", "B"))
    first = (await scenarios.stages_of(s.id))[0]
    await Stage.filter(id=first.id).update(name="Lead")  # no save in this process
    clock.now += scenarios.STAGES_TTL / 2
    assert await names(s.id) == ["A", "B"]
    clock.now += scenarios.STAGES_TTL / 2
    assert await names(s.id) == ["Lead", "B"]


async def test_read_once_per_ttl_per_scenario(clock: Clock, reads: list[int]) -> None:
    one, two = await f.scenario("One", stages=("A",)), await f.scenario("Two", stages=("X",))
    for _ in range(3):
        assert await names(one.id) == ["A"]
        assert await names(two.id) == ["X"]
    assert reads == [one.id, two.id]
    clock.now += scenarios.STAGES_TTL
    await names(one.id)
    assert reads == [one.id, two.id, one.id]


async def test_callers_get_their_own_list(clock: Clock) -> None:
    s = await f.scenario(stages=("A", "B"))
    mine = await scenarios.stages_of(s.id)
    mine.clear()
    assert await names(s.id) == ["A", "B"]

"""`crmhub run` settles the stage moves' kept funnel values every minute where the worker
runs (crm.stage_moves), so a funnel report finds little left to settle."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from crm import db, deals, scenarios
from crm.models import StageChange
from crmhub import runtime
from tests.crm import factories as f
from tests.crmhub.ticks import serve_until_tick


async def _moves(url: str) -> None:
    """A deal created and moved once: two moves, neither settled."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        admin = await f.admin()
        scenario = await f.scenario(stages=("A", "B"), require_next_step=False)
        client = await f.client(admin)
        interest = await deals.create_interest(
            actor=admin, client_id=client.id, title="Сделка", scenario_id=scenario.id
        )
        second = (await scenarios.stages_of(scenario.id))[1]
        await deals.move_stage(interest.id, second.id, actor=admin)
        await ctx.close_connections()


async def _unsettled(url: str) -> int:
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        count = await StageChange.filter(advanced__isnull=True).count()
        await ctx.close_connections()
    return count


@pytest.mark.parametrize("role", ["web", "worker"])
async def test_the_worker_settles_the_stage_moves(
    role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite://{tmp_path / 'crmhub.sqlite3'}"
    async with TortoiseContext():
        await db.migrate(url)
        await db.close()
    await _moves(url)
    assert await _unsettled(url) == 2
    registered, results = await serve_until_tick(
        "stage-moves", url=url, data_dir=tmp_path, role=role, monkeypatch=monkeypatch
    )
    if role == "web":
        assert "stage-moves" not in registered and await _unsettled(url) == 2
    else:
        assert registered["stage-moves"][1] == runtime.STAGE_MOVES_TICK
        assert results == [2]  # both moves of the deal
        assert await _unsettled(url) == 0

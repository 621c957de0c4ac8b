"""`crmhub run` recomputes the segments (and the ABC/XYZ classes) once a night with a
scheduler tick where the worker runs, over a database migrated to the segments' tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from crm import db
from crm.models import Client, Segment
from crmhub import runtime
from tests.crmhub.ticks import serve_until_tick


async def _segment(url: str) -> None:
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        await Client.create(name="ООО Альфа", region="Москва")
        rule = {"op": "and", "items": [{"field": "region", "op": "eq", "value": "москва"}]}
        await Segment.create(name="Москва", rule=rule)
        await ctx.close_connections()


async def _members(url: str) -> int:
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        segment = await Segment.get(name="Москва")
        await ctx.close_connections()
    return segment.members_count


@pytest.mark.parametrize("role", ["web", "worker"])
async def test_the_worker_computes_segments_nightly(
    role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite://{tmp_path / 'crmhub.sqlite3'}"
    async with TortoiseContext():
        await db.migrate(url)
        await db.close()
    await _segment(url)
    registered, results = await serve_until_tick(
        "segments", url=url, data_dir=tmp_path, role=role, monkeypatch=monkeypatch
    )
    if role == "web":
        assert "segments" not in registered and await _members(url) == 0
    else:
        assert registered["segments"][1] == runtime.SEGMENTS_TICK
        assert results == [1]  # one segment computed this night
        assert await _members(url) == 1

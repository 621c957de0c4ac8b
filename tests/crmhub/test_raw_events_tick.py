"""`crmhub run` deletes the raw events processed CRMHUB_RAW_EVENT_RETENTION_DAYS ago with an
hourly scheduler tick where the inbox worker runs (it processes them), not in a web process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from crm import clock, db
from crm.config import Settings
from crm.models import RawEvent, RawEventStatus
from crmhub import runtime
from tests.crmhub.ticks import serve_until_tick


async def processed_events(url: str, *days_ago: int) -> list[int]:
    """A raw event processed `days` ago for each of `days_ago`; their ids."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        ids = [
            (
                await RawEvent.create(
                    body="{}",
                    status=RawEventStatus.PROCESSED,
                    processed_at=clock.now() - timedelta(days=days),
                )
            ).id
            for days in days_ago
        ]
        await ctx.close_connections()
    return ids


async def left(url: str) -> list[int]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        ids = await RawEvent.all().order_by("id").values_list("id", flat=True)
        await ctx.close_connections()
    return list(ids)


@pytest.mark.parametrize("role", ["all", "web", "worker"])
async def test_the_worker_role_forgets_old_raw_events(
    role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite://{tmp_path / 'crmhub.sqlite3'}"
    async with TortoiseContext():  # migrate() leaves its connection open: close it here
        await db.migrate(url)
        await db.close()
    old, recent = await processed_events(url, 12, 8)
    monkeypatch.setenv("CRMHUB_RAW_EVENT_RETENTION_DAYS", "10")
    registered, results = await serve_until_tick(
        "raw-events", url=url, data_dir=tmp_path, role=role, monkeypatch=monkeypatch
    )
    if role == "web":
        assert "raw-events" not in registered
        assert await left(url) == [old, recent]
    else:
        assert registered["raw-events"][1] == runtime.RAW_EVENTS_TICK == 3600
        assert results == [1]
        assert await left(url) == [recent]


def test_the_retention_is_thirty_days_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRMHUB_RAW_EVENT_RETENTION_DAYS", raising=False)
    assert Settings(_env_file=None).raw_event_retention_days == 30  # type: ignore[call-arg]
    monkeypatch.setenv("CRMHUB_RAW_EVENT_RETENTION_DAYS", "7")
    assert Settings(_env_file=None).raw_event_retention_days == 7  # type: ignore[call-arg]

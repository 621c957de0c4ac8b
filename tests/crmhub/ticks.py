"""`crmhub run` (runtime.serve) until one scheduler tick has run once, for the ticks' tests:
the scheduler is replaced by one that records the ticks and runs the wanted one at once,
inside `serve` (so on its database)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from crm.config import load_settings
from crmhub import runtime
from tests.crmhub.test_run import free_port


async def serve_until_tick(
    name: str, *, url: str, data_dir: Path, role: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], list[object]]:
    """Serve in `role` until the tick `name` has run once (at once when it is not
    registered); the registered ticks, and what `name` returned (nothing when it was not
    registered). The other settings come from the environment."""
    registered: dict[str, Any] = {}
    ran: list[asyncio.Future[object]] = []
    stop = asyncio.Event()

    def scheduler(ticks: dict[str, Any]) -> AsyncIOScheduler:
        registered.update(ticks)
        if name in ticks:
            ran.append(asyncio.ensure_future(ticks[name][0]()))
            ran[-1].add_done_callback(lambda _: stop.set())
        else:
            asyncio.get_running_loop().call_soon(stop.set)
        return AsyncIOScheduler(timezone="UTC")

    monkeypatch.setattr(runtime, "build_scheduler", scheduler)
    settings = load_settings(
        data_dir=data_dir,
        database_url=url,
        web_port=free_port(),
        role=role,
        secret_key="s" * 48,
        manager_bot_token=None,
        redis_url=None,
    )
    try:
        await asyncio.wait_for(runtime.serve(settings, stop=stop), 60)
    finally:
        gc.unfreeze()
    return registered, [task.result() for task in ran]

"""`crmhub run` deletes the files of imports that ended CRMHUB_IMPORT_RETENTION_DAYS ago
with a scheduler tick where the web app runs (uploads are written there), not in a worker."""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from tortoise.context import TortoiseContext

from crm import clock, db
from crm.config import Settings
from crm.models import ImportJob, ImportStatus
from crmhub import cli, runtime
from tests.crmhub.test_run import free_port


async def ended_import(url: str, folder: Path, days_ago: int) -> Path:
    """An import that finished `days_ago` days ago, its folder under the data dir."""
    own = folder / f"{days_ago:032x}"
    own.mkdir(parents=True)
    (own / "source.csv").write_text("Name\nRomashka\n")
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        await ImportJob.create(
            filename="source.csv",
            path=str(own / "source.csv"),
            status=ImportStatus.DONE,
            finished_at=clock.now() - timedelta(days=days_ago),
        )
        await ctx.close_connections()
    return own


@pytest.mark.parametrize("role", ["all", "web", "worker"])
async def test_the_web_role_forgets_old_import_files(
    role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    url = f"sqlite://{data / 'crmhub.sqlite3'}"
    data.mkdir()
    async with TortoiseContext():  # migrate() leaves its connection open: close it here
        await db.migrate(url)
        await db.close()
    old = await ended_import(url, data / "imports", days_ago=12)
    recent = await ended_import(url, data / "imports", days_ago=8)
    monkeypatch.setenv("CRMHUB_IMPORT_RETENTION_DAYS", "10")
    ticks: dict[str, Any] = {}
    ran: list[asyncio.Task[object]] = []
    stop = asyncio.Event()

    def scheduler(given: dict[str, Any]) -> AsyncIOScheduler:
        """Records the ticks and runs the import one at once, inside `serve` (its database)."""
        ticks.update(given)
        if "import-files" in given:
            tick, seconds = given["import-files"]
            assert seconds == runtime.IMPORT_FILES_TICK
            ran.append(asyncio.ensure_future(tick()))
            ran[-1].add_done_callback(lambda _: stop.set())
        else:
            asyncio.get_running_loop().call_soon(stop.set)
        return AsyncIOScheduler(timezone="UTC")

    monkeypatch.setattr(runtime, "build_scheduler", scheduler)
    settings = Settings(
        data_dir=data,
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
    assert ("import-files" in ticks) == (role != "worker")
    if role == "worker":
        assert old.exists()
    else:
        assert [task.result() for task in ran] == [1]
        assert not old.exists()
    assert recent.exists()


def test_a_wrong_retention_stops_the_command_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("CRMHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRMHUB_DEFAULT_LOCALE", "en")
    monkeypatch.setenv("CRMHUB_IMPORT_RETENTION_DAYS", "0")
    assert cli.main(["migrate"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: Please correct the highlighted fields",
        "  CRMHUB_IMPORT_RETENTION_DAYS: A positive whole number expected",
    ]
    assert not (tmp_path / "crmhub.sqlite3").exists()  # nothing ran

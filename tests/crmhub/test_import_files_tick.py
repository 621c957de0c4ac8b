"""`crmhub run` deletes the files of imports that ended CRMHUB_IMPORT_RETENTION_DAYS ago,
and uploads no import was started from as old, with a scheduler tick where the web app runs
(uploads are written there), not in a worker."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from crm import clock, db
from crm.imports.files import UPLOAD_META
from crm.models import ImportJob, ImportStatus
from crmhub import runtime
from tests.crmhub.ticks import serve_until_tick


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


def upload_left(folder: Path, days_ago: int) -> Path:
    """A panel upload nobody started an import from, made `days_ago` days ago."""
    own = folder / f"{days_ago + 100:032x}"
    own.mkdir(parents=True)
    (own / "source.csv").write_text("Name\nRomashka\n")
    meta = own / UPLOAD_META
    meta.write_text('{"filename": "source.csv", "stored": "source.csv"}')
    then = (clock.now() - timedelta(days=days_ago)).timestamp()
    os.utime(meta, (then, then))
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
    left_old = upload_left(data / "imports", days_ago=11)
    left_recent = upload_left(data / "imports", days_ago=9)
    monkeypatch.setenv("CRMHUB_IMPORT_RETENTION_DAYS", "10")
    ticks, ran = await serve_until_tick(
        "import-files", url=url, data_dir=data, role=role, monkeypatch=monkeypatch
    )
    assert ("import-files" in ticks) == (role != "worker")
    if role == "worker":
        assert old.exists() and left_old.exists()
    else:
        assert ticks["import-files"][1] == runtime.IMPORT_FILES_TICK
        assert ran == [2]
        assert not old.exists() and not left_old.exists()
    assert recent.exists() and left_recent.exists()

"""Uploaded import files are kept CRMHUB_IMPORT_RETENTION_DAYS after their import finished
or failed, then deleted (the job stays, counts and all); a pending or running import and
anything outside the imports folder keep their files. An upload no import was started from
is kept as many days from its upload, then deleted too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from admin_web.keys import IMPORTS
from crm import clock
from crm.config import load_settings
from crm.errors import ValidationFailed
from crm.imports.files import UPLOAD_META, forget_abandoned_uploads, forget_ended_imports
from crm.models import ImportJob, ImportStatus
from tests.admin_web.conftest import Browser
from tests.admin_web.import_data import rows, write_csv
from tests.admin_web.test_import import start, upload

DAY = timedelta(days=1)


def on_disk(path: str) -> bool:
    return Path(path).exists()


def folder_of(job: ImportJob) -> Path:
    return Path(job.path).parent


async def ended_job(folder: Path, name: str, *, days_ago: int, **kw: object) -> ImportJob:
    """A job as an import leaves it: its folder under `folder` with the table and failed rows."""
    own = folder / name
    own.mkdir(parents=True, exist_ok=True)
    source = write_csv(own / "source.csv", rows(3))
    (own / "failed.csv").write_text("Line;Reason\n")
    fields: dict[str, object] = {
        "status": ImportStatus.DONE,
        "failed_path": str(own / "failed.csv"),
        "finished_at": clock.now() - days_ago * DAY,
        **kw,
    }
    return await ImportJob.create(filename="source.csv", path=str(source), **fields)


async def test_files_of_an_ended_import_go_after_the_retention(
    as_admin: Browser, tmp_path: Path
) -> None:
    folder = as_admin.app[IMPORTS].folder
    _status, _text = await upload(as_admin, write_csv(tmp_path / "done.csv", rows(50)))
    done = await start(as_admin, as_admin.page)
    assert done.status == ImportStatus.DONE and done.skipped == 1 and done.failed_path
    _status, _text = await upload(as_admin, write_csv(tmp_path / "mapping.csv", rows(2)))
    being_mapped = folder / as_admin.page.rsplit("/", 1)[1]
    assert (being_mapped / "meta.json").exists()

    with time_machine.travel(clock.now() + 29 * DAY, tick=False):
        assert await forget_ended_imports(folder, keep_days=30) == 0
    assert on_disk(done.path) and on_disk(done.failed_path)

    with time_machine.travel(clock.now() + 31 * DAY, tick=False):
        assert await forget_ended_imports(folder, keep_days=30) == 1
        assert await forget_ended_imports(folder, keep_days=30) == 0  # nothing left to do
    assert not folder_of(done).exists()
    assert (being_mapped / "meta.json").exists()  # no import was started from it
    job = await ImportJob.get(id=done.id)
    assert (job.path, job.failed_path) == ("", "")
    assert (job.status, job.created, job.skipped) == (done.status, done.created, 1)
    status, text = await as_admin.get(f"/import/jobs/{job.id}")
    assert status == 200 and 'id="count-skipped">1<' in text and "failed-rows" not in text
    resp = await as_admin.client.get(f"/import/jobs/{job.id}/failed.csv")
    assert resp.status == 404


async def test_failed_imports_go_and_unfinished_ones_stay(as_admin: Browser) -> None:
    folder = as_admin.app[IMPORTS].folder
    failed = await ended_job(folder, "a" * 32, days_ago=40, status=ImportStatus.FAILED)
    recent = await ended_job(folder, "b" * 32, days_ago=10)
    pending = await ended_job(folder, "c" * 32, days_ago=40, status=ImportStatus.PENDING)
    running = await ended_job(folder, "d" * 32, days_ago=40, status=ImportStatus.RUNNING)
    assert await forget_ended_imports(folder, keep_days=30) == 1
    assert not folder_of(failed).exists()
    for job in (recent, pending, running):
        assert on_disk(job.path)
        assert (await ImportJob.get(id=job.id)).path == job.path


async def test_a_folder_another_import_still_needs_stays(as_admin: Browser) -> None:
    """Two imports' files in one folder (as `crmhub import clients` kept them when it reused
    `cli-<name>` for a file name): the folder stays until the newer one's retention."""
    folder = as_admin.app[IMPORTS].folder
    old = await ended_job(folder, "cli-clients", days_ago=60)
    new = await ended_job(folder, "cli-clients", days_ago=5)
    assert await forget_ended_imports(folder, keep_days=30) == 0
    assert on_disk(new.path)
    with time_machine.travel(clock.now() + 26 * DAY, tick=False):
        assert await forget_ended_imports(folder, keep_days=30) == 2
    assert not folder_of(old).exists()
    assert not await ImportJob.exclude(path="").exists()


async def test_an_upload_no_import_was_started_from_goes_after_the_retention(
    as_admin: Browser, tmp_path: Path
) -> None:
    folder = as_admin.app[IMPORTS].folder
    _status, _text = await upload(as_admin, write_csv(tmp_path / "left.csv", rows(2)))
    left = as_admin.page
    abandoned = folder / left.rsplit("/", 1)[1]
    _status, _text = await upload(as_admin, write_csv(tmp_path / "done.csv", rows(5)))
    done = await start(as_admin, as_admin.page)  # an import was made from this one
    pending = await ended_job(folder, "c" * 32, days_ago=40, status=ImportStatus.PENDING)
    (folder_of(pending) / UPLOAD_META).write_text("{}")
    unmarked = folder / "cli-0123456789abcdef"  # not the panel's: no UPLOAD_META
    unmarked.mkdir()
    write_csv(unmarked / "source.csv", rows(1))
    loose = write_csv(folder / "loose.csv", rows(1))

    with time_machine.travel(clock.now() + 29 * DAY, tick=False):
        assert await forget_abandoned_uploads(folder, keep_days=30) == 0
    assert (abandoned / UPLOAD_META).exists()
    status, _text = await as_admin.get(left)
    assert status == 200

    with time_machine.travel(clock.now() + 31 * DAY, tick=False):
        assert await forget_abandoned_uploads(folder, keep_days=30) == 1
        assert await forget_abandoned_uploads(folder, keep_days=30) == 0
    assert not abandoned.exists()
    status, _text = await as_admin.get(left)
    assert status == 404
    for path in (done.path, pending.path, unmarked / "source.csv", loose):
        assert on_disk(str(path))


async def test_no_imports_folder_yet_is_nothing_to_forget(tmp_path: Path) -> None:
    assert await forget_abandoned_uploads(tmp_path / "imports", keep_days=1) == 0
    assert not (tmp_path / "imports").exists()


async def test_nothing_outside_the_imports_folder_is_touched(
    as_admin: Browser, tmp_path: Path
) -> None:
    folder = as_admin.app[IMPORTS].folder
    folder.mkdir(parents=True, exist_ok=True)
    elsewhere = await ended_job(tmp_path, "mine", days_ago=60)
    nested = await ended_job(folder / "deeper", "x", days_ago=60)
    root_file = write_csv(folder / "loose.csv", rows(1))
    loose = await ImportJob.create(
        filename="loose.csv",
        path=str(root_file),
        status=ImportStatus.DONE,
        finished_at=clock.now() - 60 * DAY,
    )
    assert await forget_ended_imports(folder, keep_days=30) == 0
    for job in (elsewhere, nested, loose):
        assert on_disk(job.path)
    assert folder.exists()


def test_the_retention_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRMHUB_IMPORT_RETENTION_DAYS", raising=False)
    assert load_settings().import_retention_days == 30
    monkeypatch.setenv("CRMHUB_IMPORT_RETENTION_DAYS", "7")
    assert load_settings().import_retention_days == 7
    for wrong in ("0", "-3", "two weeks", "1.5"):
        monkeypatch.setenv("CRMHUB_IMPORT_RETENTION_DAYS", wrong)
        with pytest.raises(ValidationFailed) as refused:
            load_settings()
        assert refused.value.field_messages("en") == {
            "CRMHUB_IMPORT_RETENTION_DAYS": "A positive whole number expected"
        }
        assert refused.value.field_messages("ru") == {
            "CRMHUB_IMPORT_RETENTION_DAYS": "Ожидается целое положительное число"
        }


async def test_a_retention_of_a_million_days_keeps_the_files(as_admin: Browser) -> None:
    folder = as_admin.app[IMPORTS].folder
    old = await ended_job(folder, "e" * 32, days_ago=40)
    assert await forget_ended_imports(folder, keep_days=10**9) == 0
    assert on_disk(old.path)

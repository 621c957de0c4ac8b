"""Import jobs: an uploaded file, its options and progress in a row; run once, in the
background of the web process or in `crmhub import clients`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crm import clock
from crm.errors import CrmError, NotFound, PermissionDenied
from crm.imports.files import load_row_count, load_table, remember_mapping
from crm.imports.importer import check_options, run_import, write_failed
from crm.imports.values import ImportOptions, Outcome
from crm.models import ImportJob, ImportStatus, User

log = logging.getLogger(__name__)


async def create_job(
    *, path: Path, filename: str, options: ImportOptions, actor: User | None
) -> ImportJob:
    """Check the file and the options, remember the mapping, and record the job."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()
    table = await load_table(path, filename)
    await check_options(options, len(table.headers))
    await remember_mapping(table.headers, dict(options.mapping))
    return await ImportJob.create(
        filename=filename[:255],
        path=str(path),
        options=options.as_json(),
        started_by=actor,
    )


async def get_job(job_id: int) -> ImportJob:
    job = await ImportJob.filter(id=job_id).first()
    if job is None:
        raise NotFound()
    return job


async def run_job(
    job_id: int, *, locale: str = "ru", progress: Callable[[Outcome], Any] | None = None
) -> ImportJob:
    """Run a pending job to the end; its row follows the progress batch by batch."""
    job = await get_job(job_id)
    actor = await User.filter(id=job.started_by_id).first() if job.started_by_id else None  # type: ignore[attr-defined]
    updated = await ImportJob.filter(id=job.id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING
    )
    if not updated:
        return job  # someone else runs (or ran) it
    path = Path(job.path)
    try:
        table = await load_table(path, job.filename)
        total = await load_row_count(table)
        await ImportJob.filter(id=job.id).update(total=total)

        async def report(outcome: Outcome) -> None:
            await ImportJob.filter(id=job.id).update(
                processed=outcome.processed,
                created=outcome.created,
                updated=outcome.updated,
                skipped=outcome.skipped,
            )
            if progress is not None:
                progress(outcome)

        outcome = await run_import(
            table,
            ImportOptions.from_json(job.options),
            actor=actor,
            locale=locale,
            total=total,
            progress=report,
        )
        failed_path = ""
        if outcome.failed:
            failed = path.with_name("failed.csv")
            write_failed(failed, table.headers, outcome.failed, locale)
            failed_path = str(failed)
        await ImportJob.filter(id=job.id).update(
            status=ImportStatus.DONE,
            total=max(total, outcome.processed),
            processed=outcome.processed,
            created=outcome.created,
            updated=outcome.updated,
            skipped=outcome.skipped,
            failed_path=failed_path,
            finished_at=clock.now(),
        )
    except CrmError as exc:
        await _fail(job.id, exc.render(locale))
    except Exception as exc:
        log.exception("import job %s failed", job.id)
        await _fail(job.id, str(exc) or exc.__class__.__name__)
    return await get_job(job.id)


async def _fail(job_id: int, error: str) -> None:
    await ImportJob.filter(id=job_id).update(
        status=ImportStatus.FAILED, error=error[:2000], finished_at=clock.now()
    )

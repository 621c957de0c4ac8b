"""Import jobs running in the background of the web process (one asyncio task each)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from crm.imports.jobs import run_job

log = logging.getLogger(__name__)


class ImportJobs:
    """Starts imports in the background; uploaded files live under `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._tasks: dict[int, asyncio.Task[object]] = {}

    def start(self, job_id: int, locale: str) -> None:
        task = asyncio.create_task(run_job(job_id, locale=locale), name=f"import-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def wait(self, job_id: int) -> None:
        """Until the job's task ends (tests, shutdown)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

"""bench.reports at a tiny scale: every case runs, and on PostgreSQL the hand-written SQL
gives the same figures as the reports. The timings are not judged here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.scratch import recreate

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--clients", "400", "--runs", "1", "--warmup", "0"]
CASES = ["funnel", "pipeline", "managers", "inquiries", "sources", "base"]


def rows(stdout: str) -> dict[str, list[str]]:
    table = stdout.split("| case |", 1)[1]
    return {
        cells[0]: cells[1:]
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
        for cells in [[cell.strip() for cell in line.strip().strip("|").split("|")]]
    }


def test_a_tiny_sqlite_run(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.reports", "--sqlite", str(tmp_path / "b.sqlite3"), *SMALL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), run.stderr
    found = rows(run.stdout)
    expected = [*CASES, *(f"{c} + field" for c in CASES), "dashboard"]
    assert list(found) == expected
    assert all(cells[2] == "—" for cells in found.values())  # no baseline on SQLite


@pytest.mark.skipif(not os.environ.get("CRMHUB_TEST_PG_DSN"), reason="needs PostgreSQL")
def test_a_tiny_postgres_run_agrees_with_the_sql() -> None:
    parts = urlsplit(os.environ["CRMHUB_TEST_PG_DSN"])
    dsn = urlunsplit(parts._replace(path="/crmhub_bench_reports_test"))
    asyncio.run(recreate(dsn))  # a copy left by another checkout may hold other migrations
    run = subprocess.run(
        [sys.executable, "-m", "bench.reports", "--dsn", dsn, *SMALL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), run.stderr
    found = rows(run.stdout)
    assert len(found) == 13
    assert {name: cells[5] for name, cells in found.items()} == {name: "yes" for name in found}

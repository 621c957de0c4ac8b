"""bench.desk at a tiny scale on PostgreSQL: every page case answers 200 for the admin and
the manager (web and API), and the live mode delivers every message to its desks and its
card. The timings are not judged here."""

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
PG = os.environ.get("CRMHUB_TEST_PG_DSN")
REDIS = os.environ.get("CRMHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.skipif(not PG, reason="needs PostgreSQL")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.desk", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_pages_at_a_tiny_scale() -> None:
    assert PG
    dsn = urlunsplit(urlsplit(PG)._replace(path="/crmhub_bench_desk_pages_test"))
    asyncio.run(recreate(dsn))  # a copy left by another checkout may hold other migrations
    done = run("pages", "--dsn", dsn, "--clients", "400", "--runs", "1", "--warmup", "0")
    assert done.returncode in (0, 1), done.stderr[-3000:]
    table = done.stdout.split("| case |", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 20 and not any("error" in row for row in rows)
    assert any(row.startswith("| search: name part |") for row in rows)


def test_live_at_a_tiny_rate() -> None:
    assert PG
    done = run(
        "live", "--dsn", PG, "--redis-url", REDIS, "--rate", "10", "--seconds", "1",
        "--senders", "4", "--managers", "2", "--desks", "2",
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "desk events read 10 of 10; cards 10 of 10" in done.stdout

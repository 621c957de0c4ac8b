"""bench.bot's harness at a tiny scale: every bot gets every action, in turns. Its figures
are not judged here (timings belong in bench/RESULTS.md), only that the harness counts what
it sent and times the bots in the order it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.bot_harness import KINDS, segment_order

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--managers", "2", "--actions", "6", "--segments", "2", "--warmup", "1", "--think", "0"]


def test_segments_alternate_so_drift_weighs_on_every_bot_alike() -> None:
    order = segment_order(KINDS, 4)
    assert order == ["echo", "echo-json", "crm", "crm", "echo-json", "echo"] * 2
    # every bot's mean position in the run is the same: a linear drift costs each alike
    means = {k: sum(i for i, o in enumerate(order) if o == k) / 4 for k in KINDS}
    assert len(set(means.values())) == 1


@pytest.mark.skipif(not os.environ.get("CRMHUB_TEST_PG_DSN"), reason="needs PostgreSQL")
def test_a_small_run_times_every_action_of_every_bot() -> None:
    parts = urlsplit(os.environ["CRMHUB_TEST_PG_DSN"])
    dsn = urlunsplit(parts._replace(path="/crmhub_bench_bot_test"))
    run = subprocess.run(
        [sys.executable, "-m", "bench.bot", "--dsn", dsn, *SMALL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, 1), run.stderr  # 1: the target missed, which is not judged
    bots, actions = (table(part) for part in run.stdout.split("| action |"))
    # 2 managers x 6 actions each, every one answered and timed (none lost between turns)
    assert {name: cells[0] for name, cells in bots.items()} == {
        "crmhub manager bot": "12",
        "bare aiogram echo": "12",
        "the echo on crmhub's Bot API session": "12",
    }
    # the script's first six steps after one untimed round, each with its own figures
    assert list(actions) == ["/deals", "1.", "Feed", "/today", "/client", "Stage"]
    assert "the three bots timed in turns, 2 segments each" in run.stdout


def table(text: str) -> dict[str, list[str]]:
    """A markdown table's rows: first cell -> the others (the heading and rule left out)."""
    return {
        cells[0]: cells[1:]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith(("| bot ", "| ---"))
        for cells in [[cell.strip() for cell in line.strip().strip("|").split("|")]]
    }

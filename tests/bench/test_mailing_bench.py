"""bench.mailing at a tiny scale on PostgreSQL, through the real processes: 40 recipients
across Telegram, VK, Viber and email, two `crmhub run --role worker` processes against the
fakes enforcing the platforms' limits. Every recipient gets exactly one message and no
limit is crossed, also when a worker is killed with SIGKILL mid-mailing and started again
(a message it was sending at that moment may be dead-lettered as interrupted: then it
reached the customer once or not at all, and a person decides). Timings are not judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("CRMHUB_TEST_PG_DSN")
REDIS = os.environ.get("CRMHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.skipif(not PG, reason="needs PostgreSQL")


def run(tmp_path: Path, *args: str) -> dict[str, Any]:
    assert PG
    dsn = urlunsplit(urlsplit(PG)._replace(path=f"/{urlsplit(PG).path.strip('/')}_mailbench"))
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.mailing", "--dsn", dsn, "--recipients", "40",
         "--json", str(out), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


def check(figures: dict[str, Any]) -> None:
    channels = figures["channels"]
    assert set(channels) == {"telegram", "vk", "viber", "email"}
    assert all(c["expected"] > 0 for c in channels.values())
    assert sum(c["expected"] for c in channels.values()) == 40
    for kind, c in channels.items():
        assert c["refused"] == 0, kind  # no 429 / error 6 / status 12 / 451 provoked
        assert c["duplicates"] == 0 and c["strangers"] == 0, kind
    missing = sum(c["missing"] for c in channels.values())
    assert missing == figures["interrupted_undelivered"]  # nobody silently lost
    assert figures["lost"] == 0 and figures["status"] == "done"


def test_two_worker_processes_send_a_mailing_on_four_channels(tmp_path: Path) -> None:
    figures = run(tmp_path, "--redis", REDIS)
    check(figures)
    assert figures["interrupted"] == 0
    assert all(c["delivered"] == c["expected"] for c in figures["channels"].values())


def test_a_worker_killed_mid_mailing_and_restarted(tmp_path: Path) -> None:
    # even: the mailbox (5/s) is still at work when the worker dies, its letters claimed
    figures = run(tmp_path, "--kill", "--split", "even")  # the pace in PostgreSQL's pace_slots
    assert figures["killed"]
    check(figures)

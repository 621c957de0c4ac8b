"""Mailing benchmark (issue 16): one mailing to --recipients clients split across Telegram,
VK, Viber and email, sent by two `crmhub run --role worker` processes against the platform
fakes enforcing the platforms' limits (tests/fakes/limits.py: Telegram 30/s per bot and 1/s
per chat, VK 20 calls/s per community token, Viber 20/s per bot, SMTP the mailbox's
`send_rate`; past them 429 / error 6 / status 12 / 451).

    .venv/bin/python -m bench.mailing [--dsn postgresql://...] [--redis redis://...]
        [--recipients 100000] [--email-rate 5] [--split limits|even] [--kill]
        [--results bench/RESULTS.md] [--json FILE]

This process recreates the scratch database, inserts the audience set-based
(bench/mailing_setup.py), runs the fakes (Telegram, VK, Viber on aiohttp; SMTP on aiosmtpd
in a thread; Dovecot for the mailbox's IMAP side) and starts the two workers with
PYTHONPATH and CRMHUB_* settings (the channels' base URLs point at the fakes). Once both
are up it starts the mailing (`crm.mailings.service.start`: the plan and the recipient
rows, timed) and waits until the mailing is done.

Per channel: delivered (distinct recipients), the time from its first to its last
delivery, the rate over it and its share of the limit (goal: at least 90%), the refusals
provoked (goal: none), duplicates (goal: none) and recipients not reached; per worker, the
growth of its resident memory from the mailing's start to its end (/proc VmRSS; goal:
under 50 MB). `--kill` kills one worker with SIGKILL when 40% is delivered and starts it
again: its claimed recipients and messages wait for their leases (2 minutes) to end and
are claimed again; a message it was sending at that moment is dead-lettered as
"interrupted" on the channels that do not deduplicate (the fake says whether it arrived)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import mailing_setup as setup
from bench.desk_live import cpu_seconds
from bench.desk_pages import CRMHUB
from bench.domain import machine
from bench.ingest import PYTHON, ROOT, stop
from bench.results import write_block
from bench.scratch import recreate
from crm import db
from crm.config import normalize_db_url
from crm.mailings import service
from crm.models import User
from inbox.outbox import INTERRUPTED
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.viber_api import ViberAPI
from tests.fakes.vk_api import VkAPI

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/crmhub_bench_mailing"
LOGS = ROOT / "data" / "bench-mailing"
KILL_AT = 0.4  # share delivered when --kill kills a worker


class Stamped(list[Any]):
    """A fake's list of deliveries that notes when each arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, item: Any) -> None:
        self.times.append(time.time())
        super().append(item)


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB (Linux /proc)."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except OSError:
        pass
    return found


class Worker:
    """One `crmhub run --role worker` child process; its memory at the mailing's start."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name, self.env = name, env
        self.log = LOGS / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.rss_start: dict[str, int] = {}
        self.rss_end: dict[str, int] = {}
        self.cpu_start = self.cpu_end = 0.0

    def start(self) -> None:
        command = [CRMHUB, "run", "--role", "worker"]
        if os.environ.get("BENCH_MAILING_PROFILE"):  # a cProfile of each worker, in LOGS
            command = [PYTHON, "-m", "cProfile", "-o", str(LOGS / f"{self.name}.prof"), *command]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, env=self.env, stderr=log, cwd=ROOT)

    async def ready(self, within: float = 180.0) -> None:
        """Until the worker says its inbox has started (its log)."""
        assert self.process is not None
        deadline = time.time() + within
        while "crmhub inbox worker started" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.time() > deadline:
                raise SystemExit(f"{self.name} did not start; see {self.log}")
            await asyncio.sleep(0.2)
        self.rss_start = rss_kb(self.process.pid)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.rss_end = rss_kb(self.process.pid)
            self.cpu_end = cpu_seconds(self.process.pid)
            stop(self.process)

    @property
    def cpu(self) -> float:
        return self.cpu_end - self.cpu_start

    @property
    def growth_mb(self) -> float:
        return (self.rss_end.get("VmRSS", 0) - self.rss_start.get("VmRSS", 0)) / 1024


class Fakes:
    """The four platforms, their deliveries stamped; the address each delivery went to."""

    def __init__(self, email_rate: float) -> None:
        self.telegram = TelegramAPI(rate_limits=True)
        self.vk = VkAPI(rate_limits=True, tokens=[setup.VK_TOKEN])
        self.viber = ViberAPI(require_webhook=False, rate_limits=True)
        self.smtp = SmtpServer(user=setup.MAILBOX, password=setup.MAILBOX_PASSWORD, rate=email_rate)
        self.dovecot = Dovecot()
        for fake in (self.telegram, self.vk, self.viber):
            fake.delivered = Stamped()
        self.smtp.received = Stamped()

    async def start(self) -> None:
        for fake in (self.telegram, self.vk, self.viber):
            await fake.start()
        self.smtp.start()
        self.dovecot.start()
        self.dovecot.add_user(setup.MAILBOX, setup.MAILBOX_PASSWORD)

    async def stop(self) -> None:
        for fake in (self.telegram, self.vk, self.viber):
            await fake.stop()
        self.smtp.stop()
        self.dovecot.stop()

    def deliveries(self, kind: str) -> tuple[list[str], list[float]]:
        if kind == "telegram":
            got: Stamped = self.telegram.delivered  # type: ignore[assignment]
            return [str(m["chat"]["id"]) for m in got], got.times
        if kind == "vk":
            got = self.vk.delivered  # type: ignore[assignment]
            return [str(m.peer_id) for m in got], got.times
        if kind == "viber":
            got = self.viber.delivered  # type: ignore[assignment]
            return [m.receiver for m in got], got.times
        got = self.smtp.received  # type: ignore[assignment]
        return [m.rcpt_tos[0] for m in got], got.times

    def refused(self, kind: str) -> int:
        fake: Any = {"telegram": self.telegram, "vk": self.vk, "viber": self.viber}.get(kind)
        limits = fake.limits if fake is not None else self.smtp.limits
        return int(limits.refused) if limits is not None else 0

    def total(self) -> int:
        return sum(len(self.deliveries(k)[0]) for k in setup.KINDS)


async def db_summary(dsn: str, mailing_id: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        statuses = dict(
            await conn.fetch(
                "SELECT status, count(*) FROM messages WHERE direction = 'out' GROUP BY status"
            )
        )
        interrupted = await conn.fetch(
            "SELECT c.kind, i.external_id FROM messages m JOIN channels c ON c.id = m.channel_id"
            " JOIN conversations v ON v.id = m.conversation_id"
            " JOIN channel_identities i ON i.id = v.identity_id"
            " WHERE m.status = 'dead' AND m.last_error LIKE $1",
            INTERRUPTED + "%",
        )
        skipped = await conn.fetchval(
            "SELECT count(*) FROM mailing_recipients WHERE mailing_id = $1 AND skipped <> ''",
            mailing_id,
        )
        status = await conn.fetchval("SELECT status FROM mailings WHERE id = $1", mailing_id)
    finally:
        await conn.close()
    return {
        "statuses": {str(k): int(v) for k, v in statuses.items()},
        "interrupted": [(str(r[0]), str(r[1])) for r in interrupted],
        "skipped": int(skipped),
        "status": str(status),
    }


async def mailing_status(dsn: str, mailing_id: int) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SELECT status FROM mailings WHERE id = $1", mailing_id))
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> int:
    from bench.mailing_report import report

    # aiosmtpd (the SMTP fake) warns of its own deprecated attribute at every login
    warnings.filterwarnings("ignore", message=".*login_data is deprecated")
    url = normalize_db_url(args.dsn)
    await recreate(args.dsn)
    await db.migrate(url)
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in LOGS.glob("*.log"):
        old.unlink()
    fakes = Fakes(args.email_rate)
    await fakes.start()
    workers: list[Worker] = []
    try:
        async with db.session(url):
            admin = await setup.admin_and_hours()
            made = await setup.make_channels(
                admin,
                tg=fakes.telegram.base_url,
                vk=fakes.vk.base_url,
                viber=fakes.viber.base_url,
                smtp_port=fakes.smtp.port,
                imap_port=fakes.dovecot.port,
                rate=args.email_rate,
            )
            began = time.time()
            audience = await setup.audience(
                args.dsn, args.recipients, made, args.email_rate, even=args.split == "even"
            )
            built = time.time() - began
            mailing_id = await setup.draft(admin, audience.client_ids)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CRMHUB_DATABASE_URL": args.dsn,
            "CRMHUB_SECRET_KEY": "bench-mailing-" + "s" * 40,
            "CRMHUB_DATA_DIR": str(LOGS),
            "CRMHUB_PUBLIC_URL": "",
        }
        if args.redis:
            env["CRMHUB_REDIS_URL"] = args.redis
        else:
            env.pop("CRMHUB_REDIS_URL", None)
        workers = [Worker(f"worker-{n}", env) for n in (1, 2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            await worker.ready()
        async with db.session(url):
            began = time.time()
            await service.start(mailing_id, actor=await User.get(id=admin.id))
            planned = time.time() - began
        for worker in workers:  # the memory at the mailing's start
            assert worker.process is not None
            worker.rss_start = rss_kb(worker.process.pid)
            worker.cpu_start = cpu_seconds(worker.process.pid)
        killed: dict[str, Any] = {}
        own_cpu = sum(os.times()[:2])  # this process: the fakes (SMTP in a thread) and the watch
        expected = sum(len(v) for v in audience.expected.values())
        deadline = time.time() + args.timeout
        shown = time.time()
        while time.time() < deadline:
            await asyncio.sleep(0.5)
            total = fakes.total()
            if args.kill and not killed and total >= KILL_AT * expected:
                victim = workers[0]
                assert victim.process is not None
                victim.rss_end = rss_kb(victim.process.pid)
                victim.cpu_end = cpu_seconds(victim.process.pid)
                victim.kill()
                killed = {"at": total, "growth": victim.growth_mb, "cpu": victim.cpu}
                print(f"killed {victim.name} (SIGKILL) at {total} delivered; restarting it")
                replacement = Worker("worker-1-restarted", env)
                replacement.start()
                await replacement.ready()
                replacement.cpu_start = cpu_seconds(replacement.process.pid)  # type: ignore[union-attr]
                workers[0] = replacement
            if time.time() - shown > 10:
                shown = time.time()
                rss = ", ".join(
                    f"{w.name} {rss_kb(w.process.pid).get('VmRSS', 0) / 1024:.0f} MB"
                    for w in workers
                    if w.process is not None
                )
                print(f"  {total}/{expected} delivered; RSS {rss}", flush=True)
            if await mailing_status(args.dsn, mailing_id) == "done":
                break
        finished = time.time()
        own_cpu = sum(os.times()[:2]) - own_cpu
        summary = await db_summary(args.dsn, mailing_id)
        for worker in workers:
            worker.stop()
    finally:
        for worker in workers:
            worker.stop()
        await fakes.stop()
    text, ok, figures = report(
        args, fakes, audience, workers, summary, killed=killed, built=built, planned=planned,
        took=finished - began, own_cpu=own_cpu, machine=machine(),
        when=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", load=os.getloadavg()[0],
    )  # fmt: skip
    print(text)
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(figures, indent=1))
    if args.results:
        name = "bench.mailing --kill" if args.kill else "bench.mailing"
        write_block(Path(args.results), name, text)
        print(f"\nwritten to {args.results}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mailing", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--dsn", default=DEFAULT_DSN, help="a scratch PostgreSQL database (recreated)"
    )
    parser.add_argument("--redis", default=None, help="share the pace in this Redis")
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument(
        "--email-rate", type=float, default=5.0, help="the mailbox's send_rate (and the SMTP limit)"
    )
    parser.add_argument(
        "--split",
        choices=("limits", "even"),
        default="limits",
        help="the audience across the channels: in proportion to their limits, or evenly",
    )
    parser.add_argument("--kill", action="store_true", help="kill -9 a worker mid-mailing")
    parser.add_argument("--timeout", type=float, default=None, help="seconds (default: ample)")
    parser.add_argument("--results", default=None, help="write the figures into this file")
    parser.add_argument("--json", default=None, help="write the figures as JSON to this file")
    args = parser.parse_args(argv)
    if args.timeout is None:  # twice the time the limits allow, plus the leases and start-up
        args.timeout = 2 * args.recipients / (70 + args.email_rate) + 400
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())

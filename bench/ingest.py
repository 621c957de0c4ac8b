"""Webhook ingestion benchmark: crmhub against a bare aiohttp + asyncpg handler, same run.

    .venv/bin/python -m bench.ingest [--dsn postgresql://postgres@127.0.0.1:5432/postgres]

Creates two scratch databases next to the one named by --dsn, starts `crmhub run` on one
(webhook mode, one Telegram channel) and the bare handler (one INSERT of the body per
update) on the other, each in its own process, and loads each from a third process:

crmhub runs as it is deployed for load: `crmhub run --role web` (webhooks: verify, store,
acknowledge) beside `crmhub run --role worker` (processing); `--single` runs one process.

(a) throughput: --updates Telegram-format updates from --senders concurrent senders,
    counted when the rows are committed (crmhub: `messages`; bare: its one table), not when
    the webhook is acknowledged;
(b) latency: an open-loop offered rate of --rate updates/s for --seconds, acknowledgement
    latency p50/p99 (requests are sent on schedule whether or not earlier ones returned).

Prints each figure and its ratio to the bare handler's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from bench.scratch import db_url, recreate

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET = "bench-secret-token-0123456789"
WORDS = "здравствуйте подскажите цена доставка наличие счёт договор скидка завтра можно".split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def update(seq: int, sender: int, message_id: int) -> bytes:
    user = {"id": 500_000 + sender, "is_bot": False, "first_name": f"Клиент {sender}"}
    text = " ".join(random.choice(WORDS) for _ in range(8))
    body = {
        "update_id": 100_000 + seq,
        "message": {
            "message_id": message_id,
            "from": user,
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "date": int(time.time()),
            "text": text,
        },
    }
    return json.dumps(body, ensure_ascii=False).encode()


# --- the bare handler -------------------------------------------------------------------------


async def bare_server(dsn: str, port: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=4, max_size=10)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS updates (id bigserial PRIMARY KEY, body text NOT NULL)"
    )

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        await pool.execute("INSERT INTO updates (body) VALUES ($1)", body.decode())
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/webhook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    await pool.close()


# --- the load generator (its own process) -------------------------------------------------


async def wait_count(dsn: str, sql: str, target: int, deadline: float) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        while time.perf_counter() < deadline:
            if await conn.fetchval(sql) >= target:
                return time.perf_counter()
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    raise SystemExit(f"timed out waiting for {target} rows")


async def load(args: argparse.Namespace) -> None:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    connector = aiohttp.TCPConnector(limit=args.senders * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        # warm-up: one update per sender (identities, conversations, inquiries), not measured
        counter = {"seq": 0}
        next_id = dict.fromkeys(range(args.senders), 1)

        def take(sender: int) -> bytes:
            counter["seq"] += 1
            next_id[sender] += 1
            return update(counter["seq"], sender, next_id[sender])

        async def post(body: bytes) -> float:
            started = time.perf_counter()
            async with session.post(args.url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"webhook answered {response.status}")
            return time.perf_counter() - started

        await asyncio.gather(*(post(take(s)) for s in range(args.senders)))
        base = args.senders
        await wait_count(args.count_dsn, args.count_sql, base, time.perf_counter() + 120)

        # (a) closed loop: `senders` concurrent senders, `updates` in all
        per_sender = args.updates // args.senders
        started = time.perf_counter()

        async def sender(s: int) -> None:
            for _ in range(per_sender):
                await post(take(s))

        await asyncio.gather(*(sender(s) for s in range(args.senders)))
        acked = time.perf_counter()
        total = per_sender * args.senders
        done = await wait_count(
            args.count_dsn, args.count_sql, base + total, time.perf_counter() + 600
        )
        throughput = total / (done - started)
        ack_rate = total / (acked - started)

        # (b) open loop at a fixed offered rate
        await asyncio.sleep(1.0)
        latencies: list[float] = []
        interval = 1.0 / args.rate
        count = int(args.rate * args.seconds)
        tasks = []
        begin = time.perf_counter()
        for i in range(count):
            delay = begin + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(take(i % args.senders))))
        latencies = sorted(await asyncio.gather(*tasks))
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        json.dumps({"throughput": throughput, "ack_rate": ack_rate, "p50_ms": p50, "p99_ms": p99})
    )


def run_load(url: str, count_dsn: str, count_sql: str, args: argparse.Namespace) -> dict[str, Any]:
    out = subprocess.run(
        [
            PYTHON, "-m", "bench.ingest", "load", "--url", url, "--count-dsn", count_dsn,
            "--count-sql", count_sql, "--updates", str(args.updates),
            "--senders", str(args.senders), "--rate", str(args.rate),
            "--seconds", str(args.seconds),
        ],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def wait_http(url: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


async def main(args: argparse.Namespace) -> None:
    crm_db, bare_db = "crmhub_bench_ingest", "crmhub_bench_bare"
    await recreate(db_url(args.dsn, crm_db))
    await recreate(db_url(args.dsn, bare_db))
    crm_url, bare_url = db_url(args.dsn, crm_db), db_url(args.dsn, bare_db)
    port = free_port()
    env = {
        **os.environ,
        "CRMHUB_DATABASE_URL": crm_url,
        "CRMHUB_WEB_PORT": str(port),
        "CRMHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CRMHUB_DATA_DIR": str(ROOT / "data" / "bench"),
    }
    crmhub = str(Path(PYTHON).parent / "crmhub")
    await asyncio.to_thread(
        subprocess.run, [crmhub, "migrate"], env=env, check=True, capture_output=True
    )
    await setup_channel(crm_url)
    results: dict[str, dict[str, Any]] = {}
    roles = [["all"]] if args.single else [["web"], ["worker"]]
    servers = [
        subprocess.Popen(  # noqa: ASYNC220
            [crmhub, "run", "--role", *role], env=env, stderr=subprocess.DEVNULL
        )
        for role in roles
    ]
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz", time.perf_counter() + 60)
        results["crmhub"] = await asyncio.to_thread(
            run_load,
            f"http://127.0.0.1:{port}/webhooks/telegram/1",
            crm_url,
            "SELECT count(*) FROM messages",
            args,
        )
    finally:
        for server in servers:
            stop(server)
    bare_port = free_port()
    bare = subprocess.Popen(  # noqa: ASYNC220
        [PYTHON, "-m", "bench.ingest", "bare", "--count-dsn", bare_url, "--port", str(bare_port)],
        cwd=ROOT,
    )
    try:
        await wait_http(f"http://127.0.0.1:{bare_port}/", time.perf_counter() + 30)
        results["bare"] = await asyncio.to_thread(
            run_load,
            f"http://127.0.0.1:{bare_port}/webhook",
            bare_url,
            "SELECT count(*) FROM updates",
            args,
        )
    finally:
        stop(bare)
    crm, base = results["crmhub"], results["bare"]
    shape = "one process (--role all)" if args.single else "a web and a worker process"
    print(f"crmhub ran as {shape}; the bare handler as one process")
    print(f"{'':28}{'crmhub':>12}{'bare':>12}{'ratio':>10}")
    print(
        f"{'committed updates/s':28}{crm['throughput']:12.0f}{base['throughput']:12.0f}"
        f"{crm['throughput'] / base['throughput']:10.2f}"
    )
    print(f"{'acknowledged updates/s':28}{crm['ack_rate']:12.0f}{base['ack_rate']:12.0f}")
    for key in ("p50_ms", "p99_ms"):
        print(
            f"{key + f' at {args.rate}/s':28}{crm[key]:12.1f}{base[key]:12.1f}"
            f"{crm[key] / base[key]:10.2f}"
        )
    ok = crm["throughput"] >= 0.6 * base["throughput"] and crm["p99_ms"] < 25
    print("target (>= 60% throughput, p99 < 25 ms):", "met" if ok else "NOT met")


async def setup_channel(url: str) -> None:
    from crm import db
    from crm.models import Channel, ChannelKind
    from crm.scenarios import create_scenario

    async with db.session(url.replace("postgresql://", "postgres://", 1)):
        await create_scenario("Продажа", ["Новый", "Счёт", "Оплата"], actor=None)
        await Channel.create(
            kind=ChannelKind.TELEGRAM,
            name="bench",
            credentials={"token": "1:bench", "webhook_secret": SECRET},
            settings={"mode": "webhook"},
        )


def cli() -> None:
    parser = argparse.ArgumentParser(prog="bench.ingest")
    parser.add_argument("role", nargs="?", default="main", choices=["main", "bare", "load"])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=64)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--url")
    parser.add_argument("--port", type=int)
    parser.add_argument("--count-dsn")
    parser.add_argument("--count-sql")
    parser.add_argument(
        "--single",
        action="store_true",
        help="crmhub as one process (role all) instead of a web and a worker process",
    )
    args = parser.parse_args()
    if args.role == "bare":
        asyncio.run(bare_server(args.count_dsn, args.port))
    elif args.role == "load":
        asyncio.run(load(args))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()

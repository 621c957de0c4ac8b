"""bench.desk live: a customer's message from its webhook to the open web desks and to the
manager's Telegram card, at an offered rate, on PostgreSQL with `crmhub run --role web` and
`crmhub run --role worker` as separate processes (the desk feed through Redis).

This process plays everything outside crmhub: the Telegram Bot API fake (both the
customers' channel and the managers' bot talk to it), the customers (an open loop of
webhook posts at --rate per second for --seconds, from --senders customers, each a client
of one of --managers managers with an open deal), and --desks web desks (`GET
/inbox/events`, Server-Sent Events), logged in as those managers in turn, so each message
reaches the desks of its manager. Every message carries its number in the text.

Measured, for each message of the timed stretch, from the moment its webhook post was sent:
- desk: its event read by each desk of its manager (the n-th event of a conversation on a
  desk is taken as its n-th message; the feed keeps a conversation's order);
- card: the manager's card of it recorded by the Bot API fake (found by the number);
- ack: the webhook's answer (as bench.ingest's latency, at this rate);
and, from the database, where the time went: post -> stored (raw_events.created_at, the web
process) -> processed (raw_events.processed_at, the worker: its wake-up and the processing)
-> desk / card (the fan-out after processing)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.desk_pages import CRMHUB, CSRF, PASSWORD
from bench.domain import machine
from bench.ingest import ROOT, SECRET, free_port, stop, wait_http
from bench.results import write_block
from bench.scratch import db_url, recreate
from crm import db
from crm.config import normalize_db_url
from tests.fakes.telegram_api import TelegramAPI

CUSTOMER_TOKEN = "1:bench-customers"
MANAGER_TOKEN = "2:bench-managers"
NUMBER = re.compile(r"№(\d+)")
WORDS = "здравствуйте подскажите цена доставка наличие счёт договор скидка завтра".split()
DESK_P50, DESK_P99 = 100.0, 250.0


@dataclass
class Record:
    sent: dict[int, float] = field(default_factory=dict)  # number -> post sent (time.time)
    acked: dict[int, float] = field(default_factory=dict)
    carded: dict[int, float] = field(default_factory=dict)  # number -> card at the fake
    desk: list[tuple[int, float]] = field(default_factory=list)  # (number, read at a desk)
    # per (desk, conversation): the numbers sent to it, in order, and how many were read
    queues: dict[int, list[int]] = field(default_factory=dict)  # conversation -> numbers


def instrument(fake: TelegramAPI, record: Record) -> None:
    """Timestamp every card the managers' bot sends, by the message number in its text."""
    original = fake._send_message

    async def send_message(p: dict[str, Any], token: str) -> Any:
        answer = await original(p, token)
        found = NUMBER.findall(str(p.get("text", "")))  # the deal's title has the first's
        if token == MANAGER_TOKEN and found:
            record.carded.setdefault(int(found[-1]), time.time())
        return answer

    fake._send_message = send_message  # type: ignore[method-assign]
    fake._handlers["sendmessage"] = ("sendMessage", send_message)


def body(number: int, sender: int, message_id: int) -> bytes:
    user = {"id": 700_000 + sender, "is_bot": False, "first_name": f"Покупатель {sender}"}
    text = f"{WORDS[number % len(WORDS)]} №{number}"
    update = {
        "update_id": 1_000_000 + number,
        "message": {
            "message_id": message_id,
            "from": user,
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "date": int(time.time()),
            "text": text,
        },
    }
    return json.dumps(update, ensure_ascii=False).encode()


async def setup(url: str, fake_url: str, managers: int) -> list[tuple[int, str]]:
    """A scenario, the customers' Telegram channel (webhook mode, on the fake) and the
    managers, bound to the managers' bot with a password each: their (id, email)."""
    from crm.models import Channel, ChannelKind, Role, User
    from crm.scenarios import create_scenario
    from crm.users import create_user, hash_password

    found = []
    async with db.session(url):
        await create_scenario("Продажа", ["Новый", "Счёт", "Оплата"], actor=None)
        await Channel.create(
            kind=ChannelKind.TELEGRAM,
            name="bench",
            credentials={"token": CUSTOMER_TOKEN, "webhook_secret": SECRET},
            settings={"mode": "webhook"},
            api_base=fake_url,
        )
        await create_user(email="admin@bench.local", full_name="Админ", role=Role.ADMIN, actor=None)
        for i in range(managers):
            user = await create_user(
                email=f"m{i}@bench.local", full_name=f"Менеджер {i}", actor=None
            )
            await User.filter(id=user.id).update(
                telegram_user_id=900_000 + i, password_hash=hash_password(PASSWORD)
            )
            found.append((user.id, user.email))
    return found


async def accept_all(url: str, owners: dict[int, int], count: int) -> dict[int, int]:
    """Each sender's inquiry taken by its manager (an open deal, the client theirs):
    sender -> its conversation id."""
    from crm.inquiries import accept_inquiry
    from crm.models import ChannelIdentity, Conversation, Inquiry, InquiryStatus, User

    conversations: dict[int, int] = {}
    async with db.session(url):
        deadline = time.time() + 120
        while await Inquiry.filter(status=InquiryStatus.OPEN).count() < count:
            if time.time() > deadline:
                raise SystemExit("the warm-up messages did not all become inquiries")
            await asyncio.sleep(0.2)
        for sender, manager_id in owners.items():
            identity = await ChannelIdentity.get(external_id=str(700_000 + sender))
            conversation = await Conversation.get(identity_id=identity.id)
            inquiry = await Inquiry.get(conversation_id=conversation.id, status="open")
            await accept_inquiry(inquiry.id, actor=await User.get(id=manager_id))
            conversations[sender] = conversation.id
    return conversations


async def desk(
    session: aiohttp.ClientSession,
    base: str,
    record: Record,
    ready: asyncio.Event,
    stopping: asyncio.Event,
) -> None:
    """One open desk page's event stream: each message event's time, by conversation."""
    read: dict[int, int] = {}
    async with session.get(base + "/inbox/events", timeout=aiohttp.ClientTimeout(None)) as r:
        ready.set()
        event, data = "", ""
        while not stopping.is_set():
            line = (await r.content.readline()).decode()
            if not line:
                break
            line = line.rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif not line and data:
                if event == "message":
                    now = time.time()
                    conversation = int(json.loads(data)["conversation_id"])
                    numbers = record.queues.get(conversation, [])
                    n = read.get(conversation, 0)
                    if n < len(numbers):
                        record.desk.append((numbers[n], now))
                    read[conversation] = n + 1
                event, data = "", ""


async def log_in(session: aiohttp.ClientSession, base: str, email: str) -> None:
    async with session.get(base + "/login") as response:
        token = (await response.text()).split(CSRF, 1)[1].split('"', 1)[0]
    form = {"email": email, "password": PASSWORD, "_csrf": token}
    async with session.post(base + "/login", data=form, allow_redirects=False) as response:
        if response.status not in (302, 303):
            raise SystemExit(f"log-in as {email} answered {response.status}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q) - 1))] if ordered else 0.0


async def offer(
    session: aiohttp.ClientSession,
    url: str,
    record: Record,
    senders: int,
    rate: float,
    seconds: float,
    conversations: dict[int, int],
    first: int,
    message_ids: dict[int, int],
) -> None:
    """The open loop: post after post on schedule, whether or not earlier ones returned
    (`message_ids`: each sender's last Telegram message id, a repeated one is a duplicate)."""
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def post(number: int, payload: bytes) -> None:
        record.sent[number] = time.time()
        async with session.post(url, data=payload, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise SystemExit(f"webhook answered {response.status}")
        record.acked[number] = time.time()

    tasks = []
    begin = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sender, number = i % senders, first + i
        message_ids[sender] += 1
        if conversations:
            record.queues.setdefault(conversations[sender], []).append(number)
        tasks.append(asyncio.create_task(post(number, body(number, sender, message_ids[sender]))))
    await asyncio.gather(*tasks)


async def stages_from_db(url: str, record: Record) -> dict[int, tuple[float, float]]:
    """number -> (stored, processed) moments of its raw event."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT body, created_at, processed_at FROM raw_events WHERE processed_at IS NOT NULL"
        )
    finally:
        await conn.close()
    found = {}
    for row in rows:
        match = NUMBER.search(row["body"])
        if match and int(match.group(1)) in record.sent:
            found[int(match.group(1))] = (
                row["created_at"].timestamp(),
                row["processed_at"].timestamp(),
            )
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backend_pids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


def spread(values: list[float]) -> str:
    return f"{percentile(values, 0.5):.1f} / {percentile(values, 0.99):.1f}"


async def run(args: argparse.Namespace) -> int:
    dsn = db_url(args.dsn, "crmhub_bench_desk")
    await recreate(dsn)
    url = normalize_db_url(dsn)
    await db.migrate(url)
    record = Record()
    fake = TelegramAPI(tokens=[CUSTOMER_TOKEN, MANAGER_TOKEN])
    instrument(fake, record)
    fake_url = await fake.start()
    managers = await setup(url, fake_url, args.managers)
    for i in range(args.managers):
        fake.add_chat({"id": 900_000 + i, "type": "private", "first_name": f"Менеджер {i}"})
    redis = args.redis_url
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis)
    await client.delete("crmhub:desk")
    await client.aclose()
    port = free_port()
    env = {
        **os.environ,
        "CRMHUB_DATABASE_URL": dsn,
        "CRMHUB_WEB_PORT": str(port),
        "CRMHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CRMHUB_SECRET_KEY": "bench-desk-" + "s" * 40,
        "CRMHUB_DATA_DIR": str(ROOT / "data" / "bench-desk-live"),
        "CRMHUB_REDIS_URL": redis,
        "CRMHUB_MANAGER_BOT_TOKEN": MANAGER_TOKEN,
        "CRMHUB_TELEGRAM_API_BASE": fake_url,
    }
    logs = ROOT / "data" / "bench-desk-live"
    logs.mkdir(parents=True, exist_ok=True)
    servers = [
        subprocess.Popen(  # noqa: ASYNC220
            [CRMHUB, "run", "--role", role],
            env=env,
            stderr=(logs / f"{role}.log").open("w"),
        )
        for role in ("web", "worker")
    ]
    base = f"http://127.0.0.1:{port}"
    webhook = f"{base}/webhooks/telegram/1"
    stopping = asyncio.Event()
    sessions: list[aiohttp.ClientSession] = []
    try:
        await wait_http(base + "/healthz", time.perf_counter() + 120)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as poster:
            # warm-up: one message from each customer, taken by its manager
            ids = dict.fromkeys(range(args.senders), 100)
            warm = args.senders / 100
            await offer(poster, webhook, Record(), args.senders, 100, warm, {}, 0, ids)
            owners = {s: managers[s % len(managers)][0] for s in range(args.senders)}
            conversations = await accept_all(url, owners, args.senders)
            desks = []
            for d in range(args.desks):
                session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
                sessions.append(session)
                await log_in(session, base, managers[d % len(managers)][1])
                ready = asyncio.Event()
                desks.append(asyncio.create_task(desk(session, base, record, ready, stopping)))
                await ready.wait()
            await asyncio.sleep(2.0)  # the accepted cards and events settle
            cpu, load = os.times(), os.getloadavg()[0]
            backends = await backend_pids(dsn)
            watched = {"web": [servers[0].pid], "worker": [servers[1].pid], "PostgreSQL": backends}
            before = {k: sum(cpu_seconds(p) for p in v) for k, v in watched.items()}
            started = time.time()
            await offer(
                poster, webhook, record, args.senders, args.rate, args.seconds,
                conversations, 10_000, ids,
            )  # fmt: skip
            deadline = time.time() + 30
            expected = len(record.sent) * args.desks // len(managers)
            while time.time() < deadline and (  # noqa: ASYNC110
                len(record.carded) < len(record.sent) or len(record.desk) < expected
            ):
                await asyncio.sleep(0.2)
            took = time.time() - started
            own_cpu = sum(os.times()[:2]) - sum(cpu[:2])
            load = max(load, os.getloadavg()[0])
            used = {k: sum(cpu_seconds(p) for p in v) - before[k] for k, v in watched.items()}
            stopping.set()
            for task in desks:
                task.cancel()
            await asyncio.gather(*desks, return_exceptions=True)
        stages = await stages_from_db(dsn, record)
    finally:
        for session in sessions:
            await session.close()
        for server in servers:
            stop(server)
        await fake.stop()
    if os.environ.get("BENCH_DESK_DEBUG"):
        from collections import Counter

        print(Counter(str(m["chat"]["id"]) for m in fake.delivered))
        print([m.get("text", "")[:80] for m in fake.delivered[-3:]])
    sent = record.sent
    desk_ms = [(t - sent[n]) * 1000 for n, t in record.desk]
    card_ms = [(t - sent[n]) * 1000 for n, t in record.carded.items() if n in sent]
    ack_ms = [(record.acked[n] - sent[n]) * 1000 for n in record.acked]
    stored = [(s - sent[n]) * 1000 for n, (s, _) in stages.items()]
    worker = [(p - s) * 1000 for _, (s, p) in stages.items()]
    first_desk: dict[int, float] = {}
    for n, t in record.desk:
        first_desk[n] = min(t, first_desk.get(n, t))
    to_desk = [(t - stages[n][1]) * 1000 for n, t in record.desk if n in stages]
    to_card = [(t - stages[n][1]) * 1000 for n, t in record.carded.items() if n in stages]
    expected = len(sent) * args.desks // len(managers)
    ok = (
        len(record.desk) == expected
        and len(card_ms) == len(sent)
        and percentile(desk_ms, 0.5) < DESK_P50
        and percentile(desk_ms, 0.99) < DESK_P99
        and percentile(card_ms, 0.5) < DESK_P50
        and percentile(card_ms, 0.99) < DESK_P99
    )
    lines = [
        f"### bench.desk live on PostgreSQL, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        f"- `crmhub run --role web` and `--role worker`, the desk feed on Redis; {args.rate}"
        f" messages/s offered for {args.seconds:.0f} s from {args.senders} customers, each a"
        f" client with an open deal of one of {args.managers} managers; {args.desks} desks"
        f" (`/inbox/events`) open as those managers in turn",
        f"- {len(sent)} messages posted; desk events read {len(record.desk)} of {expected};"
        f" cards {len(card_ms)} of {len(sent)}; this process (fake, customers, desks) used"
        f" {own_cpu / took:.0%} of a core; the machine's load average {load:.1f}",
        "- CPU per message posted: "
        + ", ".join(f"{k} {v * 1000 / max(1, len(sent)):.1f} ms" for k, v in used.items())
        + f" (at {args.rate:.0f}/s, {sum(used.values()) / took:.2f} cores over"
        f" {took:.1f} s)",
        f"- target: desk and card p50 under {DESK_P50:.0f} ms and p99 under {DESK_P99:.0f} ms",
        "",
        "| from the webhook post to | p50 ms | p99 ms |",
        "| --- | ---: | ---: |",
        f"| the event read at a desk | {percentile(desk_ms, 0.5):.1f} |"
        f" {percentile(desk_ms, 0.99):.1f} |",
        f"| the manager's card at the Bot API | {percentile(card_ms, 0.5):.1f} |"
        f" {percentile(card_ms, 0.99):.1f} |",
        f"| the webhook's answer (ack) | {percentile(ack_ms, 0.5):.1f} |"
        f" {percentile(ack_ms, 0.99):.1f} |",
        "",
        "Where the time goes (p50 / p99 ms of each step):",
        "",
        "| post → stored (web) | stored → processed (worker: wake-up + processing)"
        " | processed → desk (feed fan-out) | processed → card (bot) |",
        "| ---: | ---: | ---: | ---: |",
        f"| {spread(stored)} | {spread(worker)} | {spread(to_desk)} | {spread(to_card)} |",
        "",
        "Result: " + ("pass" if ok else "FAIL"),
    ]
    block = "\n".join(lines)
    print(block)
    if args.results:
        write_block(Path(args.results), "bench.desk live", block)
        print(f"\nwritten to {args.results}")
    return 0 if ok else 1

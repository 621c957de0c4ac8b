"""The managers' bot under load: simulated managers against the loopback Bot API fake, and a
bare aiogram echo bot measured the same way in the same run.

    .venv/bin/python -m bench.bot [--dsn postgresql://postgres@127.0.0.1:5432/crmhub_bench_bot]
        [--managers 50] [--actions 100] [--results bench/RESULTS.md]

The database named by --dsn is dropped and created afresh (scratch data only). Each of
--managers bound managers (10 clients and deals each, a few planned calls) sends --actions
commands and button presses, one after another, all managers at once: /deals, a deal from
the list (the card, in place), its feed, /today, /client, Stage…, Back, /inbox, /help.
Updates travel through the fake's getUpdates to the bot's long polling, as in production.

Latency is measured from the moment the dispatcher receives an update to the moment the
fake records the bot's first answer to it (a message, an edit or a callback answer). The
echo bot (one handler answering every message with its text, every button with an empty
answer) runs the same script shape against the same fake first. Target: the bot's p99
under 50 ms and within 3x of the echo's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiogram import Bot, Dispatcher
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from tortoise import Tortoise

from bot.app import build_dispatcher, create_bot
from bot.callbacks import Signer
from bot.notify import Notifier
from crm import clients, db, deals, scenarios, users
from crm.config import normalize_db_url
from crm.interactions import Plan, plan_interaction
from crm.models import Role
from tests.fakes.base import Call
from tests.fakes.telegram_api import TelegramAPI

_query_ids = itertools.count(1)
CRM_TOKEN = "7300000003:AAHbenchManagerBotToken_0000000003"
ECHO_TOKEN = "7400000004:AAHbenchEchoBotToken_000000000004"
FIRST_ID = 910_000
P99_BUDGET_MS = 50.0
RATIO = 3.0
ANSWERS = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"}
SCRIPT = (
    ("message", "/deals"),
    ("button", "1. "),
    ("button", "Feed"),
    ("message", "/today"),
    ("message", "/client {client}"),
    ("button", "Stage"),
    ("button", "Back"),
    ("message", "/inbox"),
    ("message", "/help"),
)


@dataclass
class Probe:
    """Timestamps of updates entering the dispatcher and the fake's first answer to each."""

    received: dict[int, float] = field(default_factory=dict)
    finished: dict[int, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    answers: dict[int, asyncio.Queue[Call]] = field(
        default_factory=lambda: defaultdict(asyncio.Queue)
    )
    query_chat: dict[str, int] = field(default_factory=dict)
    delivered: dict[int, dict[str, Any]] = field(default_factory=dict)  # last sent, by chat

    def wrap(self, dp: Dispatcher) -> None:
        feed = dp.feed_update

        async def timed(bot: Bot, update: Any, **kwargs: Any) -> Any:
            self.received[update.update_id] = time.time()
            try:
                return await feed(bot, update, **kwargs)
            finally:
                self.finished[update.update_id].set()

        dp.feed_update = timed  # type: ignore[method-assign]

    def watch(self, fake: TelegramAPI) -> None:
        record = fake.record

        def recording(method: str, params: dict[str, Any], token: str, fault: Any = None) -> Call:
            call = record(method, params, token, fault)
            if method in ANSWERS:
                chat = params.get("chat_id") or self.query_chat.get(
                    str(params.get("callback_query_id"))
                )
                if isinstance(chat, int):
                    self.answers[chat].put_nowait(call)
            return call

        fake.record = recording  # type: ignore[method-assign]
        deliver = fake._deliver

        def delivering(p: dict[str, Any], token: str, content: dict[str, Any]) -> dict[str, Any]:
            message = deliver(p, token, content)
            self.delivered[message["chat"]["id"]] = message
            return message

        fake._deliver = delivering  # type: ignore[method-assign]


@dataclass
class Simulated:
    """One manager's chat: what the bot last showed, to press its buttons."""

    chat: int
    client: str
    fake: TelegramAPI
    probe: Probe
    last: dict[str, dict[str, Any]] = field(default_factory=dict)
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def user(self) -> dict[str, Any]:
        return {"id": self.chat, "is_bot": False, "first_name": "M", "language_code": "en"}

    def button(self, label: str) -> tuple[dict[str, Any], str] | None:
        for message in reversed(list(self.last.values())):
            current = self.fake.messages.get((self.chat, message["message_id"]), message)
            for row in (current.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        return current, button["callback_data"]
        return None

    async def act(self, kind: str, text: str) -> tuple[str, float] | None:
        if kind == "message":
            update = {
                "message": {
                    "message_id": 1_000_000 + next(self.seq),
                    "from": self.user(),
                    "chat": {"id": self.chat, "type": "private", "first_name": "M"},
                    "date": int(time.time()),
                    "text": text.format(client=self.client),
                }
            }
        else:
            found = self.button(text)
            if found is None:
                return None
            message, data = found
            query_id = f"q{next(_query_ids)}"
            self.probe.query_chat[query_id] = self.chat
            update = {
                "callback_query": {
                    "id": query_id,
                    "from": self.user(),
                    "message": message,
                    "chat_instance": str(self.chat),
                    "data": data,
                }
            }
        answers = self.probe.answers[self.chat]
        while not answers.empty():
            answers.get_nowait()
        pushed = self.fake.push_update(update)
        first = await asyncio.wait_for(answers.get(), 30)
        await asyncio.wait_for(self.probe.finished[pushed["update_id"]].wait(), 30)
        if first.method == "sendMessage":
            self.last[text.split()[0]] = self.probe.delivered[self.chat]
        elapsed = (first.at - self.probe.received[pushed["update_id"]]) * 1000
        if os.environ.get("BENCH_BOT_TRACE"):
            print(f"{kind:8} {text:18} {first.method:22} {elapsed:8.2f} ms")
        return kind, elapsed


@dataclass
class Phase:
    timings: dict[str, list[float]]
    seconds: float


async def run_chats(chats: list[Simulated], actions: int, think: float) -> Phase:
    """Every chat runs the script at once; `think` seconds (jittered) between actions."""
    timings: dict[str, list[float]] = defaultdict(list)
    jitter = random.Random(7)

    async def one(chat: Simulated) -> None:
        for step in range(actions):
            if think:
                await asyncio.sleep(think * jitter.uniform(0.5, 1.5))
            kind, text = SCRIPT[step % len(SCRIPT)]
            measured = await chat.act(kind, text)
            if measured is not None:
                timings[measured[0]].append(measured[1])

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in chats))
    return Phase(timings, time.perf_counter() - started)


async def polling(dp: Dispatcher, bot: Bot, work: Callable[[], Awaitable[Any]]) -> Any:
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    try:
        return await work()
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=label[:8])]
            for label in ("1. deal", "Feed", "Stage", "Back")
        ]
    )

    async def echo(message: Message) -> None:
        await message.answer(message.text or "?", reply_markup=keyboard, parse_mode=None)

    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    dp.message.register(echo)
    dp.callback_query.register(pressed)
    return dp


async def recreate_database(dsn: str) -> str:
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return normalize_db_url(dsn)


async def populate(managers: int) -> list[tuple[int, str]]:
    """Bound managers with clients, deals and planned calls; (telegram id, a client name)."""
    await scenarios.create_scenario(
        "Sales", ["Lead", "Offer", "Contract"], actor=None, require_next_step=False
    )
    soon = datetime.now(UTC) + timedelta(hours=3)
    found = []
    for m in range(managers):
        user = await users.create_user(
            email=f"bench{m}@example.com",
            full_name=f"Manager {m}",
            role=Role.MANAGER,
            locale="en",
            actor=None,
        )
        invite = await users.create_invite(user.id, actor=None)
        await users.bind_telegram(invite.code, FIRST_ID + m)
        for c in range(10):
            client = await clients.create_client(actor=user, name=f"Client {m}-{c}")
            interest = await deals.create_interest(
                actor=user, client_id=client.id, title=f"Deal {m}-{c}", amount=1000 * (c + 1)
            )
            if c < 3:
                await plan_interaction(
                    Plan(kind="call", planned_at=soon + timedelta(hours=c), subject="Call"),
                    actor=user,
                    interest_id=interest.id,
                )
        found.append((FIRST_ID + m, f"Client {m}-3"))
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(phase: Phase) -> dict[str, float]:
    timings = phase.timings
    every = [v for values in timings.values() for v in values]
    return {
        "n": len(every),
        "rate": len(every) / phase.seconds,
        "p50": percentile(every, 0.50),
        "p99": percentile(every, 0.99),
        "mean": statistics.fmean(every),
        "buttons_p99": percentile(timings.get("button", [0.0]), 0.99),
        "commands_p99": percentile(timings.get("message", [0.0]), 0.99),
    }


def machine() -> str:
    model = platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def report(args: argparse.Namespace, crm: dict[str, float], echo: dict[str, float]) -> str:
    ratio = crm["p99"] / echo["p99"] if echo["p99"] else float("inf")
    passed = crm["p99"] < P99_BUDGET_MS and ratio <= RATIO
    rows = [
        "| bot | updates | updates/s | p50 ms | p99 ms | mean ms | commands p99 ms "
        "| buttons p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in (("crmhub manager bot", crm), ("bare aiogram echo", echo)):
        rows.append(
            f"| {name} | {s['n']:,.0f} | {s['rate']:.0f} | {s['p50']:.2f} | {s['p99']:.2f} "
            f"| {s['mean']:.2f} | {s['commands_p99']:.2f} | {s['buttons_p99']:.2f} |"
        )
    pace = (
        f"each manager waits {args.think:g} s (±50%) between actions"
        if args.think
        else "no pause between actions (each waits only for the previous answer)"
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            f"### bench.bot --think {args.think:g}, {stamp}",
            "",
            f"- machine: {machine()}, PostgreSQL",
            f"- {args.managers} managers x {args.actions} commands and button presses, all at "
            f"once, through the Bot API fake and long polling; {pace}",
            "- latency: update received by the dispatcher -> first answer recorded by the fake",
            f"- target: p99 under {P99_BUDGET_MS:.0f} ms and within {RATIO:.0f}x of the echo: "
            f"p99 ratio {ratio:.2f}x, **{'pass' if passed else 'FAIL'}**",
            "",
            *rows,
        ]
    )


def write_results(path: Path, block: str, variant: str) -> None:
    """Replace this variant's block of the file (between markers), keeping the rest."""
    start, end = f"<!-- bench.bot {variant}: start -->", f"<!-- bench.bot {variant}: end -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + start + "\n" + block + "\n" + end + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n{start}\n{block}\n{end}\n"
    path.write_text(text)


async def run(args: argparse.Namespace) -> int:
    url = await recreate_database(args.dsn)
    await db.init(url)
    fake = TelegramAPI()
    await fake.start()
    try:
        await Tortoise.generate_schemas()
        managers = await populate(args.managers)
        probe = Probe()
        probe.watch(fake)

        echo_bot = create_bot(ECHO_TOKEN, fake.base_url)
        echo_dp = echo_dispatcher()
        probe.wrap(echo_dp)
        echo_chats = [Simulated(chat, name, fake, probe) for chat, name in managers]
        echo = await polling(
            echo_dp, echo_bot, lambda: run_chats(echo_chats, args.actions, args.think)
        )
        await echo_bot.session.close()

        crm_bot = create_bot(CRM_TOKEN, fake.base_url)
        signer = Signer("bench secret")
        crm_dp, _ = build_dispatcher(
            signer=signer, notifier=Notifier(crm_bot, signer), wake_outbox=lambda: None
        )
        probe.wrap(crm_dp)
        crm_chats = [Simulated(chat, name, fake, probe) for chat, name in managers]
        crm = await polling(crm_dp, crm_bot, lambda: run_chats(crm_chats, args.actions, args.think))
        await crm_bot.session.close()
    finally:
        await fake.stop()
        await db.close()
    crm_s, echo_s = summary(crm), summary(echo)
    block = report(args, crm_s, echo_s)
    print(block)
    if args.results:
        write_results(Path(args.results), block, f"think={args.think:g}")
    return 0 if crm_s["p99"] < P99_BUDGET_MS and crm_s["p99"] <= RATIO * echo_s["p99"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dsn",
        default=os.environ.get(
            "CRMHUB_BENCH_BOT_DSN", "postgresql://postgres@127.0.0.1:5432/crmhub_bench_bot"
        ),
        help="a scratch database: it is dropped and created again",
    )
    parser.add_argument("--managers", type=int, default=50)
    parser.add_argument("--actions", type=int, default=100)
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds a manager waits between actions"
    )
    parser.add_argument("--results", help="write the figures into this markdown file")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

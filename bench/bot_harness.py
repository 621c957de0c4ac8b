"""bench.bot's harness: the simulated managers' chats (`Simulated`), what they time
(`Probe`: the bot's receipt of each update, the fake's first answer to it), and each bot's
child process with a fake of its own (`Running`), timed in turns (`segment_order`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import random
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.base import Call
from tests.fakes.telegram_api import TelegramAPI

ROOT = Path(__file__).resolve().parent.parent
_query_ids = itertools.count(1)
KINDS = ("echo", "echo-json", "crm")
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
    """The bot's receive times (from its stdout) and the fake's first answer to each update."""

    received: dict[int, float] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)  # process CPU while it was handled
    finished: dict[int, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    answers: dict[int, asyncio.Queue[Call]] = field(
        default_factory=lambda: defaultdict(asyncio.Queue)
    )
    query_chat: dict[str, int] = field(default_factory=dict)
    delivered: dict[int, dict[str, Any]] = field(default_factory=dict)  # last sent, by chat

    async def read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            update_id, received, _, cpu = line.split()
            self.received[int(update_id)] = float(received)
            self.cpu[int(update_id)] = float(cpu)
            self.finished[int(update_id)].set()

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

    def update(self, kind: str, text: str) -> dict[str, Any] | None:
        if kind == "message":
            return {
                "message": {
                    "message_id": 1_000_000 + next(self.seq),
                    "from": self.user(),
                    "chat": {"id": self.chat, "type": "private", "first_name": "M"},
                    "date": int(time.time()),
                    "text": text.format(client=self.client),
                }
            }
        found = self.button(text)
        if found is None:
            return None
        message, data = found
        query_id = f"q{next(_query_ids)}"
        self.probe.query_chat[query_id] = self.chat
        return {
            "callback_query": {
                "id": query_id,
                "from": self.user(),
                "message": message,
                "chat_instance": str(self.chat),
                "data": data,
            }
        }

    async def act(self, kind: str, text: str) -> tuple[str, float] | None:
        """Send one update; wait for the first answer and for the bot to finish with it."""
        update = self.update(kind, text)
        if update is None:
            return None
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
            cpu = self.probe.cpu[pushed["update_id"]] * 1000
            print(
                f"{first.at:.3f} {kind:8} {text:18} {first.method:22} {elapsed:8.2f} ms"
                f" {cpu:6.2f} cpu"
            )
        return kind, elapsed


@dataclass
class Phase:
    timings: dict[str, list[float]]  # by kind: message, button
    seconds: float
    cpu_seconds: float = 0.0  # the bot's process, user + system
    actions: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, other: Phase) -> None:
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds
        for kind, values in other.timings.items():
            self.timings[kind] += values
        for action, values in other.actions.items():
            self.actions[action] += values


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_chats(
    chats: list[Simulated], actions: int, think: float, jitter: random.Random, first: int = 0
) -> Phase:
    """Every chat runs steps first..first+actions of the script at once; `think` seconds
    (±50%, drawn from `jitter`) before each action."""
    phase = Phase(defaultdict(list), 0.0)

    async def one(chat: Simulated) -> None:
        for step in range(first, first + actions):
            if think:
                await asyncio.sleep(think * jitter.uniform(0.5, 1.5))
            kind, text = SCRIPT[step % len(SCRIPT)]
            measured = await chat.act(kind, text)
            if measured is not None:
                phase.timings[measured[0]].append(measured[1])
                phase.actions[text.split()[0]].append(measured[1])

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in chats))
    phase.seconds = time.perf_counter() - started
    return phase


@contextlib.contextmanager
def harness_collector_paused() -> Iterator[None]:
    """This process's garbage collector off while a bot is timed. The harness keeps every
    call the fake recorded; its full collector passes took 190-330 ms, and an answer that
    arrives meanwhile is recorded late, counted against whichever bot was being timed."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class Running:
    """One bot's process with its own fake and probe, kept up for the whole run."""

    kind: str
    fake: TelegramAPI
    child: asyncio.subprocess.Process
    reader: asyncio.Task[None]
    chats: list[Simulated]
    jitter: random.Random = field(default_factory=lambda: random.Random(7))
    done: int = 0  # script steps run so far (warm-up included)
    timed: Phase = field(default_factory=lambda: Phase(defaultdict(list), 0.0))

    async def warm_up(self, steps: int, think: float) -> None:
        await run_chats(self.chats, steps, think, self.jitter, self.done)
        self.done += steps

    async def segment(self, steps: int, think: float) -> None:
        """Time `steps` more actions of every manager; added to what this bot has so far."""
        cpu = process_cpu(self.child.pid)
        with harness_collector_paused():
            result = await run_chats(self.chats, steps, think, self.jitter, self.done)
        result.cpu_seconds = process_cpu(self.child.pid) - cpu
        self.timed.add(result)
        self.done += steps


async def start_bot(kind: str, managers: list[tuple[int, str]], options: list[str]) -> Running:
    """A fake and the bot's process long polling it, once the bot says it is ready."""
    fake = TelegramAPI()
    await fake.start()
    probe = Probe()
    probe.watch(fake)
    command = [sys.executable, "-m", "bench.bot", "--serve", kind, "--api", fake.base_url]
    command += options
    child = await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None
    try:
        ready = await asyncio.wait_for(child.stdout.readline(), 60)
        if ready.strip() != b"ready":
            raise RuntimeError(f"the {kind} bot did not start")
    except BaseException:
        await stop_bot(child, fake)
        raise
    reader = asyncio.create_task(probe.read(child.stdout))
    chats = [Simulated(chat, name, fake, probe) for chat, name in managers]
    return Running(kind, fake, child, reader, chats)


async def stop_bot(child: asyncio.subprocess.Process, fake: TelegramAPI) -> None:
    if child.returncode is None:
        child.send_signal(signal.SIGTERM)
    await asyncio.wait_for(child.wait(), 30)
    await fake.stop()


def segment_order(kinds: tuple[str, ...], segments: int) -> list[str]:
    """Which bot each timed segment belongs to: the kinds in turn, every other round
    reversed (A B C C B A A B C ...), so that a machine whose speed drifts during the run
    weighs on every bot alike instead of on whichever was timed last."""
    order: list[str] = []
    for n in range(segments):
        order += kinds if n % 2 == 0 else tuple(reversed(kinds))
    return order

"""The managers' bot's CPU per action, one update at a time, in one process: steadier than
`bench.bot` for telling two versions of the code apart (its single runs differ by 10-15%).

    .venv/bin/python -m bench.bot_cpu [--dsn postgresql://postgres@127.0.0.1:5432/crmhub_bench_cpu]
        [--managers 5] [--rounds 24] [--variants FILE]

The database named by --dsn is dropped and created afresh and filled as `bench.bot` fills
its own. The Bot API fake runs on a thread of its own (its CPU is not counted); the bot's
dispatcher is fed each update of `bench.bot`'s script directly (`dp.feed_update`: no long
polling), for each manager in turn, and the CPU time of the feeding thread is taken per
update (`time.thread_time`). The first two rounds are not counted.

--variants FILE runs a Python file that fills `VARIANTS` (a dict given to it) with
`name: (enable, disable)`: functions switching the running code to another version (for
instance by monkeypatching a function) and back. Each round then runs the base code and
every variant in turn, reversing the order every other round, so that the machine's drift
(its speed moved by 40% within an hour here) falls on all of them alike. The table shows the
mean CPU of an update, and the median per action, in milliseconds."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiogram.types import Update
from tortoise import Tortoise

from bench.bot import populate
from bench.bot_child import CRM_TOKEN
from bench.bot_harness import SCRIPT
from bench.scratch import recreate
from bot.app import ManagerBot
from crm import db
from crm.config import normalize_db_url
from tests.fakes.telegram_api import TelegramAPI

Variant = tuple[Callable[[], None], Callable[[], None]]
COUNTED_FROM = 2  # rounds before are warm-up


class Chat:
    """One manager: builds the script's updates, pressing buttons of what the bot sent."""

    def __init__(self, chat_id: int, client: str, fake: TelegramAPI) -> None:
        self.chat_id, self.client, self.fake = chat_id, client, fake
        self.last: dict[str, dict[str, Any]] = {}  # the card each command last sent

    def update(self, kind: str, text: str, update_id: int) -> dict[str, Any] | None:
        user = {"id": self.chat_id, "is_bot": False, "first_name": "M", "language_code": "en"}
        if kind == "message":
            chat = {"id": self.chat_id, "type": "private", "first_name": "M"}
            message = {"message_id": 1_000_000 + update_id, "from": user, "chat": chat}
            message |= {"date": int(time.time()), "text": text.format(client=self.client)}
            return {"update_id": update_id, "message": message}
        for sent in reversed(list(self.last.values())):
            current = self.fake.messages.get((self.chat_id, sent["message_id"]), sent)
            for row in (current.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if text in button["text"]:
                        query = {"id": f"q{update_id}", "from": user, "message": current}
                        query |= {"chat_instance": str(self.chat_id)}
                        query["data"] = button["callback_data"]
                        return {"update_id": update_id, "callback_query": query}
        return None

    def remember(self, text: str) -> None:
        """The bot's newest message in this chat is what `text` (a command) showed."""
        ids = [message_id for chat, message_id in self.fake.messages if chat == self.chat_id]
        if ids:
            self.last[text.split()[0]] = self.fake.messages[(self.chat_id, max(ids))]


async def measure(
    args: argparse.Namespace, fake: TelegramAPI, variants: dict[str, Variant]
) -> dict[str, dict[str, list[float]]]:
    await recreate(args.dsn)
    await db.init(normalize_db_url(args.dsn))
    await Tortoise.generate_schemas()
    managers = await populate(args.managers)
    bot = ManagerBot(
        token=CRM_TOKEN, secret_key="bench secret", wake_outbox=lambda: None, api_base=fake.base_url
    )
    await bot.start(updates=False, inbox_events=False)
    chats = [Chat(chat_id, client, fake) for chat_id, client in managers]
    names = ["base", *variants]
    cpu: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in names}
    ids = itertools.count(1)
    try:
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                if name != "base":
                    variants[name][0]()
                try:
                    for chat in chats:
                        for kind, text in SCRIPT:
                            raw = chat.update(kind, text, next(ids))
                            if raw is None:
                                continue
                            update = Update.model_validate(raw, context={"bot": bot.bot})
                            before = len(fake.calls)
                            started = time.thread_time()
                            await bot.dp.feed_update(bot.bot, update)
                            spent = (time.thread_time() - started) * 1000
                            if round_ >= COUNTED_FROM:
                                cpu[name][text.split()[0]].append(spent)
                            if any(c.method == "sendMessage" for c in fake.calls[before:]):
                                chat.remember(text)
                finally:
                    if name != "base":
                        variants[name][1]()
    finally:
        await bot.stop()
        await db.close()
    return cpu


def table(cpu: dict[str, dict[str, list[float]]]) -> str:
    actions = list(next(iter(cpu.values())))
    rows = [
        "| code | CPU ms/update | " + " | ".join(actions) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in actions) + " |",
    ]
    for name, by_action in cpu.items():
        every = [ms for values in by_action.values() for ms in values]
        medians = " | ".join(f"{statistics.median(by_action[a]):.2f}" for a in actions)
        rows.append(f"| {name} | {statistics.fmean(every):.3f} | {medians} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dsn",
        default="postgresql://postgres@127.0.0.1:5432/crmhub_bench_cpu",
        help="a scratch database: it is dropped and created again",
    )
    parser.add_argument("--managers", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--variants", help="a file filling VARIANTS: see the docstring")
    args = parser.parse_args(argv)
    variants: dict[str, Variant] = {}
    if args.variants:  # a developer's own file, as a test's conftest would be
        exec(Path(args.variants).read_text(), {"VARIANTS": variants})
    loop = asyncio.new_event_loop()  # the fake's, on its own thread
    fake = TelegramAPI()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result()
    try:
        print(table(asyncio.run(measure(args, fake, variants))))
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bot's side of `bench.bot`: the process the harness starts (`python -m bench.bot
--serve crm|echo|echo-json`), running `ManagerBot` or the bare aiogram echo bot against the
Bot API fake, reporting each update's receipt and CPU on stdout; and the diagnostics it can
turn on (BENCH_BOT_SQL, BENCH_BOT_GC, --profile).

The echo bot is aiogram as shipped (`echo`: its own aiohttp session, forms out, every answer
parsed into models), or the same handler on crmhub's Bot API session (`echo-json`:
`bot.app.Session`, JSON bodies, answers it need not read left unparsed)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.app import ManagerBot, create_bot
from crm import db
from crm.config import normalize_db_url

CRM_TOKEN = "7300000003:AAHbenchManagerBotToken_0000000003"
ECHO_TOKEN = "7400000004:AAHbenchEchoBotToken_000000000004"


def report_updates(dp: Dispatcher) -> None:
    """Write `update_id received finished` (time.time()) to stdout as each update is done."""
    feed = dp.feed_update

    async def timed(bot: Bot, update: Any, **kwargs: Any) -> Any:
        received, cpu = time.time(), time.process_time()
        try:
            return await feed(bot, update, **kwargs)
        finally:
            cpu = time.process_time() - cpu  # this update's alone only when one is in flight
            os.write(1, f"{update.update_id} {received!r} {time.time()!r} {cpu!r}\n".encode())
            if os.environ.get("BENCH_BOT_SQL"):
                sys.stderr.write(f"UPDATE {update.update_id} done\n")

    dp.feed_update = timed  # type: ignore[method-assign]


def log_gc_pauses() -> None:
    """Print the garbage collector's passes over 5 ms to stderr (BENCH_BOT_GC=1; the bot's
    and the harness's)."""
    started: list[float] = [0.0]

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif (ms := (time.perf_counter() - started[0]) * 1000) > 5:
            sys.stderr.write(f"gc gen{info['generation']} {ms:.1f} ms at {time.time():.3f}\n")

    gc.callbacks.append(timer)


def log_queries() -> None:
    """Print every query tortoise runs to stderr as `SQL ...` (BENCH_BOT_SQL=1), and
    `UPDATE n done` after each update: the queries of one action lie between two of those
    (run with --managers 1 for that to hold)."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("SQL %(message)s"))
    logger = logging.getLogger("tortoise.db_client")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


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


async def serve(args: argparse.Namespace) -> None:
    """One bot, long polling the fake at --api until SIGTERM; "ready" once it polls."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
    if args.serve in ("echo", "echo-json"):
        dp = echo_dispatcher()
        if args.serve == "echo":
            api = TelegramAPIServer.from_base(args.api)
            bot = Bot(ECHO_TOKEN, session=AiohttpSession(api=api))
        else:
            bot = create_bot(ECHO_TOKEN, args.api)
        report_updates(dp)
        task = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
        gc.freeze()  # as ManagerBot.start does
        os.write(1, b"ready\n")
        await stop.wait()
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        await asyncio.wait_for(task, 10)
        return
    await db.init(normalize_db_url(args.dsn))
    if os.environ.get("BENCH_BOT_SQL"):
        log_queries()
    manager_bot = ManagerBot(
        token=CRM_TOKEN, secret_key="bench secret", wake_outbox=lambda: None, api_base=args.api
    )
    report_updates(manager_bot.dp)
    if os.environ.get("BENCH_BOT_GC"):
        log_gc_pauses()
    await manager_bot.start()
    os.write(1, b"ready\n")
    if profile is not None:
        profile.enable()
    await stop.wait()
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile)
    await manager_bot.stop()
    await db.close()

"""Composition root: the database first, then the web app, the hub, the bot and the
scheduler; everything stops cleanly on SIGINT/SIGTERM.

The manager bot: its webhook is served with the web app (`--role web`), its long polling and
its scheduler ticks (reminders, digests) run in a worker (`--role worker`); `all`, the
default, does both. Inbox events are pushed to managers wherever the inbox runs. Uploaded
import files are written where the web app runs, so their retention ticks there too; the
raw store's retention ticks in the worker, which processes the raw events."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from admin_web.app import create_app
from admin_web.keys import IMPORTS
from admin_web.views.desk import WAKE_OUTBOX
from admin_web.views.desk_live import inbox_listener
from bot.app import ManagerBot, check_storage, fsm_storage
from crm import db, stage_moves
from crm.config import Settings
from crm.imports.files import forget_abandoned_uploads, forget_ended_imports
from crm.reports.kept_minutes import settle_tick
from crm.segments.members import recompute_due
from inbox import events, wakeup
from inbox.raw_retention import forget_processed_events
from inbox.service import IDLE_TICK, WORKER_TICK, Inbox

log = logging.getLogger("crmhub")

Tick = Callable[[], Awaitable[object]]
IMPORT_FILES_TICK = 3600.0  # seconds
RAW_EVENTS_TICK = 3600.0  # seconds
SEGMENTS_TICK = 900.0  # seconds: the nightly ABC/XYZ classes and segments, once a night
KEPT_MINUTES_TICK = 60.0  # seconds: the inquiries' kept figures (crm.reports.kept_minutes)
STAGE_MOVES_TICK = 60.0  # seconds: the funnel's kept values, so a report has little to settle


def build_scheduler(ticks: dict[str, tuple[Tick, float]]) -> AsyncIOScheduler:
    """Periodic ticks only: the database rows are the truth, jobs are not persisted."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for name, (tick, seconds) in ticks.items():
        scheduler.add_job(
            tick,
            "interval",
            seconds=seconds,
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler


def import_files_tick(folder: Path, keep_days: int) -> Tick:
    """Deletes the files of imports that ended more than `keep_days` ago, and uploads that no
    import was started from as old; how many folders went."""

    async def tick() -> int:
        ended = await forget_ended_imports(folder, keep_days=keep_days)
        return ended + await forget_abandoned_uploads(folder, keep_days=keep_days)

    return tick


def raw_events_tick(keep_days: int) -> Tick:
    """Deletes the raw events processed more than `keep_days` ago."""
    return lambda: forget_processed_events(keep_days=keep_days)


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set or a termination signal arrives."""
    settings.ensure_secret_key()
    url = settings.db_url()
    await db.migrate(url)
    await db.init(url)
    runner: web.AppRunner | None = None
    scheduler: AsyncIOScheduler | None = None
    inbox: Inbox | None = None
    unlisten: Callable[[], None] | None = None
    manager_bot: ManagerBot | None = None
    bell: wakeup.IntakeBell | None = None
    listening: asyncio.Task[None] | None = None
    web_role = settings.role in ("all", "web")
    worker_role = settings.role in ("all", "worker")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        app = create_app(settings)
        # A worker alone hears of webhooks (they land in the web process) through NOTIFY
        # crmhub_intake on PostgreSQL (inbox.wakeup); the short tick is the fallback.
        tick = WORKER_TICK if settings.role == "worker" else IDLE_TICK
        inbox = Inbox(
            public_url=settings.public_url or "",
            secret_key=settings.ensure_secret_key(),
            idle_tick=tick,
            redis_url=settings.redis_url,
        )
        inbox.mount(app)
        if settings.role == "web" and wakeup.on_postgres():  # the worker is elsewhere
            bell = wakeup.IntakeBell()
            inbox.on_stored = bell.ring
        app[WAKE_OUTBOX] = inbox.wake_outbox  # replies typed in the web
        unlisten = events.subscribe(inbox_listener(app))  # the live desk hears the inbox
        await inbox.preload()
        if settings.manager_bot_token:
            storage = fsm_storage(settings.redis_url)
            await check_storage(storage, settings.redis_url)
            manager_bot = ManagerBot(
                token=settings.manager_bot_token,
                secret_key=settings.ensure_secret_key(),
                wake_outbox=inbox.wake_outbox,
                api_base=settings.telegram_api_base,
                public_url=settings.public_url,
                storage=storage,
            )
            if manager_bot.webhook_mode and web_role:
                manager_bot.mount(app)
        if web_role:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, settings.web_host, settings.web_port)
            await site.start()
            log.info("crmhub listening on http://%s:%s", settings.web_host, settings.web_port)
        ticks = manager_bot.ticks() if manager_bot is not None and worker_role else {}
        if web_role:  # uploads are written to this process's data dir
            forget_files = import_files_tick(app[IMPORTS].folder, settings.import_retention_days)
            ticks["import-files"] = (forget_files, IMPORT_FILES_TICK)
        if worker_role:  # where the raw events are processed
            forget_raw = raw_events_tick(settings.raw_event_retention_days)
            ticks["raw-events"] = (forget_raw, RAW_EVENTS_TICK)
            ticks["segments"] = (recompute_due, SEGMENTS_TICK)
            ticks["inquiry-minutes"] = (settle_tick, KEPT_MINUTES_TICK)
            ticks["stage-moves"] = (stage_moves.settle, STAGE_MOVES_TICK)
        scheduler = build_scheduler(ticks)
        scheduler.start()
        if worker_role:  # raw events, the outbox, stage robots and pollers
            inbox.start()
            if settings.role == "worker" and wakeup.on_postgres():  # woken by the web's
                listening = asyncio.create_task(wakeup.listen(inbox.wake_intake))
            log.info("crmhub inbox worker started")
        if manager_bot is not None:
            # Updates: by webhook where the web app runs, by long polling in a worker.
            receives = web_role if manager_bot.webhook_mode else worker_role
            await manager_bot.start(updates=receives)
            mode = "webhook" if manager_bot.webhook_mode else "long polling"
            log.info("manager bot started (%s)", mode)
        # Whatever startup built lives as long as the process: frozen, the collector's full
        # passes no longer walk it (see bot.app.ManagerBot.start; it stalled webhooks too).
        gc.freeze()
        await stop.wait()
    finally:
        log.info("crmhub stopping")
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listening
        if bell is not None:
            await bell.close()
        if unlisten is not None:
            unlisten()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if manager_bot is not None:
            await manager_bot.stop()
        if inbox is not None:
            await inbox.stop()
        if runner is not None:
            await runner.cleanup()
        await db.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass

"""The running inbox: webhook routes, the raw-event processor, the outbox sender, the stage
robots and one poller per channel in polling mode. `crmhub run` starts one of these."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from tortoise.transactions import in_transaction

from crm.models import Channel, ChannelKind
from inbox import (
    intake,
    mailer,
    media,
    outbox,
    rawstore,
    robots,
    survey_pages,
    unsubscribe,
    webhooks,
)
from inbox.channels import registry
from inbox.channels.registry import Adapters
from inbox.ratelimit import SharedPacer

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25.0  # seconds a long poll (getUpdates, Bots Long Poll, IMAP IDLE) waits
IDLE_TICK = 2.0  # seconds between passes when nothing wakes a loop
# A worker process (`CRMHUB_ROLE=worker`) is not woken by the web process's webhooks, so it
# looks for new raw events this often instead.
WORKER_TICK = 0.1
POLLER_RESTART = 10.0
SEND_SLICE = 5.0  # seconds a pass of send_all keeps each channel sending


def polling_mode(channel: Channel, public_url: str) -> bool:
    """Email always polls; Viber never can; the others poll without a public URL or when
    the channel asks for it."""
    if channel.kind == ChannelKind.EMAIL:
        return True
    if channel.kind == ChannelKind.VIBER:
        return False
    mode = channel.settings.get("mode")
    return mode == "polling" or (mode != "webhook" and not public_url)


class Inbox:
    def __init__(
        self,
        *,
        public_url: str = "",
        secret_key: str = "",
        channel_ttl: float = webhooks.CHANNEL_TTL,
        idle_tick: float = IDLE_TICK,
        redis_url: str | None = None,
    ) -> None:
        self.public_url = public_url
        self.channel_ttl = channel_ttl
        self.idle_tick = idle_tick
        # Reply files are served at /media/... (signed with the secret key) for Viber.
        self.media = media.MediaLinks(public_url, secret_key) if secret_key else None
        self.adapters = Adapters(self.media)
        # Mailings' one-click unsubscribe links (RFC 8058), /unsubscribe/...
        self.unsubscribe = (
            unsubscribe.UnsubscribeLinks(public_url, secret_key) if secret_key else None
        )
        # Shared by every worker: Redis when configured, else PostgreSQL, else in-process.
        self.pacer = SharedPacer(redis_url)
        self._intake = asyncio.Event()
        self._outbox = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._pollers: dict[int, tuple[object, asyncio.Task[Any]]] = {}
        # called too when a webhook is stored: wakes a worker in another process
        self.on_stored: Callable[[], None] | None = None

    def wake_intake(self) -> None:
        self._intake.set()

    def _stored(self) -> None:
        self._intake.set()
        if self.on_stored is not None:
            self.on_stored()

    def wake_outbox(self) -> None:
        self._outbox.set()

    def mount(self, app: web.Application) -> None:
        webhooks.add_routes(app, self.adapters, self._stored, self.channel_ttl)
        if self.media is not None:
            media.add_routes(app, self.media)
        if self.unsubscribe is not None:
            unsubscribe.add_routes(app, self.unsubscribe)
        survey_pages.add_routes(app)

    # --- the passes; also called directly by tests and the CLI ----------------------------

    async def process(self) -> int:
        total = 0
        while claimed := await intake.process_pending(self.adapters):
            total += claimed
        if total:
            self.wake_outbox()
        return total

    async def send(self) -> outbox.SendReport:
        await outbox.recover_interrupted()
        await self.hand_over_mailings()
        return await outbox.send_due(self.adapters, self.pacer)

    async def hand_over_mailings(self) -> int:
        """Due recipients of running mailings into the outbox (`inbox.mailer`)."""
        links = self.unsubscribe
        return await mailer.hand_over_due(
            unsubscribe_url=links.url if links is not None and links.public_url else None,
            survey_url=self.survey_url if self.public_url else None,
        )

    def survey_url(self, data: str) -> str:
        """A survey button's data as its link on the survey page (`inbox.survey_pages`)."""
        return self.public_url.rstrip("/") + "/survey/" + "/".join(data.split(":")[1:])

    async def send_all(self, *, budget: float = 10.0) -> outbox.SendReport:
        """Passes while they find work, for at most `budget` seconds: a mailing keeps the
        channels busy instead of one batch per tick. Mailings' recipients are handed over
        while the channels send (each channel claiming again for SEND_SLICE seconds), so
        neither waits for the other."""
        total = outbox.SendReport()
        deadline = asyncio.get_running_loop().time() + budget
        while True:
            await outbox.recover_interrupted()
            handed, report = await outbox.settle(
                self.hand_over_mailings(),
                outbox.send_due(self.adapters, self.pacer, budget=SEND_SLICE),
            )
            total.sent += report.sent
            total.failed += report.failed
            total.dead += report.dead
            busy = handed + report.sent + report.failed + report.dead
            if not busy or asyncio.get_running_loop().time() > deadline:
                return total

    async def run_robots(self) -> int:
        done = await robots.run_due()
        if done:
            self.wake_outbox()
        return done

    async def poll_once(self, channel: Channel, timeout: float = 0.0) -> int:  # noqa: ASYNC109
        adapter = await self.adapters.get(channel)
        result = await adapter.poll(channel.state, timeout)
        async with in_transaction():
            await rawstore.store_many(channel.id, result.bodies)
            await Channel.filter(id=channel.id).update(state=result.state)
        channel.state = result.state
        if result.bodies:
            self.wake_intake()
        return len(result.bodies)

    # --- loops -------------------------------------------------------------------------------

    async def _loop(self, name: str, event: asyncio.Event, step: Any) -> None:
        while True:
            try:
                await step()
            except Exception:
                log.exception("inbox %s pass failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self.idle_tick)
            event.clear()

    async def _poller(self, channel: Channel) -> None:
        while True:
            try:
                await self.poll_once(channel, POLL_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poller of channel %s failed; retrying", channel.id)
                await asyncio.sleep(POLLER_RESTART)

    async def reconcile_pollers(self) -> None:
        """One poller per active channel in polling mode; restarted when the channel changes."""
        wanted = {
            c.id: c
            for c in await Channel.filter(is_active=True)
            if polling_mode(c, self.public_url)
        }
        for channel_id, (version, task) in list(self._pollers.items()):
            channel = wanted.get(channel_id)
            if channel is None or channel.updated_at != version or task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                del self._pollers[channel_id]
        for channel_id, channel in wanted.items():
            if channel_id not in self._pollers:
                task = asyncio.create_task(self._poller(channel), name=f"poller-{channel_id}")
                self._pollers[channel_id] = (channel.updated_at, task)

    async def _robots_and_pollers(self) -> None:
        await self.run_robots()
        await self.reconcile_pollers()

    async def preload(self) -> None:
        kinds = await Channel.filter(is_active=True).values_list("kind", flat=True)
        registry.preload({ChannelKind(str(k)) for k in kinds})

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop("intake", self._intake, self.process)),
            asyncio.create_task(self._loop("outbox", self._outbox, self.send_all)),
            asyncio.create_task(self._loop("robots", asyncio.Event(), self._robots_and_pollers)),
        ]

    async def stop(self) -> None:
        tasks = self._tasks + [task for _, task in self._pollers.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks, self._pollers = [], {}
        await self.adapters.close()
        await self.pacer.close()

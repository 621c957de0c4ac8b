"""The live desk: `GET /inbox/events`, a Server-Sent Events stream the inbox and
conversation pages listen to (admin_web/static/desk.js), so a new message, a delivery
status or an inquiry taken shows without a reload.

An event says only which conversation changed (`inbox.desk_feed`); each is sent to a reader
only when `crm.access.access_conversation`'s rule lets that reader see the conversation,
so a manager never hears of another's customers. The process reads the feed once for all
its desks and applies the rule from facts it keeps a second (`admin_web.desk_fanout`).
A reconnecting page sends `Last-Event-ID` (EventSource does) and reads on from there; a
stream opened without one starts at the newest event. The page then fetches what changed
through its own route."""

from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import web

from admin_web.auth import require_user
from admin_web.desk_fanout import Audience, Fanout
from admin_web.keys import SETTINGS
from crm.models import Message
from inbox import events
from inbox.desk_feed import RESET, DeskFeed, desk_feed

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

DESK_FEED = web.AppKey("desk_feed", DeskFeed)
FANOUT = web.AppKey("desk_fanout", Fanout)
AUDIENCE = web.AppKey("desk_audience", Audience)
CLOSING = web.AppKey("desk_closing", asyncio.Event)  # set on shutdown: open streams end
KEEP_ALIVE = 15.0  # seconds between comments that keep proxies from closing the stream
CUSTOMER_WROTE = (events.InquiryOpened, events.InquiryMessage, events.InterestMessage)
EVENT_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")


def setup(app: web.Application) -> None:
    """The feed of this install: Redis when configured (every process), else memory."""
    app[DESK_FEED] = desk_feed(app[SETTINGS].redis_url)
    app[FANOUT] = Fanout(app[DESK_FEED])
    app[AUDIENCE] = Audience()
    app[CLOSING] = asyncio.Event()
    app[PUBLISHER] = _Publisher(app)
    app.on_shutdown.append(_closing)
    app.on_cleanup.append(_close)


async def _closing(app: web.Application) -> None:
    app[CLOSING].set()  # each stream ends at its next wake-up (KEEP_ALIVE at most)


async def _close(app: web.Application) -> None:
    await app[PUBLISHER].drain()  # what the inbox noted last is published, not dropped
    await app[FANOUT].close()
    await app[DESK_FEED].close()


async def changed(app: web.Application, kind: str, conversation_id: int) -> None:
    await app[DESK_FEED].publish(kind, conversation_id)


class _Publisher:
    """The inbox's events as desk events, published off the inbox's path: a listener only
    notes what changed and returns; one task per process then looks up the messages'
    conversations in one query and publishes one event per (kind, conversation) noted
    meanwhile. Awaiting a feed write per message (on PostgreSQL a locked INSERT and a
    NOTIFY) inside the worker's batch halved the inbox's throughput (bench.ingest)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._messages: dict[tuple[str, int], None] = {}  # (kind, message id)
        self._conversations: dict[tuple[str, int], None] = {}  # (kind, conversation id)
        self._task: asyncio.Task[None] | None = None

    def message(self, kind: str, message_id: int) -> None:
        self._messages[(kind, message_id)] = None
        self._kick()

    def conversation(self, kind: str, conversation_id: int) -> None:
        self._conversations[(kind, conversation_id)] = None
        self._kick()

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._messages or self._conversations:
            messages, self._messages = self._messages, {}
            items, self._conversations = self._conversations, {}
            try:
                if messages:
                    ids = sorted({message_id for _, message_id in messages})
                    rows = await Message.filter(id__in=ids).values_list("id", "conversation_id")
                    found = {int(str(m)): int(str(c)) for m, c in rows}
                    for kind, message_id in messages:
                        if message_id in found:
                            items[(kind, found[message_id])] = None
                for kind, conversation_id in items:
                    await changed(self._app, kind, conversation_id)
            except Exception:
                log.exception("desk events were not published")

    async def drain(self) -> None:
        """Wait until what was noted is published (shutdown, tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


PUBLISHER = web.AppKey("desk_publisher", _Publisher)  # the inbox's events, off its path


def inbox_listener(app: web.Application) -> events.Listener:
    """What the inbox tells (new customer messages, delivery statuses) as desk events."""
    publisher = app[PUBLISHER]

    async def listen(event: events.Event) -> None:
        if isinstance(event, events.InquiryDecided):
            publisher.conversation("inquiry", event.conversation_id)
        elif isinstance(event, events.MessageStatusChanged):
            publisher.message("status", event.message_id)
        elif isinstance(
            event, events.InquiryOpened | events.InquiryMessage | events.InterestMessage
        ):
            publisher.message("message", event.message_id)

    return listen


@routes.get("/inbox/events")
async def stream(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    feed, audience = request.app[FANOUT], request.app[AUDIENCE]
    asked = request.headers.get("Last-Event-ID", "")
    after = asked if EVENT_ID.match(asked) else await feed.last_id()
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    await response.write(b"retry: 2000\n\n")
    closing = request.app[CLOSING]
    try:
        while not closing.is_set():
            found = await feed.read(after, wait=KEEP_ALIVE)
            if not found:
                await response.write(b": keep-alive\n\n")
                continue
            seen = await audience.visible(
                user, {e.conversation_id for e in found if e.kind != RESET}
            )
            for event in found:
                after = event.id
                if event.kind != RESET and event.conversation_id not in seen:
                    continue
                data = json.dumps({"conversation_id": event.conversation_id})
                await response.write(
                    f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n".encode()
                )
    except ConnectionResetError:  # the page was closed or reloaded: the stream just ends
        pass
    return response

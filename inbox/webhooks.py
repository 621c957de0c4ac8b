"""`POST /webhooks/{kind}/{channel_id}`: verify, persist, acknowledge; processing follows.

A request for an unknown or disabled channel gets 404, a forged one (wrong secret or
signature) 401, and neither stores anything. An accepted body is a `RawEvent` row before the
platform hears "ok" (committed in groups under load, see `inbox.rawstore`), so nothing
acknowledged can be lost; the hub's unique message ids make a
redelivered body harmless."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from crm.models import Channel, ChannelKind
from inbox.channels.registry import Adapters
from inbox.rawstore import GroupWriter

log = logging.getLogger(__name__)

MAX_BODY = 5 * 1024**2
CHANNEL_TTL = 2.0  # seconds a channel row is reused: disabling one takes effect this fast


class _Channels:
    """Active channels by id, re-read at most every CHANNEL_TTL seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._rows: dict[int, tuple[float, Channel | None]] = {}

    async def get(self, channel_id: int, kind: ChannelKind) -> Channel | None:
        now = time.monotonic()
        cached = self._rows.get(channel_id)
        if cached is None or cached[0] < now:
            row = await Channel.filter(id=channel_id, is_active=True).first()
            cached = (now + self.ttl, row)
            if row is None:  # never cache what strangers probe for: the cache stays bounded
                self._rows.pop(channel_id, None)
            else:
                self._rows[channel_id] = cached
        channel = cached[1]
        return channel if channel is not None and channel.kind == kind else None


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code}}, status=status)


def handler(
    adapters: Adapters, wake: Callable[[], None], channel_ttl: float = CHANNEL_TTL
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    channels = _Channels(channel_ttl)
    writer = GroupWriter()

    async def webhook(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        try:
            channel_id = int(request.match_info["channel_id"])
            channel_kind = ChannelKind(kind)
        except ValueError:
            return _error(404, "not_found")
        channel = await channels.get(channel_id, channel_kind)
        if channel is None or channel_kind == ChannelKind.EMAIL:
            return _error(404, "not_found")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _error(413, "too_large")
        body = await request.read()
        adapter = await adapters.get(channel)
        if not adapter.verify(request.headers, body):
            log.warning("refused a %s webhook for channel %s: bad secret", kind, channel_id)
            return _error(401, "bad_signature")
        answer = adapter.handshake(body)
        if answer is not None:
            return web.Response(text=answer)
        await writer.store(channel.id, body)
        wake()
        return web.Response(text=adapter.ack)

    return webhook


def add_routes(
    app: web.Application,
    adapters: Adapters,
    wake: Callable[[], None],
    channel_ttl: float = CHANNEL_TTL,
) -> None:
    route = r"/webhooks/{kind:[a-z]+}/{channel_id:\d+}"
    app.router.add_post(route, handler(adapters, wake, channel_ttl))

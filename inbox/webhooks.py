"""`POST /webhooks/{kind}/{channel_id}`: verify, persist, acknowledge; processing follows.

A request for an unknown or disabled channel (an id that cannot be one included) gets 404,
a forged one (wrong secret or signature) 401, and neither stores anything. What can be
checked before the body is read is checked first: the channel, and the headers where the
platform signs with them (Telegram's secret-token header, Viber's signature header). A body
is read as it streams in, chunked or not, and never past `MAX_BODY` (5 MB): a larger one gets
413 the moment it passes the cap, whatever its Content-Length says, and nothing is stored
(aiohttp discards the rest of it for at most its lingering time, keeping none). A body no
parser can read (not JSON, nested too deep) never gets 500 either: where the proof is inside
the body (VK's secret) it is refused as forged, where it is signed it is stored and kept as
unparsable by the intake. An accepted body is a `RawEvent` row before the platform hears
"ok" (committed in groups under load, see `inbox.rawstore`), so nothing acknowledged can be
lost; the hub's unique message ids make a redelivered body harmless.

`capped` gives any other handler under /webhooks (the manager bot's) the same cap."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from crm.models import Channel, ChannelKind
from crm.normalize import whole_number
from inbox.channels.registry import Adapters
from inbox.rawstore import GroupWriter

log = logging.getLogger(__name__)

MAX_BODY = 5 * 1024**2
CHANNEL_ID_MAX = 2**31 - 1  # the id column's range: a larger id is no channel
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


def _too_large() -> web.Response:
    response = _error(413, "too_large")
    response.force_close()  # the connection is not reused for another request
    return response


async def read_capped(request: web.Request, cap: int = MAX_BODY) -> bytes | None:
    """The body, read chunk by chunk; None as soon as it passes `cap` bytes (the rest is
    left unread)."""
    if request.content_length is not None and request.content_length > cap:
        return None
    body = bytearray()
    while chunk := await request.content.readany():
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)


def capped(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]], cap: int = MAX_BODY
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """`handler` reading its body through aiohttp's own streaming limit set to `cap`:
    `request.read()` (and `json()`, `post()`) raise 413 once the body passes it."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await handler(request.clone(client_max_size=cap))

    return handle


def handler(
    adapters: Adapters, wake: Callable[[], None], channel_ttl: float = CHANNEL_TTL
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    channels = _Channels(channel_ttl)
    writer = GroupWriter()

    async def webhook(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        channel_id = whole_number(request.match_info["channel_id"], max_digits=10)
        try:
            channel_kind = ChannelKind(kind)
        except ValueError:
            return _error(404, "not_found")
        if channel_id is None or channel_id > CHANNEL_ID_MAX:
            return _error(404, "not_found")
        channel = await channels.get(channel_id, channel_kind)
        if channel is None or channel_kind == ChannelKind.EMAIL:
            return _error(404, "not_found")
        adapter = await adapters.get(channel)
        if not adapter.verify_headers(request.headers):
            log.warning("refused a %s webhook for channel %s: bad secret", kind, channel_id)
            return _error(401, "bad_signature")
        body = await read_capped(request)
        if body is None:
            log.warning("refused a %s webhook for channel %s: body too large", kind, channel_id)
            return _too_large()
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

"""`POST /webhooks/{kind}/{channel_id}`: verify, persist, acknowledge; processing follows.

A request for an unknown or disabled channel gets 404, a forged one (wrong secret or
signature) 401, and neither stores anything. An accepted body is a `RawEvent` row before the
platform hears "ok", so nothing acknowledged can be lost; the hub's unique message ids make a
redelivered body harmless."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from crm.models import Channel, ChannelKind
from inbox import intake
from inbox.channels.registry import Adapters

log = logging.getLogger(__name__)

MAX_BODY = 5 * 1024**2


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code}}, status=status)


def handler(
    adapters: Adapters, wake: Callable[[], None]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def webhook(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        try:
            channel_id = int(request.match_info["channel_id"])
            channel_kind = ChannelKind(kind)
        except ValueError:
            return _error(404, "not_found")
        channel = await Channel.filter(id=channel_id, kind=channel_kind, is_active=True).first()
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
        await intake.store(channel.id, body)
        wake()
        return web.Response(text=adapter.ack)

    return webhook


def add_routes(app: web.Application, adapters: Adapters, wake: Callable[[], None]) -> None:
    app.router.add_post(r"/webhooks/{kind:[a-z]+}/{channel_id:\d+}", handler(adapters, wake))

"""One middleware turns CrmError into a localized JSON error body with its HTTP status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from crm.errors import CrmError
from crm.i18n import pick_locale

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_locale(request: web.Request) -> str:
    return pick_locale(request.headers.get("Accept-Language", "").split(",", 1)[0] or None)


@web.middleware
async def crm_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except CrmError as exc:
        return web.json_response(exc.as_json(request_locale(request)), status=exc.http_status)

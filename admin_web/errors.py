"""One middleware turns CrmError into what the caller reads: a JSON error body with its
HTTP status for the API (and other machine callers), and for the panel a message on the
page the form came from (the form refilled, each offending field marked)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from admin_web.keys import USER
from admin_web.render import back_url, flash, redirect, render, stash_form
from admin_web.security import CsrfRefused
from crm.errors import CrmError
from crm.i18n import N_, gettext, pick_locale

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
}
HTTP_MESSAGES = {
    400: N_("The request could not be understood"),
    401: N_("A valid API key is required"),
    403: N_("You are not allowed to do this"),
    404: N_("Not found"),
    405: N_("This method is not allowed here"),
    413: N_("The request is too large"),
    415: N_("Send JSON (Content-Type: application/json)"),
}
CSRF_MESSAGE = N_(
    "This form has expired or was not sent from this site. Reload the page and try again."
)


class Unauthorized(CrmError):
    """No API key, or an unknown, revoked or inactive one."""

    code = "unauthorized"
    default_message = N_("A valid API key is required")
    http_status = 401


def request_locale(request: web.Request) -> str:
    user = request.get(USER)
    if user is not None:
        return pick_locale(user.locale)
    return pick_locale(request.headers.get("Accept-Language", "").split(",", 1)[0] or None)


def wants_json(request: web.Request) -> bool:
    if request.path.startswith(("/api/", "/webhooks/", "/healthz")):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def json_error(
    code: str, message: str, status: int, fields: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return web.json_response(body, status=status)


@web.middleware
async def crm_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except CrmError as exc:
        locale = request_locale(request)
        if wants_json(request):
            return web.json_response(exc.as_json(locale), status=exc.http_status)
        if request.method == "POST":
            return await form_refused(request, exc, locale)
        return await error_page(request, exc.http_status, full_message(exc, locale))
    except CsrfRefused:
        message = gettext(CSRF_MESSAGE, request_locale(request))
        if wants_json(request):
            return json_error("csrf_failed", message, 403)
        return await error_page(request, 403, message)
    except web.HTTPException as exc:
        if exc.status < 400 or request.path.startswith(("/webhooks/", "/media/")):
            raise
        if not wants_json(request):
            if exc.status in (403, 404, 405):
                message = gettext(HTTP_MESSAGES[exc.status], request_locale(request))
                return await error_page(request, exc.status, message)
            raise
        if exc.content_type == "application/json":
            raise
        message = gettext(HTTP_MESSAGES.get(exc.status, exc.reason), request_locale(request))
        answer = json_error(HTTP_CODES.get(exc.status, "error"), message, exc.status)
        if "Allow" in exc.headers:  # a 405 says which methods the resource has (RFC 9110)
            answer.headers["Allow"] = exc.headers["Allow"]
        return answer


def full_message(exc: CrmError, locale: str) -> str:
    """The error's message followed by each field's own, when they add something."""
    message = exc.render(locale)
    details = [t for t in dict.fromkeys(exc.field_messages(locale).values()) if t != message]
    return " ".join([message, *(f"{text}." for text in details)])


async def form_refused(request: web.Request, exc: CrmError, locale: str) -> web.StreamResponse:
    """A refused form goes back to its page with the message, refilled, fields marked."""
    await flash(request, full_message(exc, locale), "error")
    await stash_form(request, exc.field_messages(locale))
    form = await request.post()
    return redirect(back_url(request, form))


async def error_page(request: web.Request, status: int, message: str) -> web.StreamResponse:
    return await render(
        request, "error.html", {"status": status, "message": message}, status=status
    )

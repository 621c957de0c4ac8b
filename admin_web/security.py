"""Secure headers and CSRF tokens (the login lock-out is in `admin_web.login_limit`)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp_session import get_session
from multidict import MultiDictProxy

from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.normalize import storable

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Paths that never take a browser session's form: machine callers authenticate otherwise.
CSRF_EXEMPT = ("/api/", "/webhooks/", "/healthz", "/unsubscribe/", "/survey/")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# NUL (PostgreSQL refuses it in text) or a lone surrogate (no UTF-8 form) in a text
INVALID_TEXT = N_("The text contains invalid characters")

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


@web.middleware
async def secure_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _apply_headers(request, exc)
        raise
    _apply_headers(request, response)
    return response


def _apply_headers(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:
        return
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


async def csrf_token(request: web.Request) -> str:
    """The session's CSRF token, made on first use."""
    session = await get_session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


class CsrfRefused(web.HTTPForbidden):
    """A form without the session's token: sent from elsewhere, or the session expired."""


@web.middleware
async def csrf_protect(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing browser request carries the session's token (form field or
    header); a request without it is refused before its handler runs. So is a form with
    text that cannot be stored (see `_read_form`)."""
    if request.method in SAFE_METHODS or request.path.startswith(CSRF_EXEMPT):
        return await handler(request)
    session = await get_session(request)
    expected = session.get("csrf")
    form = await _read_form(request) if request.content_type in FORM_TYPES else None
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and form is not None:
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused()
    if form is not None:
        refused = {
            str(key)[:100]: INVALID_TEXT
            for key, value in form.items()
            if isinstance(value, str) and not storable(value)
        }
        if refused:
            raise ValidationFailed(fields=refused)
    return await handler(request)


async def _read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The submitted form (read once; handlers get it again from aiohttp's cache). A
    multipart field that is not UTF-8 is a bad request: the URL-encoded form's decoding
    replaces such bytes, the multipart one raises."""
    try:
        return await request.post()
    except UnicodeDecodeError:
        raise web.HTTPBadRequest() from None

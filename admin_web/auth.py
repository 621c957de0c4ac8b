"""Who is asking: the session's user, the login page with its rate limit, and the checks
every handler starts with (`require_user`, `require_admin`).

The encrypted cookie carries a session token (`sid`), not a user: the user is the one of
the token's live row in `crm.sessions`, read once per request. Logout deletes the row, so
a copy of the cookie taken before it no longer logs anyone in; so do a new password,
deactivation and an admin's "end all sessions"."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from functools import cache

from aiohttp import web
from aiohttp_session import get_session, new_session

from admin_web.forwarded import client_address
from admin_web.keys import LIMITER, SETTINGS, STATE, USER
from admin_web.login_limit import LimiterUnavailable, Limits
from admin_web.render import flash, gettext_for, local_path, redirect, render
from crm import sessions
from crm.errors import PermissionDenied
from crm.i18n import N_
from crm.models import User
from crm.onboarding import company_missing
from crm.users import hash_password, verify_password

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
routes = web.RouteTableDef()

# Not for a browser session: files, probes, platforms' webhooks and signed media links
# (inbox.media), the API (its own tokens).
SESSIONLESS = (
    "/static/",
    "/healthz",
    "/webhooks/",
    "/api/",
    "/media/",
    "/unsubscribe/",
    "/survey/",
)
# Reachable before anyone exists or logs in.
OPEN_PATHS = ("/login", "/onboarding", *SESSIONLESS)
SESSION_TOKEN = "sid"  # the cookie's key for the crm.sessions token
COMPANY_STEP = "/onboarding/company"  # an admin's first login after `crmhub createadmin`

# The login lock-out's kinds of key and their limits (admin_web.login_limit): an account
# from one address (a person's typos lock only that), an account from anywhere (guesses
# spread over addresses), and an address across every account tried from it (a whole
# office behind one NAT or proxy shares it, hence the much higher threshold).
PAIR, ACCOUNT, ADDRESS = "pair", "account", "address"
LOGIN_RULES = {
    PAIR: Limits(attempts=5),
    ACCOUNT: Limits(attempts=10),
    ADDRESS: Limits(attempts=50),
}


@web.middleware
async def load_user(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Puts the session's active user (or None) in `request[USER]`; before the first
    admin exists every page leads to onboarding."""
    if not request.path.startswith(SESSIONLESS):
        session = await get_session(request)
        token = session.get(SESSION_TOKEN)
        if isinstance(token, str):
            user = await sessions.session_user(token)
            if user is None:
                session.pop(SESSION_TOKEN, None)
            else:
                request[USER] = user
        state = request.app[STATE]
        if not state.onboarded:
            state.onboarded = await User.exists()
        if not state.onboarded and not request.path.startswith(OPEN_PATHS):
            raise web.HTTPSeeOther("/onboarding")
    return await handler(request)


def require_user(request: web.Request) -> User:
    """The logged-in user; anyone else is sent to the login page."""
    user: User | None = request.get(USER)
    if user is None:
        location = "/login"
        if request.method == "GET" and request.path != "/":
            location += "?next=" + request.path_qs.replace("&", "%26")
        raise web.HTTPSeeOther(location)
    return user


def require_admin(request: web.Request) -> User:
    """The logged-in admin; a manager is refused (403) before anything is read or written."""
    user = require_user(request)
    if not user.is_admin:
        raise PermissionDenied()
    return user


async def log_in(request: web.Request, user: User) -> None:
    """A fresh session (new CSRF token) for the user, recorded in crm.sessions."""
    session = await new_session(request)
    session[SESSION_TOKEN] = await sessions.start_session(user)


@cache
def _stand_in_hash() -> str:
    """A password hash made once, like any other, of a password nobody knows."""
    return hash_password(secrets.token_urlsafe(32))


def _stand_in() -> User:
    """An unsaved active user that no password matches."""
    return User(email="", password_hash=_stand_in_hash(), is_active=True)


@routes.get("/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    if request.get(USER) is not None:
        return redirect("/")
    if not request.app[STATE].onboarded:  # nobody to log in as yet: set crmhub up
        return redirect("/onboarding")
    return await render(
        request, "login.html", {"next": local_path(request.query.get("next")) or ""}
    )


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    email = str(form.get("email", "")).strip().lower()
    password = str(form.get("password", ""))
    limiter = request.app[LIMITER]
    address = client_address(request, request.app[SETTINGS].trusted_networks())
    # Counted by the email typed, whether or not an account has it (see LOGIN_RULES).
    pair, account = f"{PAIR}:{address} {email}", f"{ACCOUNT}:{email}"
    try:
        locked = await limiter.locked_for(pair, account, f"{ADDRESS}:{address}")
        if locked is not None:
            minutes = max(1, int(locked.total_seconds() + 59) // 60)
            message = N_("Too many failed attempts. Try again in {minutes} min.")
            return await _refused(request, email, 429, message, minutes=minutes)
        user = await _authenticate(email, password)
        if user is None:
            await limiter.failed(pair, account, f"{ADDRESS}:{address}")
            return await _refused(request, email, 401, N_("Wrong email or password"))
        # The address's count stays: a login to an account of one's own must not reset
        # the count of guesses at others' from the same place.
        await limiter.succeeded(pair, account)
    except LimiterUnavailable as exc:
        log.error("login refused: the shared lock-out count cannot be reached (%s)", exc)
        message = N_("Logging in is not possible right now. Try again in a minute.")
        return await _refused(request, email, 503, message)
    await log_in(request, user)
    if user.is_admin and await company_missing():  # made by `crmhub createadmin`
        return redirect(COMPANY_STEP)
    target = local_path(form.get("next")) or ("/settings" if user.is_admin else "/")
    return redirect(target)


async def _authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, else None."""
    user = await User.filter(email=email).first() if email else None
    if user is None or not user.password_hash or not user.is_active:
        # The same argon2 work as for a real account, so that the time taken does not
        # tell which emails have one.
        verify_password(_stand_in(), password)
        return None
    return user if verify_password(user, password) else None


async def _refused(
    request: web.Request, email: str, status: int, message: str, **params: object
) -> web.StreamResponse:
    error = gettext_for(request, message, **params)
    return await render(
        request, "login.html", {"error": error, "email": email, "next": ""}, status=status
    )


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        await sessions.end_session(token)
    session.invalidate()
    response = redirect("/login")
    await flash(request, gettext_for(request, N_("You have logged out")))
    return response

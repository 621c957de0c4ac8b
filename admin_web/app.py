"""The aiohttp application: the admin panel (server-rendered pages), the JSON API under
/api/v1 and the health check. The channel webhooks are mounted by the runtime."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aiohttp import web
from aiohttp_session import session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from admin_web import auth, render
from admin_web.api import routes as api_routes
from admin_web.errors import crm_errors
from admin_web.imports_runner import ImportJobs
from admin_web.keys import IMPORTS, LIMITER, SETTINGS, STATE, WebState
from admin_web.login_limit import LoginLimiter, login_limiter
from admin_web.security import csrf_protect, secure_headers
from admin_web.views import ROUTES, desk_live
from crm import db
from crm.config import Settings

__all__ = ["SETTINGS", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
SESSION_AGE = 14 * 24 * 3600


async def healthz(request: web.Request) -> web.Response:
    """Liveness and database status, for load balancers and `make run` users."""
    try:
        database = await db.ping()
    except Exception as exc:  # the one place a broken database must not raise
        return web.json_response(
            {"status": "error", "database": {"status": "error", "error": str(exc)}}, status=503
        )
    return web.json_response({"status": "ok", "database": database})


def session_key(secret: str) -> bytes:
    """The 32 key bytes of the session cookies' Fernet, derived from the install's secret."""
    return hashlib.sha256(b"crmhub-session:" + secret.encode()).digest()


def create_app(settings: Settings, *, limiter: LoginLimiter | None = None) -> web.Application:
    secret = settings.ensure_secret_key()
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    storage = EncryptedCookieStorage(
        session_key(secret),
        cookie_name="crmhub_session",
        max_age=SESSION_AGE,
        httponly=True,
        secure=secure,
        samesite="Lax",
    )
    app = web.Application(
        middlewares=[
            secure_headers,
            session_middleware(storage),
            crm_errors,
            auth.load_user,
            csrf_protect,
        ],
        client_max_size=50 * 1024**2,
    )
    app[SETTINGS] = settings
    # Redis when configured (shared by every web process), else this process's memory.
    app[LIMITER] = limiter or login_limiter(settings.redis_url, rules=auth.LOGIN_RULES)
    app[STATE] = WebState()
    app[IMPORTS] = ImportJobs(settings.data_dir / "imports")
    app.on_startup.append(_check_limiter)
    app.on_cleanup.append(_stop_imports)
    app.on_cleanup.append(_close_limiter)
    render.setup(app)
    desk_live.setup(app)  # the live desk's feed (Redis or this process's memory)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.add_routes(auth.routes)
    for routes in ROUTES:
        app.add_routes(routes)
    api_routes.mount(app)
    return app


async def _stop_imports(app: web.Application) -> None:
    await app[IMPORTS].stop()


async def _check_limiter(app: web.Application) -> None:
    await app[LIMITER].check()


async def _close_limiter(app: web.Application) -> None:
    await app[LIMITER].close()

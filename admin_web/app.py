"""The aiohttp application: health check now; the admin panel and JSON API mount here."""

from __future__ import annotations

from aiohttp import web

from admin_web.errors import crm_errors
from crm import db
from crm.config import Settings

SETTINGS = web.AppKey("settings", Settings)


async def healthz(request: web.Request) -> web.Response:
    """Liveness and database status, for load balancers and `make run` users."""
    try:
        database = await db.ping()
    except Exception as exc:  # the one place a broken database must not raise
        return web.json_response(
            {"status": "error", "database": {"status": "error", "error": str(exc)}}, status=503
        )
    return web.json_response({"status": "ok", "database": database})


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[crm_errors], client_max_size=20 * 1024**2)
    app[SETTINGS] = settings
    app.router.add_get("/healthz", healthz)
    return app

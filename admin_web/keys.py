"""Application keys: what the web app is given at start (settings, limiter, import jobs)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from admin_web.imports_runner import ImportJobs
from admin_web.login_limit import LoginLimiter
from crm.config import Settings
from crm.models import User


@dataclass
class WebState:
    """What the app learns once and keeps: onboarding done, the manager bot's username."""

    onboarded: bool = False
    bot_username: str | None = None


SETTINGS = web.AppKey("settings", Settings)
LIMITER = web.AppKey("login_limiter", LoginLimiter)
IMPORTS = web.AppKey("import_jobs", ImportJobs)
STATE = web.AppKey("web_state", WebState)
USER = web.RequestKey("user", User)  # the logged-in user, or absent

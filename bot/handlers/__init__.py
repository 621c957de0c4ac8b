"""The bot's routers, one per feature; `bot.app` composes them (dialogs go in between the
feature routers and the fallback, which takes what nobody else did)."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import agenda, clients, deals, errors, fallback, feed, inbox, start


def feature_routers() -> list[Router]:
    """Fresh routers (a router belongs to one dispatcher only)."""
    return [
        errors.router(),
        start.router(),
        inbox.router(),
        deals.router(),
        feed.router(),
        agenda.router(),
        clients.router(),
    ]


def fallback_router() -> Router:
    return fallback.router()

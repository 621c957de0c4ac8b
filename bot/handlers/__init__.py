"""The bot's routers, one per feature; `bot.app` composes them (dialogs go in between the
feature routers and the fallback, which takes what nobody else did)."""

from __future__ import annotations

from aiogram import Router

from bot.callbacks import Pressed
from bot.handlers import agenda, clients, deals, errors, fallback, feed, inbox, start


def feature_routers() -> list[Router]:
    """Fresh routers (a router belongs to one dispatcher only)."""
    routers = [
        errors.router(),
        start.router(),
        inbox.router(),
        deals.router(),
        feed.router(),
        agenda.router(),
        clients.router(),
    ]
    return [gate_buttons(r) for r in routers]


def fallback_router() -> Router:
    return fallback.router()


def gate_buttons(router: Router) -> Router:
    """Look at the router's button handlers only for their own actions: one filter check
    per router rather than one per handler for every press (aiogram tries each handler's
    filters in turn). A router with a button handler not keyed by `Pressed` is left as is."""
    names: set[str] = set()
    for handler in router.callback_query.handlers:
        keyed = [f.callback for f in handler.filters or () if isinstance(f.callback, Pressed)]
        if not keyed:
            return router
        for pressed in keyed:
            names |= pressed.names
    if names:
        router.callback_query.filter(Pressed(*names))
    return router

"""The bot's routers, one per feature; `bot.app` composes them (dialogs go in between the
feature routers and the fallback, which takes what nobody else did)."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command, Filter
from aiogram.types import Message

from bot.callbacks import Pressed
from bot.handlers import (
    agenda,
    clients,
    deals,
    errors,
    fallback,
    feed,
    inbox,
    mailings,
    money,
    quick_replies,
    report,
    start,
    typing_more,
)


def feature_routers() -> list[Router]:
    """Fresh routers (a router belongs to one dispatcher only)."""
    routers = [
        errors.router(),
        start.router(),
        inbox.router(),
        quick_replies.router(),
        typing_more.router(),
        deals.router(),
        money.router(),
        feed.router(),
        agenda.router(),
        clients.router(),
        report.router(),
        mailings.router(),
    ]
    return [gate_commands(gate_buttons(r)) for r in routers]


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


class Commands(Filter):
    """A message that may be one of `names`: a command whose name, before any @mention and
    in any case, is one of them (each handler's own Command filter then decides)."""

    def __init__(self, names: set[str]) -> None:
        self.names = frozenset(n.lower() for n in names)

    async def __call__(self, message: Message, **data: Any) -> bool:
        text = message.text or message.caption  # as aiogram's Command reads it
        if not text or text[0] != "/":
            return False
        name = text.split(maxsplit=1)[0][1:].split("@", 1)[0]
        return name.lower() in self.names


def gate_commands(router: Router) -> Router:
    """Look at the router's message handlers only for a command of theirs, when every one
    of them is keyed by a command: one check per router rather than one per handler for
    every message. A router with any other message handler (a typed note, a reply to a
    card) is left as is."""
    names: set[str] = set()
    for handler in router.message.handlers:
        keyed = [f.callback for f in handler.filters or () if isinstance(f.callback, Command)]
        if not keyed:
            return router
        for command in (c for f in keyed for c in f.commands):
            if not isinstance(command, str):
                return router  # a pattern: not gated
            names.add(command)
    if names:
        router.message.filter(Commands(names))
    return router

"""aiogram-dialog's middlewares only for the updates a dialog can concern.

aiogram-dialog wraps every message and button press: it locks the chat's dialog stack,
loads it, builds a dialog manager, saves the stack and unlocks it, which is a tenth of the
bot's CPU for an update that no dialog sees (/deals, a deal card's Feed button). Here they
are skipped for exactly those updates:

- a signed button (`bot.callbacks`) whose action's handler takes no `dialog_manager`;
- a command typed plainly (`/deals`, `/client Anna`, no @mention), every handler of which
  in the feature routers takes no `dialog_manager`. The feature routers come before the
  dialogs, so such a command is taken by its own handler (or, as a reply to a card, by the
  reply handler, which takes none either) and never reaches a dialog.

Everything else goes through aiogram-dialog as before: the dialogs' own buttons, the
buttons and commands that open or close a dialog (Plan, Done, /cancel), text typed into a
dialog, and whatever no handler is known for. A dialog open in the chat stays as it was,
since the handler that ran did not touch it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram_dialog.manager.manager_middleware import BgFactoryMiddleware

from bot.callbacks import Action, Pressed

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
Middleware = Callable[[Handler, TelegramObject, dict[str, Any]], Awaitable[Any]]
NEEDS_DIALOGS = "dialog_manager"  # the parameter by which a handler asks for them


class DialogFree:
    """The button actions and commands whose handlers all take no dialog manager."""

    def __init__(self, routers: Iterable[Router]) -> None:
        actions: dict[str, bool] = {}  # name -> every handler dialog-free
        commands: dict[str, bool] = {}
        others_free = True  # message handlers not keyed by a command (a reply, a state)
        for router in routers:
            for handler in router.callback_query.handlers:
                free = NEEDS_DIALOGS not in handler.params and not handler.varkw
                for f in handler.filters or ():
                    if isinstance(f.callback, Pressed):
                        for name in f.callback.names:
                            actions[name] = actions.get(name, True) and free
            for handler in router.message.handlers:
                free = NEEDS_DIALOGS not in handler.params and not handler.varkw
                keyed: list[Command] = [
                    f.callback for f in handler.filters or () if isinstance(f.callback, Command)
                ]
                others_free = others_free and (free or bool(keyed))
                for command in (c for f in keyed for c in f.commands):
                    if isinstance(command, str):
                        commands[command] = commands.get(command, True) and free
        self.actions = frozenset(name for name, free in actions.items() if free)
        # a command may be taken by an unkeyed handler of an earlier router: all must be free
        self.commands = frozenset(n for n, free in commands.items() if free and others_free)

    def __call__(self, event: TelegramObject, data: dict[str, Any]) -> bool:
        if isinstance(event, CallbackQuery):
            action = data.get("action")
            return isinstance(action, Action) and action.name in self.actions
        if isinstance(event, Message):
            text = event.text
            if not text or text[0] != "/":
                return False
            name = text.split(maxsplit=1)[0][1:]  # as aiogram's Command reads it
            return "@" not in name and name.casefold() in self.commands
        return False


def skip_dialogs_where_free(dp: Dispatcher, free: DialogFree) -> None:
    """Wrap aiogram-dialog's message and button middlewares (after `setup_dialogs`) so
    that the updates `free` names pass them by; their order is kept."""
    for observer in (dp.message, dp.callback_query):
        for manager in (observer.outer_middleware, observer.middleware):
            registered = list(manager)
            for middleware in registered:
                manager.unregister(middleware)
            for middleware in registered:
                manager.register(_unless_free(middleware, free))


def _unless_free(middleware: Middleware, free: DialogFree) -> Middleware:
    if isinstance(middleware, BgFactoryMiddleware) or not _from_aiogram_dialog(middleware):
        return middleware  # (the background manager factory only puts itself in the data)

    async def unless_free(handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if free(event, data):
            return await handler(event, data)
        return await middleware(handler, event, data)

    return unless_free


def _from_aiogram_dialog(middleware: object) -> bool:
    owner = getattr(middleware, "__self__", middleware)  # a bound method: its object
    module = getattr(middleware, "__module__", None) or type(owner).__module__
    return module.startswith("aiogram_dialog") or type(owner).__module__.startswith(
        "aiogram_dialog"
    )

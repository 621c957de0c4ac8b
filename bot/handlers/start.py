"""Binding (`/start <invite code>`), help, `/cancel` and the language switch."""

from __future__ import annotations

from aiogram import Router
from aiogram.enums import ChatMemberStatus
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message
from aiogram_dialog import DialogManager

from bot.callbacks import Action, Pressed
from bot.middleware import REFUSAL, BoundUsers
from bot.views import Card, Viewer
from crm import manager_chat, users
from crm.errors import CrmError, NotFound, PermissionDenied
from crm.i18n import N_, SUPPORTED_LOCALES, gettext
from crm.models import User

HELP = N_(
    "Commands:\n"
    "/inbox — inquiries waiting to be taken\n"
    "/deals — your deals by stage\n"
    "/today — overdue, today's plan and birthdays\n"
    "/client NAME — find a client by name, phone, email or INN\n"
    "/lang — language\n"
    "/cancel — stop what you are typing\n"
    "Reply to a customer's card to answer them."
)
LANGUAGES = {"ru": "Русский", "en": "English"}
ALREADY_CONNECTED = N_("{name}, you are already connected to the CRM.")
REPORT_HELP = N_("/report — your figures for a period (the team's for a head of sales)")


def help_text(v: Viewer) -> str:
    return v._(HELP) + "\n" + v._(REPORT_HELP)


async def bind(message: Message, command: CommandObject, locale: str, actor: User | None) -> None:
    """`/start CODE`: use the invite once; the account now acts as that CRM user."""
    assert message.from_user is not None
    code = (command.args or "").strip()
    if actor is not None and not code:
        await welcome(message, actor)
        return
    try:
        user = await users.bind_telegram(code, message.from_user.id)
    except PermissionDenied:
        await message.answer(gettext(REFUSAL, locale), parse_mode=None)
        return
    except NotFound as exc:
        if actor is not None and await users.is_own_invite(code, actor.id):
            # their own link opened again (from an old message, another device)
            text = gettext(ALREADY_CONNECTED, actor.locale, name=actor.full_name)
            await message.answer(text, parse_mode=None)
            return
        await message.answer(exc.render(actor.locale if actor else locale), parse_mode=None)
        return
    except CrmError as exc:
        await message.answer(exc.render(actor.locale if actor else locale), parse_mode=None)
        return
    await welcome(message, user)


async def welcome(message: Message, user: User) -> None:
    greeting = gettext(
        "Hello, {name}! You are connected to the CRM.", user.locale, name=user.full_name
    )
    await message.answer(greeting + "\n\n" + gettext(HELP, user.locale), parse_mode=None)


async def start_bound(message: Message, viewer: Viewer) -> None:
    await viewer.say(
        viewer._("Hello, {name}!", name=viewer.user.full_name) + "\n\n" + help_text(viewer)
    )


async def show_help(message: Message, viewer: Viewer) -> None:
    await viewer.say(help_text(viewer))


async def cancel(
    message: Message, viewer: Viewer, state: FSMContext, dialog_manager: DialogManager
) -> None:
    typing = await state.get_state() is not None
    in_dialog = dialog_manager.has_context()
    if not (typing or in_dialog):
        await viewer.say(viewer._("Nothing to cancel."))
        return
    await state.clear()
    if in_dialog:
        await dialog_manager.reset_stack()
    await viewer.say(viewer._("Cancelled."))


async def language(message: Message, viewer: Viewer) -> None:
    kb = viewer.keyboard()
    kb.row(
        *(
            kb.button(("✓ " if code == viewer.locale else "") + name, "lg", code)
            for code, name in LANGUAGES.items()
        )
    )
    await viewer.send(Card([viewer._("Choose the language")], kb.markup()))


async def set_language(
    query: CallbackQuery, action: Action, actor: User, bound_users: BoundUsers
) -> None:
    code = action.args[0]
    if code in SUPPORTED_LOCALES:
        await users.update_user(actor.id, {"locale": code}, actor=actor)
        bound_users.forget(query.from_user.id)
    await query.answer(gettext("Language changed", code))
    if query.message is not None:
        await query.message.answer(gettext(HELP, code), parse_mode=None)


async def membership(event: ChatMemberUpdated, actor: User, bound_users: BoundUsers) -> None:
    """The manager blocked the bot (kicked) or started it again."""
    blocked = event.new_chat_member.status == ChatMemberStatus.KICKED
    await manager_chat.set_telegram_blocked(actor.id, blocked)
    bound_users.forget(event.from_user.id)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(bind, CommandStart(deep_link=True, ignore_case=True))
    r.message.register(start_bound, CommandStart(ignore_case=True))
    r.message.register(show_help, Command("help", ignore_case=True))
    r.message.register(cancel, Command("cancel", ignore_case=True))
    r.message.register(language, Command("lang", ignore_case=True))
    r.callback_query.register(set_language, Pressed("lg"))
    r.my_chat_member.register(membership)
    return r

"""`/today` ("My tasks"): overdue, the rest of today in the manager's timezone, birthdays;
and the reminder buttons: Done, +1 hour, Tomorrow."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager

from bot import agenda
from bot.callbacks import Action, Pressed
from bot.handlers.feed import complete_or_plan
from bot.views import Card, Viewer
from crm import clock, reminders
from crm.interactions import access_interaction

TOMORROW_AT = time(9, 0)  # "Tomorrow" reminds again at nine, the manager's time


async def today(message: Message, viewer: Viewer) -> None:
    await viewer.send(await agenda.today_card(viewer, clock.now()))


async def done(
    query: CallbackQuery, action: Action, viewer: Viewer, dialog_manager: DialogManager
) -> None:
    item = await access_interaction(viewer.user, action.int(0))
    if not await complete_or_plan(query, viewer, item.id, dialog_manager):
        return
    if query.message is not None:
        kb = viewer.keyboard()
        if item.interest_id:  # type: ignore[attr-defined]
            kb.add("📅 " + viewer.gettext("Plan the next step"), "dp", item.interest_id)  # type: ignore[attr-defined]
        card = Card(
            ["✓ " + viewer._("Done: {what}", what=item.subject or viewer.gettext("interaction"))],
            kb.markup(),
        )
        await viewer.edit(query.message.message_id, card)


async def snooze(
    query: CallbackQuery, viewer: Viewer, interaction_id: int, until: datetime
) -> None:
    """Remind again at `until`; the reminder keeps its subject, client, deal and buttons."""
    item = await reminders.snooze(interaction_id, until, actor=viewer.user)
    if query.message is not None:
        await item.fetch_related("client", "interest")
        card = agenda.reminder_card(viewer, item, snoozed=until)
        await viewer.edit(query.message.message_id, card)
    await query.answer()


async def in_an_hour(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    await snooze(query, viewer, action.int(0), clock.now() + timedelta(hours=1))


async def tomorrow(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    zone = ZoneInfo(viewer.tz)
    day = clock.now().astimezone(zone).date() + timedelta(days=1)
    until = datetime.combine(day, TOMORROW_AT, zone).astimezone(UTC)
    await snooze(query, viewer, action.int(0), until)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(today, Command("today", ignore_case=True))
    r.callback_query.register(done, Pressed("rd"))
    r.callback_query.register(in_an_hour, Pressed("rh"))
    r.callback_query.register(tomorrow, Pressed("rm"))
    return r

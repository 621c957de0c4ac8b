"""How the planning dialog learns the moment: one-tap presets (today 17:00, tomorrow 10:00,
in a week), a date or time typed in Russian or English (`crm.when_parse`), and tomorrow
offered once today's working hours are over. What is not understood is said in the dialog
message itself (`complain`), which is edited in place rather than sent again."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.states import PlanSG
from bot.views import Viewer
from crm import clock
from crm.i18n import N_
from crm.when_parse import Unclear, moment_of, parse_when

PRESETS = {  # button id -> (days from today, hour)
    "today": (0, 17),
    "tomorrow": (1, 10),
    "week": (7, 10),
}
PRESET_LABELS = {
    "today": N_("Today 17:00"),
    "tomorrow": N_("Tomorrow 10:00"),
    "week": N_("In a week, 10:00"),
}
DAY_PASSED = N_("That day has passed: choose today or a later day.")
NOT_A_KIND = N_("Choose the kind with a button.")


def viewer_of(manager: DialogManager) -> Viewer:
    viewer = manager.middleware_data["viewer"]
    assert isinstance(viewer, Viewer)
    return viewer


def presets(v: Viewer) -> list[tuple[str, str]]:
    """The presets still ahead (today 17:00 only until 17:00): (button id, label)."""
    now = local_now(v)
    return [
        (key, v.gettext(PRESET_LABELS[key]))
        for key, (days, hour) in PRESETS.items()
        if days or now.time() < time(hour)
    ]


def local_now(viewer: Viewer) -> datetime:
    return clock.now().astimezone(ZoneInfo(viewer.tz))


def differs(moment: datetime, own: str, theirs: str) -> bool:
    """Whether the client's clock shows another time than the manager's at `moment`."""
    return (
        moment.astimezone(ZoneInfo(own)).utcoffset()
        != moment.astimezone(ZoneInfo(theirs)).utcoffset()
    )


def set_moment(manager: DialogManager, day: date, at: time) -> None:
    manager.dialog_data["day"] = day.isoformat()
    manager.dialog_data["time"] = at.strftime("%H:%M")


def complain(manager: DialogManager, text: str) -> None:
    """Explain, in the dialog message itself, what was not understood."""
    manager.dialog_data["error"] = text
    manager.show_mode = ShowMode.EDIT


async def on_preset(query: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    """Today 17:00, tomorrow 10:00, in a week: the moment at once, on to the subject."""
    days, hour = PRESETS[item]
    set_moment(manager, local_now(viewer_of(manager)).date() + timedelta(days=days), time(hour))
    await manager.switch_to(PlanSG.subject)


async def on_tomorrow(query: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data["day"] = (
        local_now(viewer_of(manager)).date() + timedelta(days=1)
    ).isoformat()


async def on_typed_when(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    """A typed date, time or both, at the date or the time step (`crm.when_parse`)."""
    manager.show_mode = ShowMode.EDIT
    v = viewer_of(manager)
    at_time_step = manager.current_context().state == PlanSG.time
    now = clock.now()
    try:
        when = parse_when(message.text or "", now, v.tz, expect="time" if at_time_step else "day")
    except Unclear as exc:
        complain(manager, exc.render(v.locale))
        return
    today = local_now(v).date()
    if when.day is not None and when.day < today:
        complain(manager, v.gettext(DAY_PASSED))
        return
    chosen = manager.dialog_data.get("day") if at_time_step else None
    moment = moment_of(when, now, v.tz, day=date.fromisoformat(chosen) if chosen else None)
    if moment is None:  # a day only: its time next
        manager.dialog_data["day"] = (when.day or today).isoformat()
        await manager.switch_to(PlanSG.time)
        return
    local = moment.astimezone(ZoneInfo(v.tz))
    set_moment(manager, local.date(), local.time())
    await manager.switch_to(PlanSG.subject)


async def on_not_a_kind(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    complain(manager, viewer_of(manager).gettext(NOT_A_KIND))

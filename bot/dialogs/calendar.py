"""aiogram-dialog's calendar in the manager's language and timezone, from today on; the
weeks already past are left out rather than shown as rows of blank buttons."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Calendar
from aiogram_dialog.widgets.kbd.calendar_kbd import (
    CalendarConfig,
    CalendarDaysView,
    CalendarMonthView,
    CalendarScope,
    CalendarScopeView,
    CalendarUserConfig,
    CalendarYearsView,
)
from aiogram_dialog.widgets.text import Text
from babel import dates

from crm import clock
from crm.i18n import pick_locale


class BabelDate(Text):
    """`data["date"]` formatted with a CLDR pattern in the manager's locale."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = pattern

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        locale = pick_locale(manager.middleware_data.get("locale"))
        return dates.format_date(data["date"], self.pattern, locale=locale)


class DaysFromToday(CalendarDaysView):
    async def _render_days(
        self, config: CalendarConfig, offset: date, data: dict[str, Any], manager: DialogManager
    ) -> list[list[InlineKeyboardButton]]:
        weeks = await super()._render_days(config, offset, data, manager)
        return [week for week in weeks if any(day.callback_data for day in week)]


class LocalCalendar(Calendar):
    def _init_views(self) -> dict[CalendarScope, CalendarScopeView]:
        return {
            CalendarScope.DAYS: DaysFromToday(
                self._item_callback_data,
                weekday_text=BabelDate("EEEEEE"),
                header_text=BabelDate("🗓 LLLL y"),
                next_month_text=BabelDate("LLLL »"),
                prev_month_text=BabelDate("« LLLL"),
            ),
            CalendarScope.MONTHS: CalendarMonthView(
                self._item_callback_data,
                month_text=BabelDate("LLLL"),
                this_month_text=BabelDate("[ LLLL ]"),
                header_text=BabelDate("🗓 y"),
            ),
            CalendarScope.YEARS: CalendarYearsView(self._item_callback_data),
        }

    async def _get_user_config(
        self, data: dict[str, Any], manager: DialogManager
    ) -> CalendarUserConfig:
        viewer = manager.middleware_data.get("viewer")
        tz = ZoneInfo(getattr(viewer, "tz", "Europe/Moscow"))
        return CalendarUserConfig(timezone=tz, min_date=clock.now().astimezone(tz).date())  # type: ignore[arg-type]

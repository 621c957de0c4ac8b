"""`/report`: a manager's own figures for a period (won, plan, open pipeline, conversion,
overdue steps, first reply against the SLA, next replies to later messages) with their
open deals by stage as a chart;
a head of sales or an admin gets the team's totals with the funnel chart and a line per
manager. Period buttons (this week, this month, last month, this quarter) send the report
of another period and take the buttons off the old one."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot.callbacks import Action, Pressed
from bot.report_cards import PERIOD, caption_fits, png, report_view
from bot.views import Card, Viewer
from crm.report_digest import BOT_PRESETS, summary
from crm.reports.filters import Preset


async def send_report(viewer: Viewer, preset: Preset) -> None:
    team = viewer.user.sees_everything
    figures = await summary(viewer.user, preset, team=team)
    view = report_view(viewer, figures, preset, team=team)
    image = await png(view.chart) if view.chart is not None else None
    caption, table = view.caption, view.table
    if image is not None and not caption_fits(caption):  # never with today's lines
        caption, table = caption[:1], [*caption[1:], "", *table]
    if image is None:
        card = Card().add(*caption, *(["", *table] if table else []))
        card.markup = view.markup
        await viewer.send(card)
        return
    markup: Any = view.markup
    await viewer.bot.send_photo(
        viewer.chat_id,
        BufferedInputFile(image, "report.png"),
        caption="\n".join(caption),
        reply_markup=None if table or markup is None else InlineKeyboardMarkup(**markup),
    )
    if table:
        card = Card().add(*table)
        card.markup = view.markup
        await viewer.send(card)


async def report(message: Message, viewer: Viewer) -> None:
    await send_report(viewer, Preset.THIS_MONTH)


async def period(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    index = action.int(0)
    if not 0 <= index < len(BOT_PRESETS):
        await query.answer()
        return
    await query.answer()
    if query.message is not None:
        await viewer.edit_keyboard(query.message.message_id, None)
    await send_report(viewer, BOT_PRESETS[index])


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(report, Command("report", ignore_case=True))
    r.callback_query.register(period, Pressed(PERIOD))
    return r

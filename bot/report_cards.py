"""What the bot shows of the reports: /report (a manager's own period, or the team's table
of a head or an admin, with a chart and period buttons), the heads' weekly digest, and the
first-reply SLA nudges. Figures come from `crm.report_digest` and `crm.sla`; charts from
`crm.reports.charts`, drawn as PNG off the event loop.

Telegram's limits: a photo's caption holds 1,024 characters, a message 4,096. The summary
goes in the caption (a handful of lines, no names); the team's table, whose length grows
with the team, goes in a message of its own (`Card` splits it at the limit)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from babel.dates import format_interval
from babel.numbers import format_decimal

from bot.callbacks import Markup
from bot.texts import h, money, visible_length
from bot.views import Card, Viewer
from crm.charts import Chart
from crm.i18n import N_, format_date
from crm.models import InquiryStatus, User
from crm.report_digest import BOT_PRESETS, Summary, Totals, Week, WeekDigest
from crm.reports.charts import funnel_chart, percent, pipeline_chart
from crm.reports.filters import Period, Preset
from crm.sla import Waiting

CAPTION_LIMIT = 1024
TEAM_ROWS = 40  # managers listed in the team's table; the rest are counted
PERIOD = "rq"  # the period buttons' action: rq|<index in BOT_PRESETS>
PRESET_NAMES = {
    Preset.THIS_WEEK: N_("This week"),
    Preset.THIS_MONTH: N_("This month"),
    Preset.LAST_MONTH: N_("Last month"),
    Preset.THIS_QUARTER: N_("This quarter"),
}
_render_lock = threading.Lock()  # matplotlib's settings are global: one chart at a time


@dataclass
class ReportView:
    """A report as sent: a chart (None when there is nothing to draw) with the summary as
    its caption, then the `table` lines (if any) as a message; the keyboard goes last."""

    caption: list[str]
    chart: Callable[[], Chart | None] | None = None
    table: list[str] = field(default_factory=list)
    markup: Markup | None = None


async def png(draw: Callable[[], Chart | None]) -> bytes | None:
    """Draw and render a chart in a thread (matplotlib takes tens of milliseconds the
    event loop should spend on other updates), one at a time."""

    def render() -> bytes | None:
        with _render_lock:
            chart = draw()
            return None if chart is None else chart.png()

    return await asyncio.to_thread(render)


def minutes(v: Viewer, value: float | None) -> str:
    """Working minutes as "12 min" or "2 h 5 min"."""
    if value is None:
        return "—"
    whole = round(value)
    if whole < 60:
        return v._("{n} min", n=format_decimal(whole, locale=v.locale))
    hours, rest = divmod(whole, 60)
    if not rest:
        return v._("{h} h", h=format_decimal(hours, locale=v.locale))
    return v._("{h} h {m} min", h=format_decimal(hours, locale=v.locale), m=rest)


def period_text(v: Viewer, period: Period) -> str:
    """ "Mar 1 – 31, 2026", "1–31 мар. 2026 г."."""
    if period.first == period.last:
        return format_date(period.first, v.locale)
    return format_interval(period.first, period.last, "yMMMd", locale=v.locale)


def _count(v: Viewer, n: int) -> str:
    return format_decimal(n, locale=v.locale)


def _money(v: Viewer, amount: Decimal, currency: str) -> str:
    return money(amount, currency, v.locale)


def _won(v: Viewer, won: int, amount: Decimal, currency: str) -> str:
    return v._("Won: {n} · {amount}", n=_count(v, won), amount="{amount}").format(
        amount=_money(v, amount, currency)
    )


def _plan(v: Viewer, t: Totals, currency: str) -> str | None:
    if t.plan_amount is None:
        return None
    return "🎯 " + v._(
        "Plan: {share} of {amount}", share=percent(t.plan_done, v.locale), amount="{amount}"
    ).format(amount=_money(v, t.plan_amount, currency))


def _response(v: Viewer, s: Summary) -> str:
    line = v._("First reply: median {time}", time=minutes(v, s.responses.first_response.median))
    if s.sla_minutes:
        line += " · " + v._(
            "target {time}, met {share}",
            time=minutes(v, s.sla_minutes),
            share=percent(s.responses.sla_share, v.locale),
        )
    return "💬 " + line


def _next_response(v: Viewer, s: Summary) -> str | None:
    """Later customer messages: how long they waited for the next reply, and how many
    still wait (none: no line)."""
    if s.next_response is None or not s.next_response.total.waits:
        return None
    total = s.next_response.total
    line = v._("Next replies: median {time}", time=minutes(v, total.next_response.median))
    if total.waiting:
        line += " · " + v._("waiting {n}", n=_count(v, total.waiting))
    return "↩️ " + line


def summary_lines(v: Viewer, s: Summary, preset: Preset, *, team: bool) -> list[str]:
    t = s.totals
    title = v._("Team report") if team else v._("My report")
    head = f"📊 <b>{title}</b> · {v._(PRESET_NAMES[preset])}"
    lines = [head, h(period_text(v, s.period)), ""]
    lines.append("🏆 " + _won(v, t.won, t.won_amount, s.currency))
    if plan := _plan(v, t, s.currency):
        lines.append(plan)
    lines.append(
        "📂 "
        + v._("Open deals: {n} · {amount}", n=_count(v, s.open_count), amount="{amount}").format(
            amount=_money(v, s.open_amount, s.currency)
        )
    )
    lines.append(
        "📈 "
        + v._(
            "Conversion: {share} ({won} won, {lost} lost)",
            share=percent(t.conversion, v.locale),
            won=_count(v, t.won),
            lost=_count(v, t.lost),
        )
    )
    lines.append("⏰ " + v._("Overdue steps: {n}", n=_count(v, t.overdue)))
    lines.append(_response(v, s))
    if later := _next_response(v, s):
        lines.append(later)
    return lines


def team_lines(v: Viewer, s: Summary) -> list[str]:
    """A line per manager: won, amount, plan share, overdue, first and next reply."""
    rows = sorted(s.rows, key=lambda r: (-r.won_amount, -r.won, r.name))
    later = {g.key: g.figures for g in s.next_response.managers} if s.next_response else {}
    if not rows:
        return [v._("No managers yet.")]
    lines = ["👥 <b>" + v._("Managers") + "</b>"]
    for n, row in enumerate(rows[:TEAM_ROWS], 1):
        parts = [
            v._("won {n}", n=_count(v, row.won)) + " · " + _money(v, row.won_amount, s.currency)
        ]
        if row.plan_amount_done is not None:
            parts.append(v._("plan {share}", share=percent(row.plan_amount_done, v.locale)))
        parts.append(v._("overdue {n}", n=_count(v, row.interactions_overdue)))
        parts.append(v._("reply {time}", time=minutes(v, row.first_response.median)))
        if (figures := later.get(row.manager_id)) is not None and figures.answered:
            parts.append(v._("next {time}", time=minutes(v, figures.next_response.median)))
        lines.append(f"{n}. <b>{h(row.name)}</b>: " + " · ".join(parts))
    if len(rows) > TEAM_ROWS:
        lines.append(v._("…and {n} more: see Reports in the web panel", n=len(rows) - TEAM_ROWS))
    return lines


def period_keyboard(v: Viewer, current: Preset) -> Markup | None:
    kb = v.keyboard()
    buttons = [
        kb.button(("• " if preset == current else "") + v.gettext(PRESET_NAMES[preset]), PERIOD, n)
        for n, preset in enumerate(BOT_PRESETS)
    ]
    kb.row(*buttons[:2]).row(*buttons[2:])
    return kb.markup()


def report_view(v: Viewer, s: Summary, preset: Preset, *, team: bool) -> ReportView:
    caption = summary_lines(v, s, preset, team=team)
    locale = v.locale
    if team:
        funnel = s.funnel

        def draw() -> Chart | None:
            return None if funnel is None else funnel_chart(funnel, locale)

        table = team_lines(v, s)
    else:
        pipe = s.pipeline

        def draw() -> Chart | None:
            return pipeline_chart(pipe, locale)

        table = []
    return ReportView(caption, draw, table, period_keyboard(v, preset))


def caption_fits(lines: list[str]) -> bool:
    return visible_length("\n".join(lines)) <= CAPTION_LIMIT


# -- the weekly digest ---------------------------------------------------------------------


def _signed(v: Viewer, value: int | Decimal, currency: str | None = None) -> str:
    if value == 0:
        return "±0"
    text = _money(v, abs(Decimal(value)), currency) if currency else _count(v, abs(int(value)))
    return ("+" if value > 0 else "−") + text


def digest_card(v: Viewer, d: WeekDigest) -> Card:
    """Last week's figures, each with its change against the week before."""
    last, before = d.last, d.before
    a, b = last.totals, before.totals
    card = Card().add(
        "🗓 <b>" + v._("Last week, {period}", period=period_text(v, last.period)) + "</b>", ""
    )
    won = _won(v, a.won, a.won_amount, d.currency)
    card.add(
        f"🏆 {won} ("
        + v._(
            "{count}, {amount} on the week before",
            count=_signed(v, a.won - b.won),
            amount="{amount}",
        ).format(amount=_signed(v, a.won_amount - b.won_amount, d.currency))
        + ")"
    )
    card.add(
        "🆕 "
        + v._("New deals: {n}", n=_count(v, a.opened))
        + f" ({_signed(v, a.opened - b.opened)})",
        "❌ " + v._("Lost: {n}", n=_count(v, a.lost)) + f" ({_signed(v, a.lost - b.lost)})",
        "📈 "
        + v._(
            "Conversion: {share} (was {before})",
            share=percent(a.conversion, v.locale),
            before=percent(b.conversion, v.locale),
        ),
        "📨 "
        + v._("Inquiries: {n}", n=_count(v, last.responses.received))
        + f" ({_signed(v, last.responses.received - before.responses.received)})",
        "💬 "
        + v._(
            "First reply: median {time} (was {before})",
            time=minutes(v, last.responses.first_response.median),
            before=minutes(v, before.responses.first_response.median),
        ),
    )
    if d.sla_minutes:
        card.add(
            "🎯 "
            + v._(
                "Answered within {time}: {share} (was {before})",
                time=minutes(v, d.sla_minutes),
                share=percent(last.responses.sla_share, v.locale),
                before=percent(before.responses.sla_share, v.locale),
            )
        )
    card.add(*_best(v, last, d.currency))
    card.add("", v._("The whole team: /report"))
    return card


def _best(v: Viewer, week: Week, currency: str) -> list[str]:
    winners = sorted(
        (r for r in week.rows if r.won), key=lambda r: (-r.won_amount, -r.won, r.name)
    )[:3]
    if not winners:
        return []
    lines = ["", "<b>" + v._("Best of the week") + "</b>"]
    for row in winners:
        lines.append(
            f"• {h(row.name)}: "
            + v._("won {n}", n=_count(v, row.won))
            + " · "
            + _money(v, row.won_amount, currency)
        )
    return lines


# -- first-reply SLA nudges ----------------------------------------------------------------


def nudge_card(
    v: Viewer, w: Waiting, sla: int, *, to_head: bool = False, manager: User | None = None
) -> Card:
    """To the manager at the SLA; `to_head`: to a head at twice it, naming the `manager`
    who should answer."""
    if not to_head:
        text = "⏰ " + v._(
            "{client} has been waiting for a reply for {time} (target {sla}) · {channel}",
            client=w.client,
            time=minutes(v, w.minutes),
            sla=minutes(v, sla),
            channel=w.channel,
        )
    else:
        text = "🚨 " + v._(
            "{client} has been waiting for a reply for {time}, twice the target of {sla}"
            " · {channel}",
            client=w.client,
            time=minutes(v, w.minutes),
            sla=minutes(v, sla),
            channel=w.channel,
        )
    card = Card([text])
    if to_head and manager is not None:
        card.add(v._("Responsible: {name}", name=manager.full_name))
    elif to_head:
        card.add(v._("Nobody is responsible for this client yet."))
    kb = v.keyboard()
    if w.status == InquiryStatus.OPEN:
        kb.row(
            kb.button("✅ " + v.gettext("Accept"), "ia", w.inquiry_id),
            kb.button("📂 " + v.gettext("Open"), "io", w.inquiry_id),
        )
    elif w.interest_id is not None:
        kb.add("📂 " + v.gettext("Deal"), "do", w.interest_id)
    kb.add("↩️ " + v.gettext("Reply"), "rp", w.conversation_id)
    card.markup = kb.markup()
    return card

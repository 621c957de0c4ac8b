"""The manager's day: the reminder of one interaction, the overdue nag, the daily digest
(09:00 in the manager's timezone) and `/today`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.cards import client_clock
from bot.texts import Quote, excerpt, h
from bot.views import Card, Viewer
from crm import manager_chat, reminders
from crm.i18n import format_date, format_datetime
from crm.models import Client, Interaction, Interest

DIGEST_AT = time(9, 0)
DIGEST_UNTIL = time(12, 0)  # a worker that was down at 09:00 still sends it until noon
LIST_LIMIT = 15
BUTTONS = 8


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC moments a local day starts and ends in `tz` (DST-safe)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    # in UTC: SQLite compares stored UTC text, so an offset would compare wrongly
    return start.astimezone(UTC), end.astimezone(UTC)


def reminder_card(
    v: Viewer, interaction: Interaction, *, nag: bool = False, snoozed: datetime | None = None
) -> Card:
    """A planned interaction coming up (or overdue), with Done / +1 hour / Tomorrow;
    `snoozed`: when it will remind again (the card keeps everything else)."""
    client: Client = interaction.client
    interest: Interest | None = interaction.interest
    icon, title = ("⚠️", v._("Overdue")) if nag else ("⏰", v._("Reminder"))
    card = Card().add(
        f"{icon} <b>{title}: {v.kind(interaction.kind)} · {v.when(interaction.planned_at)}</b>"
    )
    if interaction.subject:
        card.add(f"<b>{h(interaction.subject)}</b>")
    card.add(f"👤 {h(client.name)} · " + client_clock(v, client))
    if interest is not None:
        card.add(f"📂 {h(interest.title)}")
    if interaction.content:
        card.add(Quote(interaction.content, tag=""))
    if snoozed is not None:
        card.add(
            "💤 "
            + v._(
                "I will remind you on {when}",
                when=format_datetime(snoozed, v.locale, v.tz, "short"),
            )
        )
    kb = v.keyboard()
    kb.row(
        kb.button("✓ " + v.gettext("Done"), "rd", interaction.id),
        kb.button("+1 " + v.gettext("hour"), "rh", interaction.id),
        kb.button(v.gettext("Tomorrow"), "rm", interaction.id),
    )
    if interest is not None:
        kb.add("📂 " + v.gettext("Open deal"), "do", interest.id)
    else:
        kb.add("👤 " + v.gettext("Client"), "co", client.id)
    card.markup = kb.markup()
    return card


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Person(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def client(self) -> _Named: ...


def _birthday_lines(v: Viewer, clients: Sequence[_Named], persons: Sequence[_Person]) -> list[str]:
    lines = [f"  🎂 {h(c.name)}" for c in clients]
    lines += [f"  🎂 {h(p.name)}" + (f" ({h(p.client.name)})" if p.client else "") for p in persons]
    return lines


def _interaction_line(v: Viewer, n: int, item: Interaction) -> str:
    subject = f" — {h(excerpt(item.subject, 60))}" if item.subject else ""
    return f"{n}. {v.kind(item.kind)} · {v.when(item.planned_at)}{subject} · {h(item.client.name)}"


async def digest_card(v: Viewer, day: date, now: datetime) -> Card:
    """The morning digest: birthdays today and tomorrow, deals without a next step,
    overdue interactions."""
    user_id = v.user.id
    card = Card().add(
        "☀️ <b>" + v._("Good morning! Your day, {date}", date=format_date(day, v.locale)) + "</b>"
    )
    kb = v.keyboard()
    birthdays = []
    for label, when in ((v._("today"), day), (v._("tomorrow"), day + timedelta(days=1))):
        found = await reminders.birthdays_on(when, responsible_id=user_id)
        if lines := _birthday_lines(v, found.clients, found.persons):
            birthdays += [f" <i>{label}</i>", *lines]
    if birthdays:
        card.add("", "<b>" + v._("Birthdays") + "</b>", *birthdays)
    stale = await manager_chat.interests_without_next_step(user_id, limit=LIST_LIMIT)
    if stale:
        card.add("", "<b>" + v._("Deals without a next step") + "</b>")
        for n, interest in enumerate(stale, 1):
            card.add(f"{n}. {h(interest.title)} · {h(interest.client.name)}")
            if n <= BUTTONS:
                kb.add(f"📅 {n}. {excerpt(interest.title, 40)}", "do", interest.id)
    overdue = await reminders.overdue_head(user_id, now, limit=LIST_LIMIT)
    if overdue.total:
        card.add("", "<b>" + v._("Overdue: {n}", n=overdue.total) + "</b>")
        card.add(*(_interaction_line(v, n, item) for n, item in enumerate(overdue.first, 1)))
    if not (birthdays or stale or overdue.total):
        card.add(v._("Nothing urgent: no birthdays, no overdue steps, every deal has a plan."))
    card.markup = kb.markup()
    return card


async def today_card(v: Viewer, now: datetime) -> Card:
    """`/today`: overdue, the rest of today in the manager's timezone, today's birthdays."""
    local_day = now.astimezone(ZoneInfo(v.tz)).date()
    _, end = day_bounds(local_day, v.tz)
    plan, found = await asyncio.gather(  # side by side: one round trip's wait
        reminders.day_plan(v.user.id, now, end, limit=LIST_LIMIT),
        reminders.birthdays_on(local_day, responsible_id=v.user.id),
    )
    card = Card().add(
        "📋 <b>" + v._("Today, {date}", date=format_date(local_day, v.locale)) + "</b>"
    )
    kb = v.keyboard()
    n = 0
    for title, group in (
        (v._("Overdue"), plan.overdue),
        (v._("Planned"), plan.later),
    ):
        if not group:
            continue
        card.add("", f"<b>{title}</b>")
        for item in group:
            n += 1
            card.add(_interaction_line(v, n, item))
            if n <= BUTTONS:
                open_button = (
                    kb.button(f"📂 {n}", "do", item.interest_id)  # type: ignore[attr-defined]
                    if item.interest_id  # type: ignore[attr-defined]
                    else kb.button(f"👤 {n}", "co", item.client_id)  # type: ignore[attr-defined]
                )
                kb.row(kb.button(f"✓ {n}", "xd", item.id), open_button)
    if lines := _birthday_lines(v, found.clients, found.persons):
        card.add("", "<b>" + v._("Birthdays") + "</b>", *lines)
    if n == 0 and not lines:
        card.add(v._("Nothing planned for today."))
    card.markup = kb.markup()
    return card

"""Reminders are rows, not scheduler jobs: claim the due ones exactly once, deliver, mark.

A claim leases a row for a few minutes; a worker that crashes before `mark_reminded`
leaves it to be claimed again after the lease, so a restart loses no reminder."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.expressions import Q

from crm import clock
from crm.claims import claim
from crm.interactions import access_interaction
from crm.models import (
    Client,
    ContactPerson,
    Interaction,
    InteractionState,
    User,
)

LEASE = timedelta(minutes=5)


async def claim_due_reminders(
    *, now: datetime | None = None, limit: int = 100, lease: timedelta = LEASE
) -> list[Interaction]:
    """Planned interactions whose `remind_at` has come and that nobody reminded yet."""
    ids = await claim(
        "interactions",
        "state = {} AND remind_at <= {} AND reminded_at IS NULL",
        [InteractionState.PLANNED.value, now or clock.now()],
        lease_column="remind_claimed_until",
        lease=lease,
        order_by="remind_at",
        limit=limit,
        now=now,
    )
    if not ids:
        return []
    return await Interaction.filter(id__in=ids).order_by("remind_at", "id")


async def mark_reminded(ids: Iterable[int], *, now: datetime | None = None) -> None:
    await Interaction.filter(id__in=list(ids)).update(reminded_at=now or clock.now())


async def claim_overdue_nags(
    *, now: datetime | None = None, limit: int = 100, lease: timedelta = LEASE
) -> list[Interaction]:
    """Planned interactions already past their time, reminded, not yet nagged about."""
    moment = now or clock.now()
    ids = await claim(
        "interactions",
        "state = {} AND planned_at < {} AND reminded_at IS NOT NULL AND nagged_at IS NULL",
        [InteractionState.PLANNED.value, moment - timedelta(hours=1)],
        lease_column="nag_claimed_until",
        lease=lease,
        order_by="planned_at",
        limit=limit,
        now=now,
    )
    if not ids:
        return []
    return await Interaction.filter(id__in=ids).order_by("planned_at", "id")


async def mark_nagged(ids: Iterable[int], *, now: datetime | None = None) -> None:
    await Interaction.filter(id__in=list(ids)).update(nagged_at=now or clock.now())


async def snooze(interaction_id: int, until: datetime, *, actor: User) -> Interaction:
    """Remind again at `until` (the "+1 hour" and "Tomorrow" buttons)."""
    interaction = await access_interaction(actor, interaction_id)
    interaction.remind_at = until
    interaction.reminded_at = None
    interaction.remind_claimed_until = None
    await interaction.save()
    return interaction


def birthday_keys(day: date) -> list[int]:
    """Index keys (month*100+day) celebrated on `day`: 29 Feb is kept on 28 Feb in
    years without it."""
    keys = [day.month * 100 + day.day]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        keys.append(229)
    return keys


@dataclass(frozen=True)
class Birthdays:
    clients: list[Client]
    persons: list[ContactPerson]


async def birthdays_on(day: date, *, responsible_id: int | None = None) -> Birthdays:
    """Clients and key persons whose birthday falls on `day` (an index lookup on
    birthday_md); optionally only those of one responsible manager."""
    keys = birthday_keys(day)
    clients = Client.filter(birthday_md__in=keys, merged_into_id__isnull=True)
    persons = ContactPerson.filter(birthday_md__in=keys)
    if responsible_id is not None:
        clients = clients.filter(responsible_id=responsible_id)
        persons = persons.filter(client__responsible_id=responsible_id)
    return Birthdays(
        clients=await clients.order_by("name"),
        persons=await persons.order_by("name").prefetch_related("client"),
    )


async def overdue_of(user_id: int, *, now: datetime | None = None) -> list[Interaction]:
    return await Interaction.filter(
        responsible_id=user_id, state=InteractionState.PLANNED, planned_at__lt=now or clock.now()
    ).order_by("planned_at")


async def planned_between(user_id: int, start: datetime, end: datetime) -> list[Interaction]:
    return await Interaction.filter(
        Q(planned_at__gte=start) & Q(planned_at__lt=end),
        responsible_id=user_id,
        state=InteractionState.PLANNED,
    ).order_by("planned_at")

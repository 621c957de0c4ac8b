"""Reminders are rows, not scheduler jobs: claim the due ones exactly once, deliver, mark.

A claim leases a row for a few minutes; a worker that crashes before `mark_reminded`
leaves it to be claimed again after the lease, so a restart loses no reminder."""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any, NamedTuple

from tortoise import connections

from crm import clock
from crm.claims import claim_rows
from crm.interactions import access_interaction, utc
from crm.models import (
    Client,
    ClientKind,
    ContactPerson,
    Interaction,
    InteractionState,
    RelationType,
    User,
)
from crm.rows import RowReader, moment, query, split

LEASE = timedelta(minutes=5)
INTERACTION_ROWS = RowReader(Interaction)


async def claim_due_reminders(
    *, now: datetime | None = None, limit: int = 100, lease: timedelta = LEASE
) -> list[Interaction]:
    """Planned interactions whose `remind_at` has come and that nobody reminded yet."""
    rows = await claim_rows(
        "interactions",
        # 'planned' is spelled out so the partial index interactions_due_reminders
        # (crm/sql_indexes.py) matches; a bound parameter would hide it from the planner.
        "state = 'planned' AND remind_at <= {} AND reminded_at IS NULL",
        [now or clock.now()],
        columns=INTERACTION_ROWS.columns,
        lease_column="remind_claimed_until",
        lease=lease,
        order_by="remind_at",
        limit=limit,
        now=now,
    )
    return sorted(INTERACTION_ROWS.models(rows), key=attrgetter("remind_at", "id"))


async def mark_reminded(ids: Iterable[int], *, now: datetime | None = None) -> None:
    await Interaction.filter(id__in=list(ids)).update(reminded_at=utc(now or clock.now()))


async def claim_overdue_nags(
    *, now: datetime | None = None, limit: int = 100, lease: timedelta = LEASE
) -> list[Interaction]:
    """Planned interactions already past their time, reminded, not yet nagged about."""
    moment = now or clock.now()
    rows = await claim_rows(
        "interactions",
        # literal 'planned': see claim_due_reminders (index interactions_due_nags)
        "state = 'planned' AND planned_at < {} AND reminded_at IS NOT NULL AND nagged_at IS NULL",
        [moment - timedelta(hours=1)],
        columns=INTERACTION_ROWS.columns,
        lease_column="nag_claimed_until",
        lease=lease,
        order_by="planned_at",
        limit=limit,
        now=now,
    )
    return sorted(INTERACTION_ROWS.models(rows), key=attrgetter("planned_at", "id"))


async def mark_nagged(ids: Iterable[int], *, now: datetime | None = None) -> None:
    await Interaction.filter(id__in=list(ids)).update(nagged_at=utc(now or clock.now()))


async def snooze(interaction_id: int, until: datetime, *, actor: User) -> Interaction:
    """Remind again at `until` (the "+1 hour" and "Tomorrow" buttons)."""
    interaction = await access_interaction(actor, interaction_id)
    interaction.remind_at = utc(until)
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


class BirthdayClient(NamedTuple):
    """A client whose birthday it is: the columns of `Client` under the model's attribute
    names, values converted as the model converts them. Read-only and without relations;
    `Client.get(id=...)` gives the model when one is needed."""

    id: int
    kind: ClientKind
    name: str
    legal_name: str
    inn: str | None
    kpp: str | None
    org_form: str
    birthday: date | None
    birthday_md: int | None
    region: str
    timezone: str | None
    relation_type: RelationType
    responsible_id: int | None
    is_lead: bool
    lead_source: str
    note: str
    merged_into_id: int | None
    last_contact_at: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def pk(self) -> int:
        return self.id

    def __str__(self) -> str:
        return self.name


class BirthdayPerson(NamedTuple):
    """A key person whose birthday it is: the columns of `ContactPerson`, and `client`,
    the person's client as a `BirthdayClient` (what `prefetch_related("client")` gave)."""

    id: int
    client_id: int
    name: str
    role: str
    phone: str | None
    email: str | None
    birthday: date | None
    birthday_md: int | None
    created_at: datetime
    updated_at: datetime
    client: BirthdayClient

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True)
class Birthdays:
    clients: list[BirthdayClient]
    persons: list[BirthdayPerson]


_CLIENT_ROWS = RowReader(Client, BirthdayClient._fields)
_PERSON_ROWS = RowReader(ContactPerson, BirthdayPerson._fields[:-1])  # all but `client`


async def birthdays_on(day: date, *, responsible_id: int | None = None) -> Birthdays:
    """Clients and key persons whose birthday falls on `day` (an index lookup on
    birthday_md), each list by name; optionally only those of one responsible manager.

    Read-only records rather than models: a day holds thousands of birthdays on a big
    base, and building full models cost twice the query itself."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    days = birthday_keys(day)
    params: list[object] = [*days] if responsible_id is None else [*days, responsible_id]
    marks = [f"${i}" if postgres else "?" for i in range(1, len(params) + 1)]
    keys = ", ".join(marks[: len(days)])
    mine = f" AND c.responsible_id = {marks[-1]}" if responsible_id is not None else ""
    # independent reads: side by side on two pooled connections (in turn in a transaction)
    (_, clients), (_, persons) = await asyncio.gather(
        conn.execute_query(
            f"SELECT {_CLIENT_ROWS.select_list('c')} FROM clients c"
            f" WHERE c.birthday_md IN ({keys}) AND c.merged_into_id IS NULL{mine}"
            " ORDER BY c.name, c.id",
            params,
        ),
        conn.execute_query(
            f"SELECT {_PERSON_ROWS.select_list('p')}, {_CLIENT_ROWS.select_list('c')}"
            " FROM contact_persons p JOIN clients c ON c.id = p.client_id"
            f" WHERE p.birthday_md IN ({keys}){mine} ORDER BY p.name, p.id",
            params,
        ),
    )
    return Birthdays(
        clients=_CLIENT_ROWS.records(clients, BirthdayClient._make),
        persons=_birthday_persons(persons),
    )


def _birthday_persons(rows: Iterable[Sequence[Any]]) -> list[BirthdayPerson]:
    """Records from rows of the person's columns followed by the client's."""
    person_plan, client_plan = _PERSON_ROWS.plan(), _CLIENT_ROWS.plan()
    split = len(person_plan.columns)
    persons = []
    for row in rows:
        values = tuple(row)
        client = BirthdayClient._make(_CLIENT_ROWS.values(values[split:], client_plan))
        person = _PERSON_ROWS.values(values[:split], person_plan)
        persons.append(BirthdayPerson._make([*person, client]))
    return persons


async def overdue_of(user_id: int, *, now: datetime | None = None) -> list[Interaction]:
    """Every overdue planned interaction of `user_id`, soonest first (a model each: for a
    count and the first few, `overdue_head` reads a fixed amount)."""
    return await Interaction.filter(
        responsible_id=user_id,
        state=InteractionState.PLANNED,
        planned_at__lt=utc(now or clock.now()),
    ).order_by("planned_at", "id")


async def overdue_interests(
    interest_ids: Iterable[int], *, now: datetime | None = None
) -> set[int]:
    """Which of these interests have a planned interaction overdue at `now` (one query)."""
    return await _overdue("interest_id", interest_ids, now)


async def overdue_clients(client_ids: Iterable[int], *, now: datetime | None = None) -> set[int]:
    """Which of these clients have a planned interaction overdue at `now` (one query)."""
    return await _overdue("client_id", client_ids, now)


async def _overdue(column: str, ids: Iterable[int], now: datetime | None) -> set[int]:
    wanted = list(ids)
    if not wanted:
        return set()
    found = await Interaction.filter(
        **{f"{column}__in": wanted},
        state=InteractionState.PLANNED,
        planned_at__lt=utc(now or clock.now()),
    ).values_list(column, flat=True)
    return {int(str(i)) for i in found if i is not None}


_PLAN_CLIENT_ROWS = RowReader(Client)
# Nothing of a closed deal nags: its kept plans stay in its feed, out of /today and the
# digest (a lookup by primary key per row shown, no round trip of its own).
OF_OPEN_DEALS = (
    " AND NOT EXISTS (SELECT 1 FROM interests d WHERE d.id = {alias}interest_id"
    " AND d.status <> 'open')"
)


def _planned_part(condition: str, limit: str, name: str, extra: str = "") -> str:
    """One manager's ($1) planned interactions matching `condition`, each joined with its
    client, soonest first, stopped at `limit`: an index range scan on (responsible_id,
    state, planned_at). `extra` adds columns after the client's."""
    columns = f"{INTERACTION_ROWS.select_list('i')}, {_PLAN_CLIENT_ROWS.select_list('c')}"
    return (
        f"SELECT * FROM (SELECT {columns}{extra}"
        " FROM interactions i JOIN clients c ON c.id = i.client_id"
        # literal 'planned': the planner then knows which rows the state selects
        f" WHERE i.responsible_id = $1 AND i.state = 'planned' AND {condition}"
        f"{OF_OPEN_DEALS.format(alias='i.')}"
        f" ORDER BY i.planned_at, i.id LIMIT {limit}) {name}"
    )


def _with_clients(rows: Iterable[Sequence[Any]]) -> list[Interaction]:
    """Interactions from rows of `_planned_part`, each with its `client`, in row order."""
    parts = [split(row, INTERACTION_ROWS, _PLAN_CLIENT_ROWS) for row in rows]
    found = INTERACTION_ROWS.models(p[0] for p in parts)
    for interaction, client in zip(
        found, _PLAN_CLIENT_ROWS.models(p[1] for p in parts), strict=True
    ):
        interaction.client = client
    return found


class Overdue(NamedTuple):
    """A manager's overdue planned interactions as the morning digest shows them."""

    total: int  # how many there are
    first: list[Interaction]  # the first `limit` of them, soonest first, with their clients


async def overdue_head(user_id: int, now: datetime, *, limit: int) -> Overdue:
    """How many planned interactions of `user_id` are overdue at `now`, and the first
    `limit` of them with their clients: one query whatever their number (the count is an
    index-only scan; only the rows shown are read and built)."""
    count = (
        ", (SELECT COUNT(*) FROM interactions n WHERE n.responsible_id = $1"
        f" AND n.state = 'planned' AND n.planned_at < $2{OF_OPEN_DEALS.format(alias='n.')})"
    )
    # at least one row, so that the count comes back even when none is to be shown
    sql = _planned_part("i.planned_at < $2", "$3", "overdue", count)
    rows = await query(sql, [user_id, moment(now), max(1, limit)])
    total = int(split(rows[0], INTERACTION_ROWS, _PLAN_CLIENT_ROWS)[-1][0]) if rows else 0
    return Overdue(total=total, first=_with_clients(rows)[: max(0, limit)])


class DayPlan(NamedTuple):
    """A manager's planned interactions as `/today` shows them, each with its client."""

    overdue: list[Interaction]  # planned before `now`, soonest first
    later: list[Interaction]  # planned from `now` until the day's end, soonest first


async def day_plan(user_id: int, now: datetime, end: datetime, *, limit: int) -> DayPlan:
    """The first `limit` planned interactions of `user_id` already overdue at `now` and
    the first `limit` of those from `now` until `end`, their clients loaded: one query
    (two index range scans stopped at the limit) instead of one per part and per
    client list."""
    sql = " UNION ALL ".join(
        (
            _planned_part("i.planned_at < $2", "$4", "overdue"),
            _planned_part("i.planned_at >= $2 AND i.planned_at < $3", "$4", "later"),
        )
    )
    params = [user_id, moment(now), moment(end), max(0, limit)]
    found = _with_clients(await query(sql, params))
    # UNION ALL keeps no order by itself: each part in its order again (few rows)
    found.sort(key=attrgetter("planned_at", "id"))
    return DayPlan(
        overdue=[i for i in found if i.planned_at < now],  # type: ignore[operator]
        later=[i for i in found if i.planned_at >= now],  # type: ignore[operator]
    )

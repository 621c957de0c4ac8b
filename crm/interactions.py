"""Interactions: plan, complete (and plan the next), cancel and restore; the interest feed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.transactions import in_transaction

from crm import clock, last_contact
from crm.access import access_client, access_interest, sees_all_clients
from crm.company import get_company
from crm.errors import Conflict, NextStepRequired, NotFound, ValidationFailed
from crm.i18n import N_
from crm.models import (
    Interaction,
    InteractionKind,
    InteractionState,
    Interest,
    InterestStatus,
    Scenario,
    User,
)
from crm.rows import RowReader

_ROWS = RowReader(Interaction)


@dataclass(frozen=True)
class Plan:
    """What to plan: the next interaction."""

    kind: InteractionKind | str
    planned_at: datetime
    subject: str = ""
    content: str = ""
    responsible_id: int | None = None


def _kind(value: InteractionKind | str) -> InteractionKind:
    try:
        return InteractionKind(value)
    except ValueError:
        raise ValidationFailed.field("kind", N_("Unknown kind of interaction")) from None


def utc(moment: datetime) -> datetime:
    """`moment` (aware) in UTC. Every moment stored or bound in SQL is UTC: on SQLite
    tortoise keeps datetimes as ISO text and compares them as text, so `14:00+03:00` would
    sort after `11:30+00:00`. The models' datetime fields (`crm.models.base`) convert what
    tortoise writes or binds; this is for moments bound in raw SQL."""
    return moment.astimezone(UTC)


# Planned moments outside these years are typing mistakes; near the ends of what datetime
# holds, the reminder (planned_at minus the lead) and time zone shifts would overflow.
PLAN_YEARS = (1900, 2200)


def same_time_tomorrow(moment: datetime, tz: str, now: datetime | None = None) -> datetime | None:
    """For a planned moment already past (a minute's grace), the same time of day tomorrow
    in `tz` (what to offer instead: its reminder would go off at once); None when it is
    not past."""
    now = now or clock.now()
    if moment >= now - timedelta(minutes=1):
        return None
    zone = ZoneInfo(tz)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, moment.astimezone(zone).time(), zone).astimezone(UTC)


def _check_moment(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValidationFailed.field("planned_at", N_("A time zone is required"))
    if not PLAN_YEARS[0] <= moment.year <= PLAN_YEARS[1]:
        raise ValidationFailed.field("planned_at", N_("Out of range"))


async def _check_responsible(user_id: object) -> None:
    """The one the plan names as responsible is an active user."""
    if user_id is None:
        return
    if (
        not isinstance(user_id, int)
        or isinstance(user_id, bool)
        or not 0 < user_id < 2**31
        or not await User.filter(id=user_id, is_active=True).exists()
    ):
        raise ValidationFailed.field("responsible_id", N_("Unknown user"))


async def _check_plan(plan: Plan, interest: Interest | None) -> None:
    _check_moment(plan.planned_at)
    if len(plan.subject) > 300:
        raise ValidationFailed.field("subject", N_("Too long"))
    await _check_responsible(plan.responsible_id)
    if interest is not None and plan.planned_at < clock.now() - timedelta(minutes=1):
        scenario = await Scenario.get(id=interest.scenario_id)  # type: ignore[attr-defined]
        if not scenario.allow_past_planning:
            raise ValidationFailed.field(
                "planned_at", N_("This scenario does not allow planning in the past")
            )


async def _create_planned(
    plan: Plan, *, client_id: int, interest: Interest | None, actor: User | None
) -> Interaction:
    kind = _kind(plan.kind)
    await _check_plan(plan, interest)
    lead = (await get_company()).reminder_lead_minutes
    planned_at = utc(plan.planned_at)
    responsible_id = (
        plan.responsible_id
        or (
            interest.responsible_id if interest else None  # type: ignore[attr-defined]
        )
        or (actor.id if actor else None)
    )
    return await Interaction.create(
        client_id=client_id,
        interest=interest,
        responsible_id=responsible_id,
        kind=kind,
        subject=plan.subject.strip(),
        content=plan.content.strip(),
        state=InteractionState.PLANNED,
        planned_at=planned_at,
        sort_at=planned_at,
        remind_at=planned_at - timedelta(minutes=lead),
    )


async def plan_interaction(
    plan: Plan, *, actor: User, client_id: int | None = None, interest_id: int | None = None
) -> Interaction:
    """Plan an interaction with a client, or within one of its interests."""
    interest = await access_interest(actor, interest_id) if interest_id else None
    if interest is not None:
        client_id = interest.client_id  # type: ignore[attr-defined]
    elif client_id is not None:
        await access_client(actor, client_id)
    else:
        raise ValidationFailed.field("client_id", N_("Required"))
    assert client_id is not None
    return await _create_planned(plan, client_id=client_id, interest=interest, actor=actor)


async def record_done(
    *,
    actor: User | None,
    kind: InteractionKind | str,
    client_id: int,
    interest_id: int | None = None,
    subject: str = "",
    content: str = "",
    at: datetime | None = None,
    message_id: int | None = None,
) -> Interaction:
    """Record something that already happened (a note, an incoming message, a call)."""
    if actor is not None:
        if interest_id:
            await access_interest(actor, interest_id)
        else:
            await access_client(actor, client_id)
    moment = utc(at or clock.now())
    async with last_contact.atomic():
        done = await Interaction.create(
            client_id=client_id,
            interest_id=interest_id,
            responsible_id=actor.id if actor else None,
            kind=_kind(kind),
            subject=subject.strip()[:300],
            content=content,
            state=InteractionState.DONE,
            done_at=moment,
            sort_at=moment,
            message_id=message_id,
        )
        await last_contact.advance({client_id: moment})
    return done


async def add_to_note(interaction_id: int, more: str, *, actor: User) -> Interaction:
    """Append `more` to a note (its next part: Telegram splits a long message in two)."""
    note = await access_interaction(actor, interaction_id)
    if note.kind != InteractionKind.NOTE or note.state != InteractionState.DONE:
        raise Conflict(N_("Only a note can be continued"))
    if more.strip():
        note.content = f"{note.content}\n{more.strip()}"
        await note.save(update_fields=["content", "updated_at"])
    return note


async def access_interaction(actor: User, interaction_id: int) -> Interaction:
    interaction = await Interaction.filter(id=interaction_id).first()
    if interaction is None:
        raise NotFound()
    if interaction.responsible_id == actor.id:  # type: ignore[attr-defined]
        return interaction
    if interaction.interest_id:  # type: ignore[attr-defined]
        await access_interest(actor, interaction.interest_id)  # type: ignore[attr-defined]
    else:
        await access_client(actor, interaction.client_id)  # type: ignore[attr-defined]
    return interaction


async def requires_next_step(interest: Interest) -> bool:
    if interest.status != InterestStatus.OPEN:
        return False
    scenario = await Scenario.get(id=interest.scenario_id)  # type: ignore[attr-defined]
    return scenario.require_next_step


async def has_planned(interest_id: int) -> bool:
    return await Interaction.filter(
        interest_id=interest_id, state=InteractionState.PLANNED
    ).exists()


async def complete_interaction(
    interaction_id: int, *, actor: User, result: str = "", next_plan: Plan | None = None
) -> tuple[Interaction, Interaction | None]:
    """Mark a planned interaction done, and plan the next one in the same transaction.

    Refused with NextStepRequired when the scenario requires a planned next step and this
    was the last one and no `next_plan` is given."""
    interaction = await access_interaction(actor, interaction_id)
    if interaction.state != InteractionState.PLANNED:
        raise Conflict(N_("Only a planned interaction can be completed"))
    interest = (
        await Interest.get(id=interaction.interest_id)  # type: ignore[attr-defined]
        if interaction.interest_id  # type: ignore[attr-defined]
        else None
    )
    async with in_transaction():
        now = utc(clock.now())
        interaction.state = InteractionState.DONE
        interaction.done_at = now
        interaction.sort_at = now
        if result.strip():
            interaction.content = (interaction.content + "\n\n" + result.strip()).strip()
        await interaction.save()
        await last_contact.advance({interaction.client_id: now})  # type: ignore[attr-defined]
        planned = None
        if next_plan is not None:
            planned = await _create_planned(
                next_plan,
                client_id=interaction.client_id,  # type: ignore[attr-defined]
                interest=interest,
                actor=actor,
            )
        if (
            interest is not None
            and await requires_next_step(interest)
            and not await has_planned(interest.id)
        ):
            raise NextStepRequired()
    return interaction, planned


async def cancel_interaction(interaction_id: int, *, actor: User) -> Interaction:
    """Soft delete: the interaction stays in the feed as cancelled and can be restored."""
    interaction = await access_interaction(actor, interaction_id)
    if interaction.state == InteractionState.CANCELLED:
        return interaction
    was_done = interaction.state == InteractionState.DONE
    async with in_transaction():
        interaction.state = InteractionState.CANCELLED
        await interaction.save(update_fields=["state", "updated_at"])
        if was_done:  # it may have been the last contact
            await last_contact.recompute([interaction.client_id])  # type: ignore[attr-defined]
    return interaction


async def restore_interaction(interaction_id: int, *, actor: User) -> Interaction:
    """Bring a cancelled interaction back to planned (or done, if it had been done)."""
    interaction = await access_interaction(actor, interaction_id)
    if interaction.state != InteractionState.CANCELLED:
        raise Conflict(N_("Only a cancelled interaction can be restored"))
    interaction.state = InteractionState.DONE if interaction.done_at else InteractionState.PLANNED
    async with in_transaction():
        await interaction.save(update_fields=["state", "updated_at"])
        if interaction.state == InteractionState.DONE:
            await last_contact.advance(
                {interaction.client_id: interaction.sort_at}  # type: ignore[attr-defined]
            )
    return interaction


async def reschedule(interaction_id: int, planned_at: datetime, *, actor: User) -> Interaction:
    """Move a planned interaction; its reminder is armed again."""
    interaction = await access_interaction(actor, interaction_id)
    if interaction.state != InteractionState.PLANNED:
        raise Conflict(N_("Only a planned interaction can be moved"))
    _check_moment(planned_at)
    planned_at = utc(planned_at)
    lead = (await get_company()).reminder_lead_minutes
    interaction.planned_at = planned_at
    interaction.sort_at = planned_at
    interaction.remind_at = max(planned_at - timedelta(minutes=lead), clock.now())
    interaction.reminded_at = None
    interaction.nagged_at = None
    await interaction.save()
    return interaction


async def feed(
    *,
    interest_id: int | None = None,
    client_id: int | None = None,
    kinds: Iterable[InteractionKind | str] = (),
    limit: int = 50,
) -> list[Interaction]:
    """The feed: planned first (soonest first), then done and cancelled (newest first).

    Pass `interest_id` for one interest, or `client_id` for the whole client history
    (all its interests and client-level interactions). Rights are the caller's check."""
    if interest_id is not None:
        column, key = "interest_id", interest_id
    elif client_id is not None:
        column, key = "client_id", client_id
    else:
        raise ValidationFailed.field("interest_id", N_("Required"))
    kind_list = [_kind(k) for k in kinds]
    conn = connections.get("default")
    sql = _feed_sql(column, len(kind_list), postgres=conn.capabilities.dialect == "postgres")
    _, rows = await conn.execute_query(sql, [key, max(0, limit), *(k.value for k in kind_list)])
    found = _ROWS.models(rows)
    # UNION ALL keeps no order by itself: put each part in its order again (cheap, few rows)
    planned = sorted(
        (i for i in found if i.state == InteractionState.PLANNED), key=lambda i: (i.sort_at, i.id)
    )
    rest = sorted(
        (i for i in found if i.state != InteractionState.PLANNED),
        key=lambda i: (i.sort_at, i.id),
        reverse=True,
    )
    return [*planned, *rest][: max(0, limit)]


def _feed_sql(column: str, kinds: int, *, postgres: bool) -> str:
    """One round trip for the feed: the planned part and the rest, each an index range
    scan on (<column>, state, sort_at) stopped at the limit. The states are literals (not
    input) so that the planner sees which part of the index each scan reads. Parameters:
    the key, the limit, then the kinds."""
    marks = [f"${i}" if postgres else f"?{i}" for i in range(1, kinds + 3)]
    of_kind = f" AND kind IN ({', '.join(marks[2:])})" if kinds else ""
    columns = _ROWS.select_list()
    return (
        f"SELECT * FROM (SELECT {columns} FROM interactions"
        f" WHERE {column} = {marks[0]} AND state = 'planned'{of_kind}"
        f" ORDER BY sort_at, id LIMIT {marks[1]}) planned"
        f" UNION ALL SELECT * FROM (SELECT {columns} FROM interactions"
        f" WHERE {column} = {marks[0]} AND state IN ('done', 'cancelled'){of_kind}"
        f" ORDER BY sort_at DESC, id DESC LIMIT {marks[1]}) rest"
    )


async def interest_feed(
    interest_id: int,
    *,
    actor: User,
    kinds: Iterable[InteractionKind | str] = (),
    whole_client: bool = False,
    limit: int = 50,
) -> list[Interaction]:
    """The feed of an interest the actor may see (or of its whole client); NotFound if
    the actor may not see it."""
    if whole_client or not await sees_all_clients(actor):
        interest = await access_interest(actor, interest_id)
        if whole_client:
            return await feed(client_id=interest.client_id, kinds=kinds, limit=limit)  # type: ignore[attr-defined]
        return await feed(interest_id=interest_id, kinds=kinds, limit=limit)
    # The actor sees every interest (crm.access.interest_filter restricts nothing then), so
    # the only question is whether this one exists: rows in its feed say it does; only an
    # empty feed needs a look, which raises NotFound for a missing interest.
    try:
        found = await feed(interest_id=interest_id, kinds=kinds, limit=limit)
    except ValidationFailed:
        await access_interest(actor, interest_id)  # NotFound comes first, as for everyone
        raise
    if not found:
        await access_interest(actor, interest_id)
    return found

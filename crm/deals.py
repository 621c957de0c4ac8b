"""Interests (deals): create, move through stages, win or lose; every change recorded."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.transactions import in_transaction

from crm import clock
from crm.access import access_client, access_interest
from crm.errors import Conflict, NextStepRequired, NotFound, ValidationFailed
from crm.history import record_changes
from crm.i18n import N_
from crm.interactions import Plan, has_planned, plan_interaction, requires_next_step
from crm.models import (
    Client,
    Interaction,
    InteractionState,
    Interest,
    InterestStatus,
    Reason,
    ReasonKind,
    Scenario,
    Stage,
    StageChange,
    User,
)
from crm.rows import RowReader, query, split
from crm.scenarios import default_scenario, stages_of

CARD = ("title", "amount", "currency", "responsible_id", "stage_id", "status", "loss_reason_id")


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValidationFailed.field("amount", N_("Not an amount of money")) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e14"):
        raise ValidationFailed.field("amount", N_("Not an amount of money"))
    return amount.quantize(Decimal("0.01"))


def _card(interest: Interest) -> dict[str, Any]:
    return {name: getattr(interest, name) for name in CARD}


async def create_interest(
    *,
    actor: User,
    client_id: int,
    title: str,
    scenario_id: int | None = None,
    amount: Any = None,
    responsible_id: int | None = None,
    source: str = "",
) -> Interest:
    """Open an interest of a visible client at the first stage of the scenario."""
    client = await access_client(actor, client_id)
    if not title.strip():
        raise ValidationFailed.field("title", N_("Required"))
    scenario = (
        await Scenario.filter(id=scenario_id, is_active=True).first()
        if scenario_id
        else await default_scenario()
    )
    if scenario is None:
        raise ValidationFailed.field("scenario_id", N_("Create a sales scenario first"))
    stages = await stages_of(scenario.id)
    if responsible_id and not await User.filter(id=responsible_id, is_active=True).exists():
        raise ValidationFailed.field("responsible_id", N_("Unknown user"))
    async with in_transaction():
        interest = await Interest.create(
            client=client,
            title=title.strip()[:300],
            scenario=scenario,
            stage=stages[0],
            responsible_id=responsible_id or actor.id,
            amount=_amount(amount),
            source=source,
        )
        await StageChange.create(
            interest=interest, from_stage=None, to_stage=stages[0], actor=actor
        )
        await record_changes("interest", interest.id, {}, _card(interest), actor=actor)
    return interest


async def move_stage(interest_id: int, stage_id: int, *, actor: User) -> Interest:
    """Move an open interest to another stage of its scenario (recorded; robots follow).

    Refused with NextStepRequired while the scenario requires a planned next interaction
    and none is planned."""
    interest = await access_interest(actor, interest_id)
    if interest.status != InterestStatus.OPEN:
        raise Conflict(N_("The interest is closed"))
    stage = await Stage.filter(id=stage_id, scenario_id=interest.scenario_id).first()  # type: ignore[attr-defined]
    if stage is None:
        raise ValidationFailed.field("stage_id", N_("This stage is not in the interest's scenario"))
    if stage.id == interest.stage_id:  # type: ignore[attr-defined]
        return interest
    if await requires_next_step(interest) and not await has_planned(interest.id):
        raise NextStepRequired()
    async with in_transaction():
        before = _card(interest)
        previous = interest.stage_id  # type: ignore[attr-defined]
        interest.stage = stage
        await interest.save()
        await StageChange.create(
            interest=interest, from_stage_id=previous, to_stage=stage, actor=actor
        )
        await record_changes("interest", interest.id, before, _card(interest), actor=actor)
    return interest


async def next_stage(interest_id: int, *, actor: User) -> Interest:
    interest = await access_interest(actor, interest_id)
    stages = await stages_of(interest.scenario_id)  # type: ignore[attr-defined]
    ids = [s.id for s in stages]
    index = ids.index(interest.stage_id)  # type: ignore[attr-defined]
    if index + 1 >= len(ids):
        raise Conflict(N_("This is the last stage: mark the interest won or lost"))
    return await move_stage(interest_id, ids[index + 1], actor=actor)


async def win(interest_id: int, *, actor: User, cancel_planned: bool = False) -> Interest:
    """Close the interest as won; its planned interactions are kept unless
    `cancel_planned` (kept ones stay in the feed but no longer remind or nag)."""
    return await _close(interest_id, InterestStatus.WON, None, actor, cancel_planned)


async def lose(
    interest_id: int, reason_id: int | None, *, actor: User, cancel_planned: bool = True
) -> Interest:
    """Close the interest as lost with a reason (without one, `None`, only while the list
    is empty); its planned interactions are cancelled unless `cancel_planned` is False."""
    reason = (
        await Reason.filter(id=reason_id, kind=ReasonKind.LOSS, is_active=True).first()
        if reason_id is not None
        else None
    )
    if reason is None and (
        reason_id is not None or await Reason.filter(kind=ReasonKind.LOSS, is_active=True).exists()
    ):
        raise ValidationFailed.field("loss_reason_id", N_("Choose a reason from the list"))
    return await _close(interest_id, InterestStatus.LOST, reason, actor, cancel_planned)


async def planned_count(interest_id: int) -> int:
    """How many interactions of the interest are still planned (closing asks about them)."""
    return await Interaction.filter(interest_id=interest_id, state=InteractionState.PLANNED).count()


async def _close(
    interest_id: int,
    status: InterestStatus,
    reason: Reason | None,
    actor: User,
    cancel_planned: bool,
) -> Interest:
    interest = await access_interest(actor, interest_id)
    if interest.status != InterestStatus.OPEN:
        raise Conflict(N_("The interest is closed"))
    async with in_transaction():
        before = _card(interest)
        interest.status = status
        interest.loss_reason = reason
        interest.closed_at = clock.now()
        await interest.save()
        await record_changes("interest", interest.id, before, _card(interest), actor=actor)
        if cancel_planned:
            await Interaction.filter(
                interest_id=interest.id, state=InteractionState.PLANNED
            ).update(state=InteractionState.CANCELLED, updated_at=clock.now())
    return interest


async def reopen(interest_id: int, *, actor: User) -> Interest:
    interest = await access_interest(actor, interest_id)
    if interest.status == InterestStatus.OPEN:
        return interest
    async with in_transaction():
        before = _card(interest)
        interest.status = InterestStatus.OPEN
        interest.loss_reason = None
        interest.closed_at = None
        await interest.save()
        await record_changes("interest", interest.id, before, _card(interest), actor=actor)
    return interest


async def update_interest(interest_id: int, changes: Mapping[str, Any], *, actor: User) -> Interest:
    """Change title, amount, currency or responsible."""
    interest = await access_interest(actor, interest_id)
    allowed = {"title", "amount", "currency", "responsible_id"}
    if set(changes) - allowed:
        raise ValidationFailed(
            fields={k: N_("This cannot be changed") for k in sorted(set(changes) - allowed)}
        )
    data = dict(changes)
    if "title" in data:
        if not str(data["title"]).strip():
            raise ValidationFailed.field("title", N_("Required"))
        data["title"] = str(data["title"]).strip()[:300]
    if "amount" in data:
        data["amount"] = _amount(data["amount"])
    if "currency" in data:
        currency = str(data["currency"]).upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationFailed.field("currency", N_("Unknown currency"))
        data["currency"] = currency
    if (
        data.get("responsible_id") is not None
        and not await User.filter(id=data["responsible_id"], is_active=True).exists()
    ):
        raise ValidationFailed.field("responsible_id", N_("Unknown user"))
    async with in_transaction():
        before = _card(interest)
        interest.update_from_dict(data)
        await interest.save()
        await record_changes("interest", interest.id, before, _card(interest), actor=actor)
    return interest


async def get_interest(interest_id: int) -> Interest:
    interest = await Interest.filter(id=interest_id).first()
    if interest is None:
        raise NotFound()
    return interest


_MINE = RowReader(Interest)
_MINE_CLIENTS = RowReader(Client, ("id", "name"))
_MINE_STAGES = RowReader(Stage, ("id", "name", "position"))


async def open_interests_of(actor: User) -> list[Interest]:
    """The actor's open interests, by stage order, for "My sales"; each with `client` (id
    and name only) and `stage` (id, name, position). One read in SQL: the bot's /deals."""
    rows = await query(
        f"SELECT {_MINE.select_list('i')}, {_MINE_CLIENTS.select_list('c')}, "
        f"{_MINE_STAGES.select_list('s')} FROM interests i "
        "JOIN clients c ON c.id = i.client_id JOIN stages s ON s.id = i.stage_id "
        f"WHERE i.responsible_id = $1 AND i.status = '{InterestStatus.OPEN.value}' "
        "ORDER BY i.scenario_id, s.position, i.updated_at DESC, i.id",
        [actor.id],
    )
    parts = [split(row, _MINE, _MINE_CLIENTS, _MINE_STAGES) for row in rows]
    interests = _MINE.models(p[0] for p in parts)
    clients = _MINE_CLIENTS.models(p[1] for p in parts)
    stages = _MINE_STAGES.models(p[2] for p in parts)
    for interest, client, stage in zip(interests, clients, stages, strict=True):
        interest.client, interest.stage = client, stage
    return interests


async def move_with_plan(
    interest_id: int, stage_id: int, plan: Plan, *, actor: User
) -> tuple[Interest, Interaction]:
    """Plan the deal's next interaction and move it to `stage_id`, in one transaction: what
    a move refused with NextStepRequired asks for (the web's deal page and board). A move
    that would be refused anyway (a closed deal, a stage of another scenario) plans
    nothing."""
    interest = await access_interest(actor, interest_id)
    if interest.status != InterestStatus.OPEN:
        raise Conflict(N_("The interest is closed"))
    if not await Stage.filter(id=stage_id, scenario_id=interest.scenario_id).exists():  # type: ignore[attr-defined]
        raise ValidationFailed.field("stage_id", N_("This stage is not in the interest's scenario"))
    async with in_transaction():
        planned = await plan_interaction(plan, actor=actor, interest_id=interest.id)
        moved = await move_stage(interest.id, stage_id, actor=actor)
    return moved, planned

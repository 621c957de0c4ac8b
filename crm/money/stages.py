"""Stages marked for money (`Stage.mark`): issuing an invoice takes an open interest to its
scenario's "invoice" stage, and paying its invoices in full to the "paid" stage, each only
forward (an interest already past the marked stage stays). The move is recorded as any
move (a `StageChange`, the change history), so the stage's robots run on it
(inbox.robots): this is the money trigger of a stage robot. The scenario's "next step
required" rule does not hold the move back: the client paid, whatever is planned."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.history import record_changes
from crm.i18n import N_
from crm.models import (
    Interest,
    InterestStatus,
    Invoice,
    Stage,
    StageChange,
    StageMark,
    User,
)
from crm.scenarios import stages_of


async def after_invoice(interest: Interest, *, actor: User | None) -> None:
    await _move_to(interest, StageMark.INVOICE, actor)


async def after_full_payment(interest: Interest, *, actor: User | None) -> None:
    """Called when an invoice got paid in full: moves once every invoice of the interest is."""
    for amount, paid in await Invoice.filter(interest_id=interest.id).values_list("amount", "paid"):
        if paid < amount:
            return
    await _move_to(interest, StageMark.PAID, actor)


async def _move_to(interest: Interest, mark: StageMark, actor: User | None) -> None:
    if interest.status != InterestStatus.OPEN:
        return
    stages = await stages_of(interest.scenario_id)  # type: ignore[attr-defined]
    target = next((s for s in stages if s.mark == mark), None)
    current = next((s for s in stages if s.id == interest.stage_id), None)  # type: ignore[attr-defined]
    if target is None or current is None or target.position <= current.position:
        return
    async with in_transaction():
        moved = await Interest.filter(
            id=interest.id,
            stage_id=current.id,
            status=InterestStatus.OPEN,
        ).update(stage_id=target.id)
        if not moved:
            return  # moved meanwhile: that move stands
        await StageChange.create(
            interest_id=interest.id, from_stage_id=current.id, to_stage_id=target.id, actor=actor
        )
        await record_changes(
            "interest", interest.id, {"stage_id": current.id}, {"stage_id": target.id}, actor=actor
        )
    interest.stage_id = target.id


async def mark_stage(stage_id: int, mark: StageMark | str, *, actor: User | None) -> Stage:
    """Mark a stage "invoice" or "paid" (or clear it, ""); the mark leaves the scenario's
    other stage that had it."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()
    try:
        chosen = StageMark(mark)
    except ValueError:
        raise ValidationFailed.field("mark", N_("Unknown choice")) from None
    stage = await Stage.filter(id=stage_id).first()
    if stage is None:
        raise NotFound()
    async with in_transaction():
        if chosen != StageMark.NONE:
            await Stage.filter(
                scenario_id=stage.scenario_id,  # type: ignore[attr-defined]
                mark=chosen,
            ).update(mark=StageMark.NONE)
        stage.mark = chosen
        await stage.save(update_fields=["mark", "updated_at"])
    return stage

"""Handing a leaving manager's work to another: clients, open interests, planned
interactions, in one transaction, with the change recorded on every card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from tortoise.transactions import in_transaction

from crm import clock
from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.history import change_rows
from crm.i18n import N_
from crm.models import (
    ChangeRecord,
    Client,
    Interaction,
    InteractionState,
    Interest,
    InterestStatus,
    User,
)


@dataclass(frozen=True)
class Handover:
    clients: int
    interests: int
    interactions: int


async def hand_over(from_user_id: int, to_user_id: int, *, actor: User | None) -> Handover:
    """Make `to_user_id` responsible for everything `from_user_id` is responsible for and
    still open. Admins only (None = the system)."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()
    if from_user_id == to_user_id:
        raise ValidationFailed.field("to_user_id", N_("Choose another user"))
    if not await User.filter(id=from_user_id).exists():
        raise NotFound()
    if not await User.filter(id=to_user_id, is_active=True).exists():
        raise ValidationFailed.field("to_user_id", N_("Unknown user"))
    now = clock.now()
    async with in_transaction():
        client_ids = cast(
            list[int],
            await Client.filter(responsible_id=from_user_id).values_list("id", flat=True),
        )
        interest_ids = cast(
            list[int],
            await Interest.filter(
                responsible_id=from_user_id, status=InterestStatus.OPEN
            ).values_list("id", flat=True),
        )
        history: list[ChangeRecord] = []
        old, new = {"responsible_id": from_user_id}, {"responsible_id": to_user_id}
        for client_id in client_ids:
            history += change_rows("client", client_id, old, new, actor=actor)
        for interest_id in interest_ids:
            history += change_rows("interest", interest_id, old, new, actor=actor)
        if client_ids:
            await Client.filter(id__in=client_ids).update(responsible_id=to_user_id, updated_at=now)
        if interest_ids:
            await Interest.filter(id__in=interest_ids).update(
                responsible_id=to_user_id, updated_at=now
            )
        interactions = await Interaction.filter(
            responsible_id=from_user_id, state=InteractionState.PLANNED
        ).update(responsible_id=to_user_id, updated_at=now)
        await ChangeRecord.bulk_create(history, batch_size=1000)
    return Handover(len(client_ids), len(interest_ids), interactions)


async def workload(user_id: int) -> Handover:
    """What a hand-over of this user would move."""
    return Handover(
        await Client.filter(responsible_id=user_id, merged_into_id__isnull=True).count(),
        await Interest.filter(responsible_id=user_id, status=InterestStatus.OPEN).count(),
        await Interaction.filter(responsible_id=user_id, state=InteractionState.PLANNED).count(),
    )

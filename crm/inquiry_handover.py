"""Handing a waiting inquiry to another manager: its client becomes theirs, so the inquiry
waits in their inbox (and leaves the other managers'), still open for them to accept or
reject. Only while it is open: one already taken or rejected is refused with who took it,
as accepting it would be. The receiver must be an active user who may see the channel."""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from crm import clock
from crm.channels import channel_filter
from crm.errors import Conflict, ValidationFailed
from crm.history import change_rows
from crm.i18n import N_
from crm.inquiries import access_inquiry, already_decided
from crm.models import ChangeRecord, Channel, Client, Inquiry, InquiryStatus, User


async def hand_inquiry(inquiry_id: int, to_user_id: int, *, actor: User) -> Inquiry:
    """Give the open inquiry to `to_user_id` (its client becomes theirs)."""
    await already_decided(actor, inquiry_id)
    inquiry = await access_inquiry(actor, inquiry_id)
    if to_user_id == actor.id:
        raise ValidationFailed.field("to_user_id", N_("Choose another user"))
    target = await User.filter(id=to_user_id, is_active=True).first()
    if target is None:
        raise ValidationFailed.field("to_user_id", N_("Unknown user"))
    channel_id = inquiry.channel_id  # type: ignore[attr-defined]
    if not await Channel.filter(await channel_filter(target), id=channel_id).exists():
        raise ValidationFailed.field(
            "to_user_id", N_("{name} does not see this channel"), name=target.full_name
        )
    client_id = inquiry.client_id  # type: ignore[attr-defined]
    now = clock.now()
    async with in_transaction():
        # Holding the inquiry's row: an accept at the same moment waits, then finds it
        # handed over; ours finds it taken (status no longer open) and stops.
        if not await Inquiry.filter(id=inquiry.id, status=InquiryStatus.OPEN).update(
            updated_at=now
        ):
            raise Conflict(N_("This inquiry has already been decided"), code="inquiry_taken")
        client = await Client.get(id=client_id)
        before = client.responsible_id  # type: ignore[attr-defined]
        # the client stays another's if someone else made it theirs meanwhile
        same = Q(responsible_id__isnull=True) if before is None else Q(responsible_id=before)
        moved = await Client.filter(same, id=client_id).update(
            responsible_id=target.id, updated_at=now
        )
        if moved:
            await ChangeRecord.bulk_create(
                change_rows(
                    "client",
                    client_id,
                    {"responsible_id": before},
                    {"responsible_id": target.id},
                    actor=actor,
                )
            )
    return await Inquiry.get(id=inquiry.id)

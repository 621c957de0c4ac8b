"""Phones a customer shared where the platform cannot say whose they are: suggested, never
trusted.

A Viber contact message carries a name and a number the sender chose (their own, a
colleague's, anybody's), so the hub keeps it as an attachment only: it never finds, joins
or merges a client by it (`inbox.hub`). The client card lists such numbers from the
client's own Viber conversations as suggestions, and `add_suggested_phone` adds one to
the client's phones when a person who may edit the client chooses it (recorded in the
history like any edit). Numbers the client already has are not suggested.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm import normalize
from crm.access import access_client
from crm.clients import update_client
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import (
    ChannelKind,
    Client,
    ClientContact,
    ContactKind,
    Direction,
    Message,
    User,
)

__all__ = ["SuggestedPhone", "add_suggested_phone", "suggested_phones"]

# The newest contact messages looked at: a card reads a bounded amount whatever the history.
SCANNED = 200
NOT_SUGGESTED = N_("This number is not among the client's suggested phones")


@dataclass(frozen=True)
class SuggestedPhone:
    phone: str  # E.164
    name: str  # the name the sender gave the contact
    message_id: int  # the message that carried it (the newest, when shared more than once)


async def suggested_phones(client: Client) -> list[SuggestedPhone]:
    """The numbers shared as contacts in the client's Viber chats that the client does not
    have yet, newest first. Rights are the caller's check (the card's `access_client`)."""
    rows = (
        await Message.filter(
            conversation__client_id=client.id,
            channel__kind=ChannelKind.VIBER,
            direction=Direction.IN,
            text="",  # a contact message has no text of its own
        )
        .order_by("-id")
        .limit(SCANNED)
        .values_list("id", "attachments")
    )
    known = {
        str(value)
        for value in await ClientContact.filter(
            client_id=client.id, kind=ContactKind.PHONE
        ).values_list("value", flat=True)
    }
    found: dict[str, SuggestedPhone] = {}
    for message_id, attachments in rows:
        for attachment in attachments or []:
            if not isinstance(attachment, dict) or attachment.get("kind") != "contact":
                continue
            try:
                phone = normalize.phone(str(attachment.get("phone") or ""))
            except ValidationFailed:
                continue
            if phone not in known and phone not in found:
                name = str(attachment.get("name") or "")
                found[phone] = SuggestedPhone(phone, name, int(message_id))
    return list(found.values())


async def add_suggested_phone(client_id: int, phone: str, *, actor: User) -> Client:
    """Add one of the client's suggested phones to its phones (refused for any other
    number: this is no general phone editor)."""
    client = await access_client(actor, client_id)
    try:
        wanted = normalize.phone(phone, field="phone")
    except ValidationFailed:
        raise ValidationFailed.field("phone", NOT_SUGGESTED) from None
    if wanted not in {s.phone for s in await suggested_phones(client)}:
        raise ValidationFailed.field("phone", NOT_SUGGESTED)
    phones = (
        await ClientContact.filter(client_id=client.id, kind=ContactKind.PHONE)
        .order_by("position")
        .values_list("value", flat=True)
    )
    return await update_client(client.id, {"phones": [*phones, wanted]}, actor=actor)

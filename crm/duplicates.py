"""Duplicate control: candidates by INN, phone or email; merge two clients, and undo it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from tortoise.transactions import in_transaction

from crm import clock
from crm.access import access_client
from crm.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.history import record_changes
from crm.i18n import N_
from crm.models import (
    ChannelIdentity,
    Client,
    ClientContact,
    ContactPerson,
    Conversation,
    FieldValue,
    Inquiry,
    Interaction,
    Interest,
    MergeRecord,
    User,
)

# What moves from the merged client to the survivor, by model, and what the merge records.
MOVABLE = {
    "interests": Interest,
    "interactions": Interaction,
    "identities": ChannelIdentity,
    "conversations": Conversation,
    "inquiries": Inquiry,
    "persons": ContactPerson,
    "contacts": ClientContact,
}


# Why two clients may be one, as `Candidate.reasons` names it.
REASONS = {
    "inn": N_("same INN"),
    "phone": N_("same phone"),
    "email": N_("same email"),
    # one client's phone or email is a key person's of the other: the inbox suggests these
    # when a new customer writes with the number of someone's contact person
    "person_phone": N_("a key person's phone"),
    "person_email": N_("a key person's email"),
}


@dataclass(frozen=True)
class Candidate:
    client: Client
    reasons: tuple[str, ...]  # keys of REASONS


async def find_duplicates(client_id: int, *, actor: User) -> list[Candidate]:
    """Other visible clients sharing the INN, a phone or an email with this one."""
    client = await access_client(actor, client_id)
    reasons: dict[int, set[str]] = {}
    if client.inn:
        for other in await Client.filter(inn=client.inn, merged_into_id__isnull=True).exclude(
            id=client.id
        ):
            reasons.setdefault(other.id, set()).add("inn")
    contacts = await ClientContact.filter(client_id=client.id)
    for contact in contacts:
        matches = await ClientContact.filter(kind=contact.kind, value=contact.value).exclude(
            client_id=client.id
        )
        for match in matches:
            reasons.setdefault(match.client_id, set()).add(contact.kind.value)  # type: ignore[attr-defined]
        kind = contact.kind.value
        for person in await ContactPerson.filter(**{kind: contact.value}).exclude(
            client_id=client.id
        ):
            reasons.setdefault(person.client_id, set()).add(f"person_{kind}")  # type: ignore[attr-defined]
    for person in await ContactPerson.filter(client_id=client.id):
        for kind in ("phone", "email"):
            if value := getattr(person, kind):
                for match in await ClientContact.filter(kind=kind, value=value).exclude(
                    client_id=client.id
                ):
                    reasons.setdefault(match.client_id, set()).add(f"person_{kind}")  # type: ignore[attr-defined]
    result = []
    for other_id, why in reasons.items():
        try:
            other = await access_client(actor, other_id)
        except NotFound:
            continue
        result.append(Candidate(other, tuple(sorted(why))))
    return sorted(result, key=lambda c: (-len(c.reasons), c.client.id))


async def _system_get(client_id: int) -> Client:
    client = await Client.filter(id=client_id, merged_into_id__isnull=True).first()
    if client is None:
        raise NotFound()
    return client


async def merge_clients(survivor_id: int, merged_id: int, *, actor: User | None) -> MergeRecord:
    """Move everything of `merged` to `survivor` and hide `merged` (kept for undo).
    `actor=None` is the system (the inbox joining one person's identities)."""
    if survivor_id == merged_id:
        raise ValidationFailed.field("merged_id", N_("Choose two different clients"))
    if actor is None:
        survivor, merged = await _system_get(survivor_id), await _system_get(merged_id)
    else:
        survivor = await access_client(actor, survivor_id)
        merged = await access_client(actor, merged_id)
    async with in_transaction():
        moved: dict[str, list[int]] = {}
        for name, model in MOVABLE.items():
            ids = cast(
                list[int], await model.filter(client_id=merged.id).values_list("id", flat=True)
            )
            if name == "contacts":
                have = {
                    (c.kind, c.value) for c in await ClientContact.filter(client_id=survivor.id)
                }
                rows = await ClientContact.filter(id__in=ids)
                ids = [r.id for r in rows if (r.kind, r.value) not in have]
            moved[name] = list(ids)
            if ids:
                await model.filter(id__in=ids).update(client_id=survivor.id)
        have_fields = set(
            await FieldValue.filter(client_id=survivor.id).values_list("definition_id", flat=True)
        )
        field_ids = [
            v.id
            for v in await FieldValue.filter(client_id=merged.id)
            if v.definition_id not in have_fields  # type: ignore[attr-defined]
        ]
        moved["field_values"] = field_ids
        if field_ids:
            await FieldValue.filter(id__in=field_ids).update(client_id=survivor.id)
        merged.merged_into = survivor
        await merged.save(update_fields=["merged_into_id", "updated_at"])
        record = await MergeRecord.create(
            survivor=survivor, merged=merged, moved=moved, actor=actor
        )
        await record_changes(
            "client", survivor.id, {}, {"merged": f"#{merged.id} {merged.name}"}, actor=actor
        )
    return record


async def undo_merge(record_id: int, *, actor: User) -> Client:
    """Give the merged client back what was moved, while nothing new depends on it:
    refused once the moved interests or conversations got new interactions or messages."""
    record = await MergeRecord.filter(id=record_id).first()
    if record is None:
        raise NotFound()
    if record.undone_at is not None:
        raise Conflict(N_("This merge has already been undone"))
    survivor = await access_client(actor, record.survivor_id)  # type: ignore[attr-defined]
    if not actor.is_admin and survivor.responsible_id != actor.id:  # type: ignore[attr-defined]
        raise PermissionDenied()
    moved = record.moved
    new_interactions = await Interaction.filter(
        interest_id__in=moved.get("interests", []) or [0], created_at__gt=record.created_at
    ).exists()
    from crm.models import Message

    new_messages = await Message.filter(
        conversation_id__in=moved.get("conversations", []) or [0],
        created_at__gt=record.created_at,
    ).exists()
    if new_interactions or new_messages:
        raise Conflict(
            N_("New data depends on this merge; it can no longer be undone"), code="merge_in_use"
        )
    merged_id: int = record.merged_id  # type: ignore[attr-defined]
    async with in_transaction():
        for name, model in [*MOVABLE.items(), ("field_values", FieldValue)]:
            ids = moved.get(name, [])
            if ids:
                await model.filter(id__in=ids).update(client_id=merged_id)
        await Client.filter(id=merged_id).update(merged_into_id=None, updated_at=clock.now())
        record.undone_at = clock.now()
        await record.save()
        await record_changes(
            "client", survivor.id, {"merged": f"#{merged_id}"}, {"merged": None}, actor=actor
        )
    return await Client.get(id=merged_id)

"""Duplicate control: candidates by INN, phone or email (merging them: crm.merge)."""

from __future__ import annotations

from dataclasses import dataclass

from crm.access import access_client
from crm.errors import Duplicate, NotFound
from crm.i18n import N_
from crm.models import (
    Client,
    ClientContact,
    ClientKind,
    ContactPerson,
    User,
)

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


async def decisive_twin(
    *, kind: ClientKind | str, inn: str | None, kpp: str | None, actor: User
) -> Client | None:
    """The visible client a new card with this identity would twin, or None when there is
    none. The INN is decisive (a phone or an email may be shared, so they only suggest);
    a legal entity's branch has the INN with a KPP of its own, so two different KPPs are
    two clients. A twin the actor may not see raises Duplicate without its id: a second
    card is refused all the same."""
    if not inn:
        return None
    query = Client.filter(inn=inn.strip(), merged_into_id__isnull=True).order_by("id")
    for twin in await query:
        if kind == ClientKind.LEGAL and kpp and twin.kpp and twin.kpp != kpp.upper():
            continue
        try:
            return await access_client(actor, twin.id)
        except NotFound:
            raise Duplicate(None) from None
    return None


async def refuse_twin(
    *, kind: ClientKind | str, inn: str | None, kpp: str | None, actor: User
) -> None:
    """Raise Duplicate (naming the client) when a new card would twin one."""
    twin = await decisive_twin(kind=kind, inn=inn, kpp=kpp, actor=actor)
    if twin is not None:
        raise Duplicate(twin.id)

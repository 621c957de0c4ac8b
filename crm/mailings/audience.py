"""Who a mailing is addressed to, before any rule removes anyone: the clients with any of
some tags, the clients a client-list filter finds (`crm.client_list`), an explicit
selection, or several of these together (their union); optionally each company client's
key persons with an email as well.

Where segments plug in: a segment (crm.segments, a saved rule with stored members) will be
one more source here, `Audience.segment_ids`, read as the members of those segments and
added to the union in `client_ids`. Until that package exists the field is absent, and the
mailing form does not offer segments."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from crm import client_list
from crm.access import client_filter
from crm.client_list import ClientFilters
from crm.models import Client, ClientKind, ContactPerson, User

MAX_AUDIENCE = 1_000_000


@dataclass(frozen=True)
class Audience:
    tag_ids: tuple[int, ...] = ()
    filter: ClientFilters | None = None
    client_ids: tuple[int, ...] = ()
    key_persons: bool = False

    @property
    def empty(self) -> bool:
        return not self.tag_ids and self.filter is None and not self.client_ids

    def as_json(self) -> dict[str, Any]:
        return {
            "tag_ids": list(self.tag_ids),
            "filter": None if self.filter is None else _filter_json(self.filter),
            "client_ids": list(self.client_ids),
            "key_persons": self.key_persons,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        raw_filter = data.get("filter")
        return cls(
            tag_ids=tuple(int(t) for t in data.get("tag_ids") or ()),
            filter=None if raw_filter is None else _filter_of(raw_filter),
            client_ids=tuple(int(c) for c in data.get("client_ids") or ()),
            key_persons=bool(data.get("key_persons")),
        )


def _filter_json(filters: ClientFilters) -> dict[str, Any]:
    data = asdict(filters)
    data["choices"] = [list(c) for c in filters.choices]
    return data


def _filter_of(data: dict[str, Any]) -> ClientFilters:
    known = {f for f in ClientFilters.__dataclass_fields__}
    values = {k: v for k, v in data.items() if k in known}
    values["choices"] = tuple((int(f), str(v)) for f, v in values.get("choices") or ())
    return ClientFilters(**values)


@dataclass
class Addressees:
    """The audience as rows: clients, and the key persons (client id -> person ids)."""

    client_ids: list[int]
    persons: dict[int, list[int]] = field(default_factory=dict)


async def client_ids(actor: User, audience: Audience) -> list[int]:
    """The clients of the audience that `actor` sees (ascending, merged clients left out)."""
    found: set[int] = set()
    if audience.tag_ids:
        query = Client.filter(
            tags__id__in=list(audience.tag_ids), merged_into_id__isnull=True
        ).filter(await client_filter(actor))
        found.update(int(str(i)) for i in await query.distinct().values_list("id", flat=True))
    if audience.filter is not None:
        found.update(await client_list.matching_ids(actor, audience.filter, MAX_AUDIENCE))
    if audience.client_ids:
        query = Client.filter(id__in=list(audience.client_ids), merged_into_id__isnull=True).filter(
            await client_filter(actor)
        )
        found.update(int(str(i)) for i in await query.values_list("id", flat=True))
    return sorted(found)[:MAX_AUDIENCE]


async def addressees(actor: User, audience: Audience) -> Addressees:
    ids = await client_ids(actor, audience)
    result = Addressees(ids)
    if audience.key_persons and ids:
        companies: set[int] = set()
        for start in range(0, len(ids), 5000):
            rows = await Client.filter(
                id__in=ids[start : start + 5000], kind=ClientKind.LEGAL
            ).values_list("id", flat=True)
            companies.update(int(str(r)) for r in rows)
        for start in range(0, len(ids), 5000):
            chunk = [i for i in ids[start : start + 5000] if i in companies]
            if not chunk:
                continue
            persons = await ContactPerson.filter(client_id__in=chunk, email__isnull=False).order_by(
                "id"
            )
            for person in persons:
                if person.email:
                    result.persons.setdefault(person.client_id, []).append(person.id)  # type: ignore[attr-defined]
    return result

"""Who a mailing is addressed to, before any rule removes anyone: the clients with any of
some tags, the clients a client-list filter finds (`crm.client_list`), the current members
of some segments (`crm.segments`, read when the preview or the start runs, not when the
draft is saved), an explicit selection, or several of these together (their union);
optionally each company client's key persons with an email as well.

Lists of ids are read CHUNK at a time: PostgreSQL takes at most 32767 bind parameters in
one statement, and an explicit selection may be a million clients. A segment deleted since
the draft was saved is refused by the preview (`missing_segments`), not silently read as
empty."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tortoise.expressions import Subquery

from crm import client_list
from crm.access import client_filter
from crm.client_list import ClientFilters
from crm.models import Client, ClientKind, ContactPerson, Segment, SegmentMember, User

MAX_AUDIENCE = 1_000_000
CHUNK = 5000  # ids bound in one statement (PostgreSQL: at most 32767 parameters)


@dataclass(frozen=True)
class Audience:
    tag_ids: tuple[int, ...] = ()
    filter: ClientFilters | None = None
    client_ids: tuple[int, ...] = ()
    key_persons: bool = False
    segment_ids: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return (
            not self.tag_ids
            and self.filter is None
            and not self.client_ids
            and not self.segment_ids
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "tag_ids": list(self.tag_ids),
            "filter": None if self.filter is None else _filter_json(self.filter),
            "client_ids": list(self.client_ids),
            "key_persons": self.key_persons,
            "segment_ids": list(self.segment_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        raw_filter = data.get("filter")
        return cls(
            tag_ids=tuple(int(t) for t in data.get("tag_ids") or ()),
            filter=None if raw_filter is None else _filter_of(raw_filter),
            client_ids=tuple(int(c) for c in data.get("client_ids") or ()),
            key_persons=bool(data.get("key_persons")),
            segment_ids=tuple(int(s) for s in data.get("segment_ids") or ()),
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
    if audience.segment_ids:
        members = SegmentMember.filter(
            segment_id__in=list(audience.segment_ids), left_at__isnull=True
        )
        query = Client.filter(
            id__in=Subquery(members.values("client_id")), merged_into_id__isnull=True
        ).filter(await client_filter(actor))
        found.update(int(str(i)) for i in await query.values_list("id", flat=True))
    if audience.client_ids:
        seen = await client_filter(actor)
        chosen = sorted(set(audience.client_ids))
        for start in range(0, len(chosen), CHUNK):
            query = Client.filter(
                id__in=chosen[start : start + CHUNK], merged_into_id__isnull=True
            ).filter(seen)
            found.update(int(str(i)) for i in await query.values_list("id", flat=True))
    return sorted(found)[:MAX_AUDIENCE]


async def missing_segments(audience: Audience) -> list[int]:
    """The audience's segments that no longer exist (deleted since the draft was saved)."""
    if not audience.segment_ids:
        return []
    wanted = set(audience.segment_ids)
    present = await Segment.filter(id__in=sorted(wanted)).values_list("id", flat=True)
    return sorted(wanted - {int(str(i)) for i in present})


async def addressees(actor: User, audience: Audience) -> Addressees:
    ids = await client_ids(actor, audience)
    result = Addressees(ids)
    if audience.key_persons and ids:
        companies: set[int] = set()
        for start in range(0, len(ids), CHUNK):
            rows = await Client.filter(
                id__in=ids[start : start + CHUNK], kind=ClientKind.LEGAL
            ).values_list("id", flat=True)
            companies.update(int(str(r)) for r in rows)
        for start in range(0, len(ids), CHUNK):
            chunk = [i for i in ids[start : start + CHUNK] if i in companies]
            if not chunk:
                continue
            persons = await ContactPerson.filter(client_id__in=chunk, email__isnull=False).order_by(
                "id"
            )
            for person in persons:
                if person.email:
                    result.persons.setdefault(person.client_id, []).append(person.id)  # type: ignore[attr-defined]
    return result

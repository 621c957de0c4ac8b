"""A mailing's text with placeholders of the client, the key person, the manager, the
company and custom fields (`{field_12}`: the custom field with id 12), filled per
recipient. An unknown placeholder is refused when the mailing is checked; a known one
with no value for a recipient becomes empty. As `crm.templates`: only the listed names
are replaced, nothing else in braces is evaluated."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from crm.company import get_company
from crm.fields import display
from crm.models import Client, ContactPerson, FieldDefinition, FieldOption, FieldValue, User

PLACEHOLDERS = (
    "client_name",
    "client_legal_name",
    "client_region",
    "key_person",
    "manager_name",
    "manager_phone",
    "manager_email",
    "company_name",
)
_PATTERN = re.compile(r"\{(\w+)\}")
_FIELD = re.compile(r"field_(\d{1,9})")


def names_in(*templates: str) -> set[str]:
    return {name for t in templates for name in _PATTERN.findall(t)}


async def unknown_placeholders(*templates: str) -> list[str]:
    """The placeholders of `templates` that name nothing (a custom field must exist)."""
    names = names_in(*templates)
    field_ids = {int(m.group(1)) for n in names if (m := _FIELD.fullmatch(n))}
    existing = (
        {
            int(str(i))
            for i in await FieldDefinition.filter(id__in=list(field_ids)).values_list(
                "id", flat=True
            )
        }
        if field_ids
        else set()
    )
    unknown = []
    for name in names:
        match = _FIELD.fullmatch(name)
        if name in PLACEHOLDERS or (match and int(match.group(1)) in existing):
            continue
        unknown.append(name)
    return sorted(unknown)


def render(template: str, values: Mapping[str, str]) -> str:
    return _PATTERN.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class Who:
    client_id: int
    person_id: int | None = None


async def values_for(who: Iterable[Who], templates: Iterable[str]) -> dict[Who, dict[str, str]]:
    """The placeholders' values for many recipients at once (a few reads per batch)."""
    wanted = list(who)
    names = names_in(*templates)
    company = await get_company()
    clients = {c.id: c for c in await Client.filter(id__in=list({w.client_id for w in wanted}))}
    manager_ids = {c.responsible_id for c in clients.values() if c.responsible_id}  # type: ignore[attr-defined]
    managers = {u.id: u for u in await User.filter(id__in=list(manager_ids))} if manager_ids else {}
    persons: dict[int, ContactPerson] = {}
    first_person: dict[int, str] = {}
    if "key_person" in names:
        for person in await ContactPerson.filter(client_id__in=list(clients)).order_by("id"):
            persons[person.id] = person
            first_person.setdefault(person.client_id, person.name)  # type: ignore[attr-defined]
    field_ids = [int(m.group(1)) for n in names if (m := _FIELD.fullmatch(n))]
    fields: dict[tuple[int, int], str] = {}
    if field_ids:
        rows = await FieldValue.filter(client_id__in=list(clients), definition_id__in=field_ids)
        options = {o.id: o.value for o in await FieldOption.filter(definition_id__in=field_ids)}
        for row in rows:
            value = display(row, options)
            fields[(row.client_id, row.definition_id)] = "" if value is None else str(value)  # type: ignore[attr-defined]
    result: dict[Who, dict[str, str]] = {}
    for w in wanted:
        client = clients.get(w.client_id)
        if client is None:
            continue
        manager = managers.get(client.responsible_id)  # type: ignore[attr-defined]
        chosen = persons.get(w.person_id) if w.person_id else None
        values = {
            "client_name": client.name,
            "client_legal_name": client.legal_name or client.name,
            "client_region": client.region,
            "key_person": chosen.name if chosen else first_person.get(client.id, ""),
            "manager_name": manager.full_name if manager else "",
            "manager_phone": (manager.phone or "") if manager else "",
            "manager_email": manager.email if manager else "",
            "company_name": company.name,
        }
        for field_id in field_ids:
            values[f"field_{field_id}"] = fields.get((client.id, field_id), "")
        result[w] = values
    return result

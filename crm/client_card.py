"""What a client card shows besides the client's own columns and custom fields: contacts,
the responsible user's name, tags and key persons, read in SQL (the bot's /client and the
panel's card). Rights are the caller's check (`crm.access.access_client`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from crm.models import Client, ContactKind, ContactPerson
from crm.rows import RowReader, query

_PERSON_ROWS = RowReader(ContactPerson)


async def get_persons(client: Client) -> list[ContactPerson]:
    """The client's key persons in the order they were added."""
    rows = await query(
        f"SELECT {_PERSON_ROWS.select_list()} FROM contact_persons"
        " WHERE client_id = $1 ORDER BY id",
        [client.id],
    )
    return _PERSON_ROWS.models(rows)


@dataclass(frozen=True)
class CardDetails:
    """What a client card shows besides the client's columns and custom fields."""

    contacts: list[tuple[ContactKind, str]]  # phones and emails, by kind and position
    responsible: str | None  # the responsible user's name
    tags: list[str]  # in the order they were created
    persons: list[ContactPerson]  # as get_persons gives them


async def card_details(client: Client) -> CardDetails:
    """The contacts, responsible, tags and key persons of a client (rights are the
    caller's check): two reads, the first three kinds of row in one."""
    rows, persons = await asyncio.gather(  # side by side: one round trip's wait
        query(
            "SELECT 0, kind, value, position FROM client_contacts WHERE client_id = $1"
            " UNION ALL SELECT 1, NULL, t.name, t.id FROM client_tags x"
            " JOIN tags t ON t.id = x.tag_id WHERE x.clients_id = $1"
            " UNION ALL SELECT 2, NULL, full_name, id FROM users WHERE id = $2"
            " ORDER BY 1, 2, 4",
            [client.id, client.responsible_id],  # type: ignore[attr-defined]
        ),
        get_persons(client),
    )
    contacts, tags, responsible = [], [], None
    for part, kind, value, _ in rows:
        if part == 0:
            contacts.append((ContactKind(kind), value))
        elif part == 1:
            tags.append(value)
        else:
            responsible = value
    return CardDetails(contacts, responsible, tags, persons)

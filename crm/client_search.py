"""Finding a client by a name part, phone, email or INN (the bot's /client), in one SQL
read: the bot runs it on every search, and the same filter through the ORM cost four times
the CPU. Case is ignored in every alphabet (on SQLite through `crm.sqlite_engine`), and
LIKE's wildcards in the query are matched literally. Each client comes with its first phone
from the same read, so that a list can tell two namesakes apart."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.filters import escape_like

from crm import normalize
from crm.access import sees_all_clients
from crm.models import Client, ContactKind, User
from crm.rows import RowReader, query

_CLIENTS = RowReader(Client)


@dataclass(frozen=True)
class Found:
    client: Client
    phone: str | None  # the first phone (E.164), if any


async def search_clients(actor: User, text: str, limit: int = 20) -> list[Client]:
    """Visible clients (merged-away ones excluded) whose name holds `text`, or with `text`
    as a phone, an email or an INN, by name."""
    return [found.client for found in await find_clients(actor, text, limit)]


async def find_clients(actor: User, text: str, limit: int = 20) -> list[Found]:
    """As `search_clients`, each client with its first phone (one read)."""
    text = text.strip()
    if not text:
        return []
    params: list[object] = [f"%{escape_like(text)}%"]  # tortoise's escaping, as icontains
    matches = ["UPPER(c.name) LIKE UPPER($1) ESCAPE '\\'"]
    contacts = []
    if phone := normalize.phone_or_none(text):
        contacts.append((ContactKind.PHONE, phone))
    if "@" in text:
        contacts.append((ContactKind.EMAIL, text.lower()))
    for kind, value in contacts:
        params += [kind.value, value]
        matches.append(
            f"c.id IN (SELECT client_id FROM client_contacts"
            f" WHERE kind = ${len(params) - 1} AND value = ${len(params)})"
        )
    if text.isdigit() and len(text) in (10, 12):
        params.append(text)
        matches.append(f"c.inn = ${len(params)}")
    visible = ""
    if not await sees_all_clients(actor):
        params.append(actor.id)
        visible = f" AND c.responsible_id = ${len(params)}"
    phone = (
        "(SELECT p.value FROM client_contacts p WHERE p.client_id = c.id"
        f" AND p.kind = '{ContactKind.PHONE.value}' ORDER BY p.position, p.id LIMIT 1)"
    )
    rows = await query(
        f"SELECT {_CLIENTS.select_list('c')}, {phone} FROM clients c"
        f" WHERE c.merged_into_id IS NULL{visible} AND ({' OR '.join(matches)})"
        f" ORDER BY c.name, c.id LIMIT {int(limit)}",
        params,
    )
    width = len(_CLIENTS.columns)
    clients = _CLIENTS.models(row[:width] for row in rows)
    return [Found(client, row[width]) for client, row in zip(clients, rows, strict=True)]

"""A client's last contact, kept on the client: `clients.last_contact_at` is the latest
`sort_at` of the client's done interactions (a done one's sort_at is its done_at), NEVER
when there is none, as the client list has always defined it. Kept so that the list sorts
by it along an index (migration 0019) instead of a look-up per client.

Two ways to keep it, one statement each:

- `advance`: done interactions were written (an inbound message into a deal's feed, a
  note, an interaction completed or restored): the clients' value moves up to the newest
  moment where that is later, inside the writer's transaction (the inbox's fast path
  writes one statement per batch, not one per message; an UPDATE that moves nothing
  writes nothing).
- `recompute`: a done interaction stopped counting or moved to another client (cancelled,
  merged, a merge undone): the value is read again from the interactions of those clients.

Interactions deleted with their deal or client need nothing more: a client's are deleted
only with the client, a deal's only with the deal, and a deal is deleted only with its
client (on_delete CASCADE). `backfill` fills every client set-based (the migration, and
the demo data's bulk writer)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.transactions import in_transaction

from crm.models.clients import NEVER_CONTACTED as NEVER
from crm.models.clients import NEVER_CONTACTED_SQL as NEVER_SQL
from crm.rows import moment, query

__all__ = ["NEVER", "advance", "atomic", "backfill", "latest", "recompute"]

_LAST_DONE = (
    "(SELECT MAX(i.sort_at) FROM interactions i"
    " WHERE i.client_id = clients.id AND i.state = 'done')"
)


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """A write and its `advance` in one transaction: the caller's when there is one (the
    inbox's: no savepoint on its path), else a new one."""
    if isinstance(connections.get("default"), TransactionalDBClient):
        yield
        return
    async with in_transaction():
        yield


async def advance(moments: Mapping[int, datetime]) -> None:
    """Each client's last contact is at least its moment (the latest given per client)."""
    if not moments:
        return
    one = "UPDATE clients SET last_contact_at = $2 WHERE id = $1 AND last_contact_at < $2"
    postgres = connections.get("default").capabilities.dialect == "postgres"
    if len(moments) == 1 or not postgres:  # SQLite: few rows, the same statement each
        for client_id, at in moments.items():
            await query(one, [client_id, moment(at)])
        return
    params: list[object] = []
    values = []
    for client_id, at in moments.items():
        params += [client_id, moment(at)]
        values.append(f"(${len(params) - 1}::int, ${len(params)}::timestamptz)")
    await query(
        f"UPDATE clients SET last_contact_at = v.at FROM (VALUES {', '.join(values)}) v(id, at)"
        " WHERE clients.id = v.id AND clients.last_contact_at < v.at",
        params,
    )


def latest(pairs: Iterable[tuple[int, datetime | None]]) -> dict[int, datetime]:
    """The latest moment per client of (client id, moment) pairs."""
    found: dict[int, datetime] = {}
    for client_id, at in pairs:
        if at is not None and (client_id not in found or found[client_id] < at):
            found[client_id] = at
    return found


async def recompute(client_ids: Iterable[int]) -> None:
    """The clients' last contact read again from their done interactions."""
    ids = sorted({int(c) for c in client_ids})
    if not ids:
        return
    marks = ", ".join(f"${n}" for n in range(1, len(ids) + 1))
    await query(
        f"UPDATE clients SET last_contact_at = COALESCE({_LAST_DONE}, {NEVER_SQL})"
        f" WHERE id IN ({marks})",
        ids,
    )


async def backfill(conn: BaseDBAsyncClient, *, since_client: int = 0) -> None:
    """Every client's value (those with an id above `since_client`, all at NEVER: the new
    column, clients just written in bulk) from the interactions, set-based: on PostgreSQL
    one grouped read of the done interactions joined to the clients (a correlated read per
    client is slower at a million), on SQLite the correlated form along the
    (client_id, state, sort_at) index."""
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(
            "UPDATE clients c SET last_contact_at = m.at FROM (SELECT client_id, MAX(sort_at) AS at"
            " FROM interactions WHERE state = 'done' AND client_id > $1 GROUP BY client_id) m"
            " WHERE c.id = m.client_id AND c.last_contact_at IS DISTINCT FROM m.at",
            [since_client],
        )
        return
    await conn.execute_query(
        f"UPDATE clients SET last_contact_at = COALESCE({_LAST_DONE}, {NEVER_SQL}) WHERE id > ?",
        [since_client],
    )

"""Who may see what. Reads that check rights go through `access_*`, which raise NotFound
rather than leak that a client exists.

The company's "clients visible to all" setting is read on every check, so it is kept for
COMPANY_TTL seconds: a save in this process (any `Company.save()`) takes effect at once, one
in another process (the admin panel beside a bot worker) within COMPANY_TTL. The value is
kept per database client, so a database initialised again starts afresh."""

from __future__ import annotations

from tortoise.expressions import Q, Subquery

from crm.channels import channel_filter
from crm.company import get_company
from crm.errors import NotFound
from crm.kept import Kept
from crm.models import Channel, Client, Company, Conversation, Interest, User
from crm.rows import RowReader, query

_INTERESTS, _CLIENTS = RowReader(Interest), RowReader(Client)
COMPANY_TTL = 2.0  # seconds another process's change of the setting may take to apply


async def _read_visible_to_all(_: None) -> bool:
    return (await get_company()).clients_visible_to_all


_visible_to_all = Kept(_read_visible_to_all, ttl=COMPANY_TTL, model=Company, changed_by=(Company,))


async def clients_visible_to_all() -> bool:
    """The company setting, re-read at most every COMPANY_TTL seconds."""
    return await _visible_to_all.get(None)


async def sees_all_clients(actor: User) -> bool:
    if actor.sees_everything:
        return True
    return await clients_visible_to_all()


async def client_filter(actor: User) -> Q:
    """A filter over Client for the clients `actor` may see (merged-away ones excluded)."""
    base = Q(merged_into_id__isnull=True)
    if await sees_all_clients(actor):
        return base
    return base & Q(responsible_id=actor.id)


async def interest_owner(actor: User) -> int | None:
    """Whose interests `actor` may see: those this user is responsible for, or whose client
    they are responsible for; None when they may see every interest. (For reads written in
    SQL; `interest_filter` is the same rule for queries.)"""
    return None if await sees_all_clients(actor) else actor.id


async def interest_filter(actor: User, *, client: Client | None = None) -> Q:
    """A filter over Interest for the deals `actor` may see. With `client` (the caller
    filters that client's deals): the rule decided by that client's responsible, read
    already, instead of the set of the owner's clients (hashing some 50,000 ids for one
    client's deals)."""
    owner = await interest_owner(actor)
    if owner is None:
        return Q()
    if client is not None:
        theirs_too = client.responsible_id == owner  # type: ignore[attr-defined]
        return Q() if theirs_too else Q(responsible_id=owner)
    # "or their client's responsible is the owner", as a set of the owner's client ids:
    # PostgreSQL reads it once from an index (crm.desk_indexes) and checks each deal by
    # hash, where a join to every client had it scan both tables (the board: 1.4 s)
    theirs = Client.filter(responsible_id=owner).values("id")
    return Q(responsible_id=owner) | Q(client_id__in=Subquery(theirs))


def may_merge_clients(actor: User) -> bool:
    """Who merges duplicate clients (the merge screen, its undo): admins and heads of sales,
    who see every client and answer for the base's quality; a manager does not."""
    return actor.sees_everything


async def access_client(actor: User, client_id: int) -> Client:
    """The client, if `actor` may see it (`client_filter`, read in SQL)."""
    sql = f"SELECT {_CLIENTS.select_list()} FROM clients WHERE id = $1 AND merged_into_id IS NULL"
    params = [client_id]
    if not await sees_all_clients(actor):
        sql += " AND responsible_id = $2"
        params.append(actor.id)
    found = _CLIENTS.models(await query(sql, params))
    if not found:
        raise NotFound()
    return found[0]


async def access_interest(actor: User, interest_id: int) -> Interest:
    """The interest, if `actor` may see it (one read in SQL: the bot asks on every button)."""
    owner = await interest_owner(actor)
    sql = f"SELECT {_INTERESTS.select_list('i')} FROM interests i WHERE i.id = $1"
    params = [interest_id]
    if owner is not None:
        sql += (
            " AND (i.responsible_id = $2 OR EXISTS (SELECT 1 FROM clients c"
            " WHERE c.id = i.client_id AND c.responsible_id = $2))"
        )
        params.append(owner)
    found = _INTERESTS.models(await query(sql, params))
    if not found:
        raise NotFound()
    return found[0]


async def access_conversation(actor: User, conversation_id: int) -> Conversation:
    """A conversation is visible with its client, or when the actor may see its channel."""
    conversation = await Conversation.filter(id=conversation_id).first()
    if conversation is None:
        raise NotFound()
    if await sees_all_clients(actor):
        return conversation
    client = await Client.filter(id=conversation.client_id).first()  # type: ignore[attr-defined]
    if client is not None and client.responsible_id == actor.id:  # type: ignore[attr-defined]
        return conversation
    if client is not None and client.responsible_id is None:  # type: ignore[attr-defined]
        # Nobody's client yet (an inquiry): visible to whoever may see the channel.
        if await Channel.filter(
            await channel_filter(actor),
            id=conversation.channel_id,  # type: ignore[attr-defined]
        ).exists():
            return conversation
    raise NotFound()

"""Who may see what. Reads that check rights go through `access_*`, which raise NotFound
rather than leak that a client exists."""

from __future__ import annotations

from tortoise.expressions import Q

from crm.channels import channel_filter
from crm.company import get_company
from crm.errors import NotFound
from crm.models import Channel, Client, Conversation, Interest, User


async def sees_all_clients(actor: User) -> bool:
    if actor.is_admin:
        return True
    return (await get_company()).clients_visible_to_all


async def client_filter(actor: User) -> Q:
    """A filter over Client for the clients `actor` may see (merged-away ones excluded)."""
    base = Q(merged_into_id__isnull=True)
    if await sees_all_clients(actor):
        return base
    return base & Q(responsible_id=actor.id)


async def interest_filter(actor: User) -> Q:
    if await sees_all_clients(actor):
        return Q()
    return Q(responsible_id=actor.id) | Q(client__responsible_id=actor.id)


async def access_client(actor: User, client_id: int) -> Client:
    client = await Client.filter(await client_filter(actor), id=client_id).first()
    if client is None:
        raise NotFound()
    return client


async def access_interest(actor: User, interest_id: int) -> Interest:
    interest = await Interest.filter(await interest_filter(actor), id=interest_id).first()
    if interest is None:
        raise NotFound()
    return interest


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

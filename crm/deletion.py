"""Deleting a client for good (with its interests, interactions and conversations); the
deletion itself stays in the change history. Admins only."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from crm.access import access_client
from crm.errors import PermissionDenied
from crm.history import record_changes
from crm.models import Client, User


async def delete_client(client_id: int, *, actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied()
    client = await access_client(actor, client_id)
    async with in_transaction():
        await Client.filter(merged_into_id=client.id).delete()  # its merged-away parts
        await record_changes(
            "client", client.id, {"name": client.name}, {"name": None}, actor=actor
        )
        await client.delete()

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.clients import Client
    from crm.models.users import User


class ChangeRecord(Timestamped):
    """Who changed which field of a card (client, key person, interest), when, old -> new."""

    id = fields.IntField(primary_key=True)
    entity = fields.CharField(max_length=20)  # client | person | interest
    entity_id = fields.IntField()
    field = fields.CharField(max_length=100)
    old = fields.TextField(null=True)
    new = fields.TextField(null=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "change_records"
        indexes = (Index(fields=("entity", "entity_id", "created_at")),)


class MergeRecord(Timestamped):
    """A merge of two clients, with what moved, so it can be undone."""

    id = fields.IntField(primary_key=True)
    survivor: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name=False, on_delete=fields.CASCADE
    )
    merged: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name=False, on_delete=fields.CASCADE
    )
    moved: dict[str, Any] = fields.JSONField(default=dict)  # see crm.merge
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    undone_at = UtcDatetimeField(null=True)

    class Meta:
        table = "merge_records"

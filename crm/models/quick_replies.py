from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from crm.models.base import Timestamped

if TYPE_CHECKING:
    from crm.models.users import User


class QuickReply(Timestamped):
    """A canned answer with `{client_name}`-style placeholders: shared (no owner, made by an
    admin) or a manager's own."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=100)
    text = fields.TextField()
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="quick_replies", null=True, on_delete=fields.CASCADE
    )

    class Meta:
        table = "quick_replies"
        indexes = (Index(fields=("owner_id", "title")),)

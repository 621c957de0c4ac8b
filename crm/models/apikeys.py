from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.users import User


class ApiKey(Timestamped):
    """A key for /api/v1. It acts as its user, with that user's rights, and only a hash of
    the secret is kept (the key is shown once, when created)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    prefix = fields.CharField(max_length=12)  # the key's first characters, to recognise it
    key_hash = fields.CharField(max_length=64, unique=True)  # sha256 hex of the whole key
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_keys", on_delete=fields.CASCADE
    )
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    last_used_at = UtcDatetimeField(null=True)
    revoked_at = UtcDatetimeField(null=True)

    class Meta:
        table = "api_keys"

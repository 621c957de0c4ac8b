from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.users import User


class WebSession(Timestamped):
    """A browser logged in to the panel, found by the digest of the token in its cookie.

    The row keeps only the digest (sha256), never the token. Deleting the row ends the
    session wherever a copy of the cookie is."""

    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)  # sha256 hex of the token
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="web_sessions", on_delete=fields.CASCADE
    )
    expires_at = UtcDatetimeField(db_index=True)

    class Meta:
        table = "web_sessions"

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.clients import Client
    from crm.models.deals import Interest
    from crm.models.users import User


class InteractionKind(StrEnum):
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    MESSAGE = "message"
    SMS = "sms"
    TASK = "task"
    NOTE = "note"
    SURVEY = "survey"  # a survey mailing planned to reach the client (crm.mailings.surveys)


class InteractionState(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class Interaction(Timestamped):
    """A planned or done contact with a client, optionally within an interest."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="interactions", on_delete=fields.CASCADE
    )
    interest: fields.ForeignKeyNullableRelation[Interest] = fields.ForeignKeyField(
        "models.Interest", related_name="interactions", null=True, on_delete=fields.CASCADE
    )
    responsible: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="interactions", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharEnumField(InteractionKind, max_length=8)
    subject = fields.CharField(max_length=300, default="")
    content = fields.TextField(default="")
    state = fields.CharEnumField(InteractionState, max_length=10, default=InteractionState.PLANNED)
    planned_at = UtcDatetimeField(null=True)
    done_at = UtcDatetimeField(null=True)
    # The moment the feed sorts by: planned_at while planned, done_at once done.
    sort_at = UtcDatetimeField()
    remind_at = UtcDatetimeField(null=True)
    reminded_at = UtcDatetimeField(null=True)
    remind_claimed_until = UtcDatetimeField(null=True)
    nagged_at = UtcDatetimeField(null=True)
    nag_claimed_until = UtcDatetimeField(null=True)
    message_id = fields.BigIntField(null=True)
    mailing_id = fields.IntField(null=True)  # the survey mailing of a SURVEY interaction

    class Meta:
        table = "interactions"
        indexes = (
            Index(fields=("interest_id", "state", "sort_at")),
            Index(fields=("client_id", "state", "sort_at")),
            Index(fields=("responsible_id", "state", "planned_at")),
            Index(fields=("mailing_id", "client_id")),
        )
        # The reminder and nag claims use partial indexes that tortoise cannot declare:
        # crm/sql_indexes.py (created by a migration's RunSQL).

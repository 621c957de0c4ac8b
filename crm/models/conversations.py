from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.channels import Channel, ChannelIdentity
    from crm.models.clients import Client
    from crm.models.deals import Interest
    from crm.models.scenarios import Reason
    from crm.models.users import User


class Conversation(Timestamped):
    """The dialogue of one client identity on one channel."""

    id = fields.IntField(primary_key=True)
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="conversations", on_delete=fields.CASCADE
    )
    identity: fields.ForeignKeyRelation[ChannelIdentity] = fields.ForeignKeyField(
        "models.ChannelIdentity", related_name="conversations", on_delete=fields.CASCADE
    )
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="conversations", on_delete=fields.CASCADE
    )
    interest: fields.ForeignKeyNullableRelation[Interest] = fields.ForeignKeyField(
        "models.Interest", related_name="conversations", null=True, on_delete=fields.SET_NULL
    )
    last_message_at = UtcDatetimeField(null=True)
    # The customer's first message since a person last answered (None: nothing waits); kept
    # by the inbox and `crm.conversations.queue_reply` for the desk's list and its filter.
    waiting_since = UtcDatetimeField(null=True)

    class Meta:
        table = "conversations"
        unique_together = (("channel", "identity"),)
        indexes = (Index(fields=("last_message_at", "id")),)  # the desk's list, newest first


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class MessageStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    SEEN = "seen"
    FAILED = "failed"  # will be retried
    DEAD = "dead"  # retries exhausted; replay with `crmhub outbox retry ID`


class Message(Timestamped):
    id = fields.BigIntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="messages", on_delete=fields.CASCADE
    )
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="messages", on_delete=fields.CASCADE
    )
    direction = fields.CharEnumField(Direction, max_length=3)
    text = fields.TextField(default="")
    original_text = fields.TextField(null=True)  # kept when the customer edits a message
    attachments: list[dict[str, Any]] = fields.JSONField(default=list)
    # Email threading and other per-channel metadata (Message-ID, In-Reply-To, subject, ...).
    meta: dict[str, Any] = fields.JSONField(default=dict)
    source_id = fields.CharField(max_length=254, null=True)
    status = fields.CharEnumField(MessageStatus, max_length=10)
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    attempts = fields.SmallIntField(default=0)
    next_attempt_at = UtcDatetimeField(null=True)
    claimed_until = UtcDatetimeField(null=True)
    last_error = fields.TextField(default="")
    sent_at = UtcDatetimeField(null=True)
    # True until crm.reports.kept_minutes has given a person's reply to its inquiries'
    # kept figures (the partial index messages_figures_pending holds only such replies;
    # other messages keep the value unread)
    figures_pending = fields.BooleanField(null=True, default=True)

    class Meta:
        table = "messages"
        unique_together = (("channel", "source_id"),)
        indexes = (
            Index(fields=("conversation_id", "id")),
            Index(fields=("status", "next_attempt_at")),
        )


class InquiryStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Inquiry(Timestamped):
    """An inbound conversation nobody has taken yet."""

    id = fields.IntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="inquiries", on_delete=fields.CASCADE
    )
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="inquiries", on_delete=fields.CASCADE
    )
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="inquiries", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(InquiryStatus, max_length=10, default=InquiryStatus.OPEN)
    first_message_at = UtcDatetimeField()
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    decided_at = UtcDatetimeField(null=True)
    response_seconds = fields.IntField(null=True)
    interest: fields.ForeignKeyNullableRelation[Interest] = fields.ForeignKeyField(
        "models.Interest", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    rejection_reason: fields.ForeignKeyNullableRelation[Reason] = fields.ForeignKeyField(
        "models.Reason", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    # Kept figures (crm.reports.kept_minutes): the first reply a person wrote, the working
    # minutes to the decision (accepted only) and to that reply, and the stamp of the
    # calendar they were counted under (NULL: to count again, first reply included)
    first_reply_at = UtcDatetimeField(null=True)
    accept_minutes = fields.FloatField(null=True)
    first_reply_minutes = fields.FloatField(null=True)
    kept_calendar = fields.IntField(null=True)

    class Meta:
        table = "inquiries"
        indexes = (
            Index(fields=("status", "channel_id")),
            Index(fields=("first_message_at",)),  # the reports: inquiries of a period
            Index(fields=("conversation_id", "status")),  # the desk: a conversation's
            Index(fields=("kept_calendar",)),  # kept_minutes: the rows to count (again)
        )


class RawEventStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    UNPARSED = "unparsed"


class RawEvent(Timestamped):
    """A webhook body or polled update exactly as received, stored before it is acknowledged."""

    id = fields.BigIntField(primary_key=True)
    channel: fields.ForeignKeyNullableRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="raw_events", null=True, on_delete=fields.SET_NULL
    )
    body = fields.TextField()
    status = fields.CharEnumField(RawEventStatus, max_length=10, default=RawEventStatus.PENDING)
    error = fields.TextField(default="")
    attempts = fields.SmallIntField(default=0)
    claimed_until = UtcDatetimeField(null=True)  # lease of the worker processing it
    processed_at = UtcDatetimeField(null=True)

    class Meta:
        table = "raw_events"
        indexes = (Index(fields=("status", "id")),)

"""What the web desk keeps besides the conversation itself: what each user has read,
internal notes, the one-shot keys of replies typed in the panel, and the live feed's
events when PostgreSQL carries them (LISTEN/NOTIFY has no history to resume from)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.conversations import Conversation, Message
    from crm.models.users import User


class ConversationRead(Timestamped):
    """The newest message of the conversation the user had seen when they last opened it:
    the customer messages after it are their unread ones."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name=False, on_delete=fields.CASCADE
    )
    last_read_id = fields.BigIntField(default=0)

    class Meta:
        table = "conversation_reads"
        unique_together = (("user", "conversation"),)


class ConversationNote(Timestamped):
    """A note colleagues leave in a conversation: shown in the thread, never sent."""

    id = fields.BigIntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="notes", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    text = fields.TextField()

    class Meta:
        table = "conversation_notes"
        indexes = (Index(fields=("conversation_id", "id")),)


class ReplyKey(Timestamped):
    """A reply form's one-shot key: the form sent twice queues one message."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=64)
    message: fields.ForeignKeyRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name=False, on_delete=fields.CASCADE
    )

    class Meta:
        table = "reply_keys"
        unique_together = (("user", "key"),)


class DeskEvent(Model):
    """One event of the live desk on PostgreSQL (inbox.desk_feed.PostgresFeed): its id is
    the event id a reconnecting page names; the oldest are trimmed."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    conversation_id = fields.IntField()  # a plain number: the event outlives nothing
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "desk_events"

"""What the managers' Telegram bot has shown to whom, and what it has already sent.

A chat card ties a message in a manager's chat to what it shows (an inquiry, a customer
message, the delivery status of a reply, a deal), so a reply to it reaches the right
customer and a decision on an inquiry updates every manager's card. The digest ledger
makes the daily digest go out once per manager and day, even with several workers."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.conversations import Conversation, Inquiry, Message
    from crm.models.deals import Interest
    from crm.models.users import User


class CardKind(StrEnum):
    INQUIRY = "inquiry"  # an inquiry waiting to be taken: Accept / Reject / Open
    MESSAGE = "message"  # a customer message (or a part of a long one)
    REPLY = "reply"  # the delivery status of a manager's reply
    DEAL = "deal"  # a deal card


class ChatCard(Timestamped):
    """One bot message in a manager's private chat and what it is about."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="chat_cards", on_delete=fields.CASCADE
    )
    chat_id = fields.BigIntField()
    chat_message_id = fields.BigIntField()
    kind = fields.CharEnumField(CardKind, max_length=8)
    conversation: fields.ForeignKeyNullableRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name=False, null=True, on_delete=fields.CASCADE
    )
    inquiry: fields.ForeignKeyNullableRelation[Inquiry] = fields.ForeignKeyField(
        "models.Inquiry", related_name=False, null=True, on_delete=fields.CASCADE
    )
    interest: fields.ForeignKeyNullableRelation[Interest] = fields.ForeignKeyField(
        "models.Interest", related_name=False, null=True, on_delete=fields.CASCADE
    )
    # The customer message shown, or the manager's outgoing reply whose status is shown.
    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name=False, null=True, on_delete=fields.CASCADE
    )

    class Meta:
        table = "chat_cards"
        unique_together = (("chat_id", "chat_message_id"),)
        indexes = (
            Index(fields=("inquiry_id", "kind")),
            Index(fields=("message_id", "kind")),
        )


class DigestSent(Timestamped):
    """The daily digest of one manager for one local day: claimed, then sent."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="digests", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    sent_at = UtcDatetimeField(null=True)

    class Meta:
        table = "digests_sent"
        unique_together = (("user", "day"),)

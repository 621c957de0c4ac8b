"""Mailings: a template sent to an audience through the channels each client uses."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.channels import Channel, ChannelIdentity
    from crm.models.clients import Client, ContactPerson
    from crm.models.conversations import Inquiry, Message
    from crm.models.users import User


class MailingKind(StrEnum):
    INFORMATIONAL = "info"  # may go to every client who did not opt out
    ADVERTISING = "ads"  # only to clients with a recorded consent
    SURVEY = "survey"  # questions answered with buttons or text (crm.mailings.surveys)


class MailingStatus(StrEnum):
    DRAFT = "draft"  # editable
    SCHEDULED = "scheduled"  # started: recipients fixed, sent at their local time
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"  # every recipient handed to the outbox


class Mailing(Timestamped):
    """A template, an audience, the channels in order of preference and a send time (a
    local date and time: each recipient gets it in their own zone, inside the company's
    mailing hours). Once started it cannot be edited, only paused, resumed or cancelled."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(MailingKind, max_length=8, default=MailingKind.INFORMATIONAL)
    status = fields.CharEnumField(MailingStatus, max_length=10, default=MailingStatus.DRAFT)
    text = fields.TextField(default="")
    subject = fields.CharField(max_length=300, default="")  # email
    html = fields.TextField(default="")  # email, optional
    # One optional file: name, mime, size, content_b64 (as a reply's attachment).
    attachment: dict[str, Any] = fields.JSONField(default=dict)
    # tags (ids), filter (crm.client_list.ClientFilters fields), client_ids, key_persons
    audience: dict[str, Any] = fields.JSONField(default=dict)
    # "auto": the client's most recent messenger first, then email; or one channel kind
    channel_mode = fields.CharField(max_length=16, default="auto")
    send_on = fields.DateField(null=True)  # None: at once
    send_minute = fields.SmallIntField(null=True)  # local minutes after midnight
    reply_days = fields.SmallIntField(default=3)  # a reply within: attributed to the mailing
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    started_at = UtcDatetimeField(null=True)
    finished_at = UtcDatetimeField(null=True)
    # removed by a rule at the start: {reason: count}
    removed: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "mailings"


class MailingRecipient(Timestamped):
    """One client (or key person) a started mailing reaches, on one channel, at `due_at`.

    The mailer turns a due row into an outbox message (`message`) once, under a lease;
    the message's status is the recipient's result."""

    id = fields.BigIntField(primary_key=True)
    mailing: fields.ForeignKeyRelation[Mailing] = fields.ForeignKeyField(
        "models.Mailing", related_name="recipients", on_delete=fields.CASCADE
    )
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name=False, on_delete=fields.CASCADE
    )
    person: fields.ForeignKeyNullableRelation[ContactPerson] = fields.ForeignKeyField(
        "models.ContactPerson", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name=False, on_delete=fields.CASCADE
    )
    # the messenger identity, or None for email (address below)
    identity: fields.ForeignKeyNullableRelation[ChannelIdentity] = fields.ForeignKeyField(
        "models.ChannelIdentity", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    address = fields.CharField(max_length=254, default="")
    due_at = UtcDatetimeField()
    claimed_until = UtcDatetimeField(null=True)
    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    skipped = fields.CharField(max_length=32, default="")  # why it was not sent after all
    sent_at = UtcDatetimeField(null=True)
    replied_at = UtcDatetimeField(null=True)
    inquiry: fields.ForeignKeyNullableRelation[Inquiry] = fields.ForeignKeyField(
        "models.Inquiry", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # A survey's answer buttons and links carry this random token (never a guessable id).
    survey_token = fields.CharField(max_length=24, null=True, unique=True)

    class Meta:
        table = "mailing_recipients"
        indexes = (
            Index(fields=("due_at", "id")),
            Index(fields=("mailing_id", "id")),
            Index(fields=("client_id", "sent_at")),
        )


class PaceSlot(Model):
    """The next free moment (Unix seconds) of one pacing key, shared by every worker on
    PostgreSQL (`inbox.ratelimit.PgPacer`): `c:{channel}` or `u:{channel}:{chat}`."""

    key = fields.CharField(max_length=200, primary_key=True)
    next_at = fields.FloatField()

    class Meta:
        table = "pace_slots"

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from crm.models.base import Timestamped

if TYPE_CHECKING:
    from crm.models.clients import Client
    from crm.models.scenarios import Scenario
    from crm.models.users import User


class ChannelKind(StrEnum):
    TELEGRAM = "telegram"
    VK = "vk"
    VIBER = "viber"
    EMAIL = "email"


class Visibility(StrEnum):
    ALL = "all"
    USER = "user"
    USERS = "users"


class Channel(Timestamped):
    """A connected account: a customer-facing Telegram bot, VK community, Viber bot, mailbox."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ChannelKind, max_length=16)
    name = fields.CharField(max_length=200)
    # Tokens, passwords, secrets; never shown back in full.
    credentials: dict[str, Any] = fields.JSONField(default=dict)
    # Non-secret settings: sender name, IMAP/SMTP hosts, polling mode, ...
    settings: dict[str, Any] = fields.JSONField(default=dict)
    # Cursor state of pollers (IMAP UIDVALIDITY/last UID, long-poll ts, update offset).
    state: dict[str, Any] = fields.JSONField(default=dict)
    api_base = fields.CharField(max_length=300, default="")
    visibility = fields.CharEnumField(Visibility, max_length=8, default=Visibility.ALL)
    visible_users: fields.ManyToManyRelation[User] = fields.ManyToManyField(
        "models.User", related_name="visible_channels", through="channel_visible_users"
    )
    responsible: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="responsible_channels", null=True, on_delete=fields.SET_NULL
    )
    default_scenario: fields.ForeignKeyNullableRelation[Scenario] = fields.ForeignKeyField(
        "models.Scenario", related_name="channels", null=True, on_delete=fields.SET_NULL
    )
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "channels"


class ChannelIdentity(Timestamped):
    """Who a sender is on one channel (Telegram user id, VK id, Viber id, email) -> client."""

    id = fields.IntField(primary_key=True)
    channel: fields.ForeignKeyRelation[Channel] = fields.ForeignKeyField(
        "models.Channel", related_name="identities", on_delete=fields.CASCADE
    )
    external_id = fields.CharField(max_length=254)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="identities", on_delete=fields.CASCADE
    )
    display_name = fields.CharField(max_length=300, default="")
    subscribed = fields.BooleanField(default=True)

    class Meta:
        table = "channel_identities"
        unique_together = (("channel", "external_id"),)

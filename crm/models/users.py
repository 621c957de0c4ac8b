from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from crm.models.base import Timestamped, UtcDatetimeField


class Role(StrEnum):
    ADMIN = "admin"
    HEAD = "head"  # head of sales: sees everything, administers nothing
    MANAGER = "manager"


class User(Timestamped):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    full_name = fields.CharField(max_length=200)
    phone = fields.CharField(max_length=20, null=True)
    role = fields.CharEnumField(Role, max_length=16, default=Role.MANAGER)
    locale = fields.CharField(max_length=8, default="ru")
    timezone = fields.CharField(max_length=64, default="Europe/Moscow")
    telegram_user_id = fields.BigIntField(null=True, unique=True)
    telegram_blocked = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    password_hash = fields.CharField(max_length=200, null=True)

    groups: fields.ManyToManyRelation[UserGroup]

    class Meta:
        table = "users"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def sees_everything(self) -> bool:
        """Admins and heads of sales see every client, deal, conversation and report
        (`crm.access`); only admins change settings, channels, users and API keys."""
        return self.role in (Role.ADMIN, Role.HEAD)

    def __str__(self) -> str:
        return self.full_name


class UserGroup(Timestamped):
    """A named team such as "Sales": a responsible party or a list of users in one name."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    members: fields.ManyToManyRelation[User] = fields.ManyToManyField(
        "models.User", related_name="groups", through="user_group_members"
    )

    class Meta:
        table = "user_groups"


class Invite(Timestamped):
    """A one-time code that binds a Telegram account to a CRM user."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invites", on_delete=fields.CASCADE
    )
    expires_at = UtcDatetimeField()
    used_at = UtcDatetimeField(null=True)

    class Meta:
        table = "invites"

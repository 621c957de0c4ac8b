"""Advertising consent, opt-out and bounced addresses: what a mailing may reach."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.clients import Client
    from crm.models.users import User


class ConsentSource(StrEnum):
    IMPORT = "import"  # came with an imported list
    FORM = "form"  # a web form or a signed paper form the manager records
    CHAT = "chat"  # the client's own "yes" in a chat


class ClientConsent(Timestamped):
    """One row per client: the advertising consent (when, by what) and the opt-out.

    An opt-out is kept forever: no later consent lifts it (only the client writing
    "yes" again in a chat, recorded by a person, does: `crm.mailings.consent`)."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="consents", on_delete=fields.CASCADE, unique=True
    )
    consented_at = UtcDatetimeField(null=True)
    source = fields.CharEnumField(ConsentSource, max_length=8, null=True)
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    opted_out_at = UtcDatetimeField(null=True)
    opted_out_via = fields.CharField(max_length=16, default="")  # telegram, vk, email, web...

    class Meta:
        table = "client_consents"


class EmailBounce(Timestamped):
    """An address our mail did not reach (a bounce, a refused recipient, or marked by
    hand): mailings skip it; managers' replies still try."""

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=254, unique=True)
    bounced_at = UtcDatetimeField()
    reason = fields.TextField(default="")

    class Meta:
        table = "email_bounces"

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.fields.db_defaults import SqlDefault
from tortoise.indexes import Index

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.users import User


# A client never contacted: their last contact sorts as the oldest (crm.last_contact).
NEVER_CONTACTED = datetime(1900, 1, 1, tzinfo=UTC)
NEVER_CONTACTED_SQL = "'1900-01-01 00:00:00+00:00'"  # as either database stores it


class ClientKind(StrEnum):
    LEGAL = "legal"
    INDIVIDUAL = "individual"


class RelationType(StrEnum):
    BUYER = "buyer"
    SUPPLIER = "supplier"
    COMPETITOR = "competitor"
    GOVERNMENT = "government"
    FOUNDER = "founder"
    OTHER = "other"


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class Tag(Timestamped):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)

    class Meta:
        table = "tags"


class Client(Timestamped):
    """A customer: a legal entity or an individual (sole proprietors are individuals)."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ClientKind, max_length=16, default=ClientKind.INDIVIDUAL)
    name = fields.CharField(max_length=300)
    legal_name = fields.CharField(max_length=500, default="")
    inn = fields.CharField(max_length=12, null=True, db_index=True)
    kpp = fields.CharField(max_length=9, null=True)
    org_form = fields.CharField(max_length=50, default="")
    birthday = fields.DateField(null=True)
    # month * 100 + day of the birthday: the birthdays-on-a-date query is an index lookup.
    birthday_md = fields.SmallIntField(null=True, db_index=True)
    region = fields.CharField(max_length=100, default="")
    timezone = fields.CharField(max_length=64, null=True)
    relation_type = fields.CharEnumField(RelationType, max_length=16, default=RelationType.BUYER)
    responsible: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="clients", null=True, on_delete=fields.SET_NULL
    )
    is_lead = fields.BooleanField(default=False)
    lead_source = fields.CharField(max_length=200, default="")
    note = fields.TextField(default="")
    merged_into: fields.ForeignKeyNullableRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="merged_clients", null=True, on_delete=fields.SET_NULL
    )
    tags: fields.ManyToManyRelation[Tag] = fields.ManyToManyField(
        "models.Tag", related_name="clients", through="client_tags"
    )
    # The latest done interaction's moment, kept by crm.last_contact (the list's sort).
    last_contact_at = UtcDatetimeField(
        default=NEVER_CONTACTED, db_default=SqlDefault(NEVER_CONTACTED_SQL)
    )

    contacts: fields.ReverseRelation[ClientContact]
    persons: fields.ReverseRelation[ContactPerson]

    class Meta:
        table = "clients"
        indexes = (Index(fields=("responsible_id", "merged_into_id")),)

    def __str__(self) -> str:
        return self.name


class ClientContact(Timestamped):
    """A normalized phone (E.164) or email of a client: duplicate search and identity lookup."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="contacts", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(ContactKind, max_length=8)
    value = fields.CharField(max_length=254)
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "client_contacts"
        unique_together = (("client", "kind", "value"),)
        indexes = (Index(fields=("kind", "value")),)


class ContactPerson(Timestamped):
    """A key person of a client (director, accountant, ...), with a birthday of their own."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="persons", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    role = fields.CharField(max_length=100, default="")
    phone = fields.CharField(max_length=20, null=True)
    email = fields.CharField(max_length=254, null=True)
    birthday = fields.DateField(null=True)
    birthday_md = fields.SmallIntField(null=True, db_index=True)

    class Meta:
        table = "contact_persons"

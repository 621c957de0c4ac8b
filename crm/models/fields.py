from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from crm.models.base import Timestamped

if TYPE_CHECKING:
    from crm.models.clients import Client


class BelongsTo(StrEnum):
    ALL = "all"
    LEGAL = "legal"
    INDIVIDUAL = "individual"


class FieldType(StrEnum):
    LIST = "list"
    STRING = "string"
    NUMBER = "number"
    FLAG = "flag"
    DATE = "date"


class FieldSection(Timestamped):
    """A group of fields on the client card."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    position = fields.IntField(default=0)

    class Meta:
        table = "field_sections"


class FieldDefinition(Timestamped):
    """A custom client field ("additional attribute" in 1C)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    belongs_to = fields.CharEnumField(BelongsTo, max_length=16, default=BelongsTo.ALL)
    type = fields.CharEnumField(FieldType, max_length=8)
    section: fields.ForeignKeyNullableRelation[FieldSection] = fields.ForeignKeyField(
        "models.FieldSection", related_name="fields", null=True, on_delete=fields.SET_NULL
    )
    position = fields.IntField(default=0)
    required = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)

    options: fields.ReverseRelation[FieldOption]

    class Meta:
        table = "field_definitions"
        unique_together = (("name", "belongs_to"),)


class FieldOption(Timestamped):
    """One value of a list field."""

    id = fields.IntField(primary_key=True)
    definition: fields.ForeignKeyRelation[FieldDefinition] = fields.ForeignKeyField(
        "models.FieldDefinition", related_name="options", on_delete=fields.CASCADE
    )
    value = fields.CharField(max_length=200)
    position = fields.IntField(default=0)

    class Meta:
        table = "field_options"
        unique_together = (("definition", "value"),)


class FieldValue(Timestamped):
    """A typed value of one custom field for one client (exactly one value column is set)."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="field_values", on_delete=fields.CASCADE
    )
    definition: fields.ForeignKeyRelation[FieldDefinition] = fields.ForeignKeyField(
        "models.FieldDefinition", related_name="values", on_delete=fields.CASCADE
    )
    value_string = fields.TextField(null=True)
    value_number = fields.DecimalField(max_digits=20, decimal_places=4, null=True)
    value_flag = fields.BooleanField(null=True)
    value_date = fields.DateField(null=True)
    value_option: fields.ForeignKeyNullableRelation[FieldOption] = fields.ForeignKeyField(
        "models.FieldOption", related_name="values", null=True, on_delete=fields.RESTRICT
    )

    class Meta:
        table = "field_values"
        unique_together = (("client", "definition"),)

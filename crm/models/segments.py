"""Segments: saved rules over clients (crm.segments), their members with the dates each
joined and left, and each client's ABC/XYZ class."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.clients import Client
    from crm.models.users import User


class Segment(Timestamped):
    """A saved rule (crm.segments.rules.Rule as JSON), its members recomputed nightly and
    on demand."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    description = fields.TextField(default="")
    rule: dict[str, Any] = fields.JSONField(default=dict)
    computed_at = UtcDatetimeField(null=True)
    members_count = fields.IntField(default=0)
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "segments"


class SegmentMember(Model):
    """A client's stay in a segment: joined at a recompute, left at a later one (`left_at`
    empty while a member). A client who comes back gets a new row. Rows are written in bulk
    by crm.segments.members, so the table keeps only these moments."""

    id = fields.BigIntField(primary_key=True)
    # No foreign key constraints: a recompute inserts ~100,000 rows, and the constraints'
    # triggers took longer than the rest of it. A deleted segment's rows go with it
    # (crm.segments.service.delete_segment); a deleted client's rows are left behind and
    # marked left at the next recompute (every read joins the clients).
    segment: fields.ForeignKeyRelation[Segment] = fields.ForeignKeyField(
        "models.Segment", related_name="members", on_delete=fields.NO_ACTION, db_constraint=False
    )
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client",
        related_name=False,
        on_delete=fields.NO_ACTION,
        db_constraint=False,
        db_index=True,
    )
    joined_at = UtcDatetimeField()
    left_at = UtcDatetimeField(null=True)

    class Meta:
        table = "segment_members"
        indexes = (Index(fields=("segment_id", "client_id")),)


class ClientClass(Model):
    """A client's ABC class (by revenue over the last 12 whole months) and XYZ class (by the
    variation of their monthly revenue), written by the nightly classification
    (crm.segments.abcxyz); clients without revenue have no row."""

    # the client's id (no foreign key: the nightly classification rewrites every row, and
    # every read joins the clients)
    id = fields.IntField(primary_key=True)
    client_id = fields.IntField(unique=True)
    abc = fields.CharField(max_length=1)
    xyz = fields.CharField(max_length=1)
    revenue = fields.DecimalField(max_digits=18, decimal_places=2)
    variation = fields.FloatField()  # the coefficient of variation, in percent
    computed_on = fields.DateField()

    class Meta:
        table = "client_classes"
        indexes = (Index(fields=("abc", "xyz")),)

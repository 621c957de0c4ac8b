from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from crm.models.base import Timestamped, UtcDatetimeField

if TYPE_CHECKING:
    from crm.models.clients import Client
    from crm.models.scenarios import Reason, Scenario, Stage
    from crm.models.users import User


class InterestStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Interest(Timestamped):
    """A deal: a client's interest moving through the stages of a scenario."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="interests", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=300)
    scenario: fields.ForeignKeyRelation[Scenario] = fields.ForeignKeyField(
        "models.Scenario", related_name="interests", on_delete=fields.RESTRICT
    )
    stage: fields.ForeignKeyRelation[Stage] = fields.ForeignKeyField(
        "models.Stage", related_name="interests", on_delete=fields.RESTRICT
    )
    responsible: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="interests", null=True, on_delete=fields.SET_NULL
    )
    amount = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    currency = fields.CharField(max_length=3, default="RUB")
    status = fields.CharEnumField(InterestStatus, max_length=8, default=InterestStatus.OPEN)
    loss_reason: fields.ForeignKeyNullableRelation[Reason] = fields.ForeignKeyField(
        "models.Reason", related_name="lost_interests", null=True, on_delete=fields.RESTRICT
    )
    closed_at = UtcDatetimeField(null=True)
    source = fields.CharField(max_length=200, default="")

    class Meta:
        table = "interests"
        indexes = (
            Index(fields=("responsible_id", "status")),
            # the reports: deals opened / closed in a period
            Index(fields=("created_at",)),
            Index(fields=("closed_at",)),
        )


class StageChange(Timestamped):
    """One move of an interest from a stage to another (or its win/loss)."""

    id = fields.IntField(primary_key=True)
    interest: fields.ForeignKeyRelation[Interest] = fields.ForeignKeyField(
        "models.Interest", related_name="stage_changes", on_delete=fields.CASCADE
    )
    from_stage: fields.ForeignKeyNullableRelation[Stage] = fields.ForeignKeyField(
        "models.Stage", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    to_stage: fields.ForeignKeyRelation[Stage] = fields.ForeignKeyField(
        "models.Stage", related_name=False, on_delete=fields.RESTRICT
    )
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    robots_done = fields.BooleanField(default=False)
    robots_claimed_until = UtcDatetimeField(null=True)  # lease of the robot runner
    robots_attempts = fields.SmallIntField(default=0)
    robots_error = fields.TextField(default="")
    # Kept for the funnel by crm.stage_moves.settle (None until settled): the moment of the
    # interest's next move, its previous entry of the same stage, and whether it moved to
    # a later stage (a higher position) strictly later.
    left_at = UtcDatetimeField(null=True)
    entered_before = UtcDatetimeField(null=True)
    advanced = fields.BooleanField(null=True)

    class Meta:
        table = "stage_changes"
        indexes = (
            Index(fields=("robots_done", "id")),
            # the funnel: stage entries in a period, an interest's moves in order
            Index(fields=("created_at",)),
            Index(fields=("interest_id", "created_at")),
        )

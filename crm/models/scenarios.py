from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from crm.models.base import Timestamped


class Scenario(Timestamped):
    """A sales scenario: the ordered stages an interest goes through."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    require_next_step = fields.BooleanField(default=True)
    allow_past_planning = fields.BooleanField(default=True)
    is_default = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)

    stages: fields.ReverseRelation[Stage]

    class Meta:
        table = "scenarios"


class StageMark(StrEnum):
    """What a stage stands for in money facts (crm.money.stages): at most one stage of a
    scenario has each mark."""

    NONE = ""
    INVOICE = "invoice"  # an invoice issued takes the interest here
    PAID = "paid"  # the interest's invoices paid in full take it here


class Stage(Timestamped):
    id = fields.IntField(primary_key=True)
    scenario: fields.ForeignKeyRelation[Scenario] = fields.ForeignKeyField(
        "models.Scenario", related_name="stages", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    position = fields.IntField(default=0)
    mark = fields.CharEnumField(StageMark, max_length=8, default=StageMark.NONE)

    actions: fields.ReverseRelation[StageAction]

    class Meta:
        table = "stages"
        ordering = ["position", "id"]


class StageActionKind(StrEnum):
    SEND_MESSAGE = "send_message"  # params: {"template": "..."}
    CREATE_TASK = "create_task"  # params: {"subject": "...", "due_in_hours": 24}


class StageAction(Timestamped):
    """A robot: what happens once when an interest enters the stage."""

    id = fields.IntField(primary_key=True)
    stage: fields.ForeignKeyRelation[Stage] = fields.ForeignKeyField(
        "models.Stage", related_name="actions", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(StageActionKind, max_length=16)
    params: dict[str, object] = fields.JSONField(default=dict)
    position = fields.IntField(default=0)

    class Meta:
        table = "stage_actions"


class ReasonKind(StrEnum):
    LOSS = "loss"
    REJECTION = "rejection"


class Reason(Timestamped):
    """An entry of the loss-reason or the inquiry-rejection-reason list."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ReasonKind, max_length=16)
    text = fields.CharField(max_length=200)
    position = fields.IntField(default=0)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "reasons"
        unique_together = (("kind", "text"),)

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from crm.models.base import Timestamped

if TYPE_CHECKING:
    from crm.models.users import User


class ManagerPlan(Timestamped):
    """A manager's plan for one month: an amount won and/or a number of wins."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="plans", on_delete=fields.CASCADE
    )
    month = fields.DateField()  # the first day of the month
    amount = fields.DecimalField(max_digits=16, decimal_places=2, null=True)
    wins = fields.IntField(null=True)

    class Meta:
        table = "manager_plans"
        unique_together = (("user", "month"),)

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from crm.models.base import Timestamped

if TYPE_CHECKING:
    from crm.models.clients import Client
    from crm.models.deals import Interest
    from crm.models.users import User


class Invoice(Timestamped):
    """An invoice issued against an interest (a money fact: what the client owes).

    `client` repeats the interest's client so that revenue and receivables per client are read
    without a join (kept equal by `crm.money`, also across a merge)."""

    id = fields.IntField(primary_key=True)
    interest: fields.ForeignKeyRelation[Interest] = fields.ForeignKeyField(
        "models.Interest", related_name="invoices", on_delete=fields.CASCADE
    )
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="invoices", on_delete=fields.CASCADE
    )
    number = fields.CharField(max_length=64)
    issued_on = fields.DateField()
    due_on = fields.DateField(null=True)
    amount = fields.DecimalField(max_digits=16, decimal_places=2)
    currency = fields.CharField(max_length=3, default="RUB")
    # what has been paid against it, kept by crm.money with each payment (receivables read it)
    paid = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    payments: fields.ReverseRelation[Payment]

    class Meta:
        table = "invoices"
        unique_together = (("interest", "number"),)
        indexes = (
            Index(fields=("client_id", "issued_on")),
            Index(fields=("due_on",)),
        )


class Payment(Timestamped):
    """A payment received against an invoice (revenue is counted on its date)."""

    id = fields.IntField(primary_key=True)
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="payments", on_delete=fields.CASCADE
    )
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="payments", on_delete=fields.CASCADE
    )
    paid_on = fields.DateField()
    amount = fields.DecimalField(max_digits=16, decimal_places=2)
    # the part over what was owed, recorded only when the user asked for it
    overpayment = fields.DecimalField(max_digits=16, decimal_places=2, default=0)
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "payments"
        indexes = (Index(fields=("client_id", "paid_on")),)

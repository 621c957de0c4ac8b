"""Payments against invoices. A payment over what the invoice still owes is refused unless
the caller asks for an overpayment, which is then recorded apart (`Payment.overpayment`)
while the invoice's `paid` stops at its amount. The invoice row is locked while its `paid`
changes, so two payments at once cannot both take the same debt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from crm.access import interest_owner
from crm.errors import NotFound, ValidationFailed
from crm.history import record_changes
from crm.i18n import N_
from crm.models import Interest, Invoice, Payment, User
from crm.money import stages, values
from crm.money.invoices import access_invoice


async def record_payment(
    *,
    actor: User | None,
    invoice_id: int,
    amount: Any,
    paid_on: Any = None,
    overpayment: bool = False,
    invoice_checked: bool = False,
) -> Payment:
    """A payment of the invoice (seen by `actor`; `actor=None` with `invoice_checked`: the
    system, which found the invoice itself). A blank date is today. Over what is owed:
    refused unless `overpayment`."""
    if actor is not None:
        await access_invoice(actor, invoice_id)
    else:
        assert invoice_checked
    checked = values.checked(
        {
            "amount": lambda: values.amount(amount),
            "paid_on": lambda: values.day(paid_on, "paid_on", required=False),
        }
    )
    paid: Decimal = checked["amount"]
    day = checked["paid_on"] or await values.today()
    await values.not_future(day, "paid_on")
    async with in_transaction():
        invoice = await Invoice.filter(id=invoice_id).select_for_update().first()
        if invoice is None:
            raise NotFound()
        owed = max(invoice.amount - invoice.paid, Decimal("0.00"))
        over = max(paid - owed, Decimal("0.00"))
        if over and not overpayment:
            raise ValidationFailed.field(
                "amount",
                N_("More than is owed on the invoice ({owed}): mark it as an overpayment"),
                owed=f"{owed:.2f}",
            )
        payment = await Payment.create(
            invoice_id=invoice.id,
            client_id=invoice.client_id,  # type: ignore[attr-defined]
            paid_on=day,
            amount=paid,
            overpayment=over,
            author=actor,
        )
        invoice.paid = invoice.paid + paid - over
        await invoice.save(update_fields=["paid", "updated_at"])
        interest = await Interest.get(id=invoice.interest_id)  # type: ignore[attr-defined]
        await record_changes(
            "interest",
            interest.id,
            {},
            {"payment": f"{invoice.number}: {paid} {invoice.currency}"},
            actor=actor,
        )
        if invoice.paid >= invoice.amount:
            await stages.after_full_payment(interest, actor=actor)
    return payment


async def payment_filter(actor: User) -> Q:
    """The payments of the invoices `actor` may see."""
    owner = await interest_owner(actor)
    if owner is None:
        return Q()
    return Q(invoice__interest__responsible_id=owner) | Q(
        invoice__interest__client__responsible_id=owner
    )


async def access_payment(actor: User, payment_id: int) -> Payment:
    payment = await Payment.filter(Q(id=payment_id) & await payment_filter(actor)).first()
    if payment is None:
        raise NotFound()
    return payment

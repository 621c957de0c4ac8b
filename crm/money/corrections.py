"""Correcting money facts: an invoice's number, dates and amount changed, an invoice with no
payments deleted, a payment deleted (a mistyped amount is deleted and entered again).
Whoever may see the deal may correct its money facts, as they may enter them; every
correction is written to the deal's history.

An invoice's amount cannot go below what was paid on it (delete a payment first). A change
that leaves the invoice fully paid moves the deal as a full payment does (the "paid" stage
mark); deleting a payment or raising an amount never moves a deal back: its stage is the
managers' to change. The invoice row is locked while its `paid` changes, as a payment does."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from crm.errors import NotFound, ValidationFailed
from crm.history import record_changes
from crm.i18n import N_
from crm.models import Interest, Invoice, Payment, User
from crm.money import stages, values
from crm.money.invoices import access_invoice
from crm.money.payments import access_payment

UNCHANGED: Any = object()  # an argument not given: the field keeps its value


def _fact(invoice: Invoice) -> str:
    return f"{invoice.number}: {invoice.amount} {invoice.currency}"


async def change_invoice(
    *,
    actor: User,
    invoice_id: int,
    amount: Any = UNCHANGED,
    number: Any = UNCHANGED,
    issued_on: Any = UNCHANGED,
    due_on: Any = UNCHANGED,
) -> Invoice:
    """The invoice with the given fields changed (a blank `due_on` removes the due date;
    a blank number or invoice date is refused: an invoice keeps both)."""
    await access_invoice(actor, invoice_id)
    given = {"amount": amount, "number": number, "issued_on": issued_on, "due_on": due_on}
    checks: dict[str, Callable[[], Any]] = {
        "amount": lambda: values.amount(amount),
        "number": lambda: values.number(number) or _required("number"),
        "issued_on": lambda: values.day(issued_on, "issued_on"),
        "due_on": lambda: values.day(due_on, "due_on", required=False),
    }
    checked = values.checked({k: c for k, c in checks.items() if given[k] is not UNCHANGED})
    taken = ValidationFailed.field("number", N_("The deal already has an invoice with this number"))
    try:
        async with in_transaction():
            invoice = await _change(invoice_id, checked, taken, actor)
    except IntegrityError:  # the same number given at the same moment by someone else
        raise taken from None
    return invoice


def _required(field: str) -> str:
    raise ValidationFailed.field(field, N_("Required"))


async def _change(
    invoice_id: int, checked: dict[str, Any], taken: ValidationFailed, actor: User
) -> Invoice:
    invoice = await Invoice.filter(id=invoice_id).select_for_update().first()
    if invoice is None:
        raise NotFound()
    before = _fact(invoice)
    was_paid = invoice.paid >= invoice.amount
    issued = checked.get("issued_on", invoice.issued_on)
    due = checked.get("due_on", invoice.due_on)
    if due is not None and due < issued:
        raise ValidationFailed.field("due_on", N_("The due date is before the invoice's date"))
    amount: Decimal = checked.get("amount", invoice.amount)
    if amount < invoice.paid:
        raise ValidationFailed.field(
            "amount",
            N_("Less than is already paid on the invoice ({paid}): delete a payment first"),
            paid=f"{invoice.paid:.2f}",
        )
    number = checked.get("number", invoice.number)
    interest_id: int = invoice.interest_id  # type: ignore[attr-defined]
    if (
        number != invoice.number
        and await Invoice.filter(interest_id=interest_id, number=number).exists()
    ):
        raise taken
    invoice.number, invoice.issued_on, invoice.due_on, invoice.amount = number, issued, due, amount
    await invoice.save(update_fields=["number", "issued_on", "due_on", "amount", "updated_at"])
    if _fact(invoice) != before:
        await record_changes(
            "interest", interest_id, {"invoice": before}, {"invoice": _fact(invoice)}, actor=actor
        )
    if not was_paid and invoice.paid >= invoice.amount:
        await stages.after_full_payment(await Interest.get(id=interest_id), actor=actor)
    return invoice


async def delete_invoice(*, actor: User, invoice_id: int) -> None:
    """The invoice deleted, if no payment was recorded against it."""
    await access_invoice(actor, invoice_id)
    async with in_transaction():
        invoice = await Invoice.filter(id=invoice_id).select_for_update().first()
        if invoice is None:
            raise NotFound()
        if await Payment.filter(invoice_id=invoice.id).exists():
            raise ValidationFailed.field(
                "invoice", N_("The invoice has payments: delete them first")
            )
        interest_id: int = invoice.interest_id  # type: ignore[attr-defined]
        await invoice.delete()
        await record_changes(
            "interest", interest_id, {"invoice": _fact(invoice)}, {"invoice": None}, actor=actor
        )


async def delete_payment(*, actor: User, payment_id: int) -> Invoice:
    """The payment deleted and what it paid owed again on its invoice (returned)."""
    await access_payment(actor, payment_id)
    async with in_transaction():
        payment = await Payment.filter(id=payment_id).first()
        if payment is None:
            raise NotFound()
        invoice_id: int = payment.invoice_id  # type: ignore[attr-defined]
        invoice = await Invoice.filter(id=invoice_id).select_for_update().get()
        invoice.paid = max(invoice.paid - (payment.amount - payment.overpayment), Decimal("0.00"))
        await invoice.save(update_fields=["paid", "updated_at"])
        await payment.delete()
        await record_changes(
            "interest",
            invoice.interest_id,  # type: ignore[attr-defined]
            {"payment": f"{invoice.number}: {payment.amount} {invoice.currency}"},
            {"payment": None},
            actor=actor,
        )
    return invoice

"""Invoices: issued against an interest the actor may see, its client kept equal to the
interest's client; listed by interest, client or what the actor may see."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from crm.access import access_interest, interest_owner
from crm.errors import NotFound, ValidationFailed
from crm.history import record_changes
from crm.i18n import N_
from crm.models import Interest, Invoice, Payment, User
from crm.money import stages, values

CARD = ("number", "issued_on", "due_on", "amount", "currency")


async def issue_invoice(
    *,
    actor: User | None,
    interest_id: int,
    amount: Any,
    number: Any = "",
    issued_on: Any = None,
    due_on: Any = None,
    interest_checked: bool = False,
) -> Invoice:
    """An invoice of the interest (seen by `actor`; `actor=None` with `interest_checked`:
    system, which found the interest itself). A blank number gets the next one of the
    interest; a blank date is today; the due date is not before the invoice's date."""
    if actor is not None:
        interest = await access_interest(actor, interest_id)
    else:
        assert interest_checked
        found = await Interest.filter(id=interest_id).first()
        if found is None:
            raise NotFound()
        interest = found
    checked = values.checked(
        {
            "amount": lambda: values.amount(amount),
            "number": lambda: values.number(number),
            "issued_on": lambda: values.day(issued_on, "issued_on", required=False),
            "due_on": lambda: values.day(due_on, "due_on", required=False),
        }
    )
    issued: date = checked["issued_on"] or await values.today()
    due: date | None = checked["due_on"]
    if due is not None and due < issued:
        raise ValidationFailed.field("due_on", N_("The due date is before the invoice's date"))
    taken = ValidationFailed.field("number", N_("The deal already has an invoice with this number"))
    try:
        async with in_transaction():  # a savepoint within a caller's transaction
            invoice = await _create(interest, checked, issued, due, actor, taken)
    except IntegrityError:  # the same number given at the same moment by someone else
        raise taken from None
    return invoice


async def _create(
    interest: Interest,
    checked: dict[str, Any],
    issued: date,
    due: date | None,
    actor: User | None,
    taken: ValidationFailed,
) -> Invoice:
    label = checked["number"] or await _next_number(interest.id)
    if await Invoice.filter(interest_id=interest.id, number=label).exists():
        raise taken
    invoice = await Invoice.create(
        interest_id=interest.id,
        client_id=interest.client_id,  # type: ignore[attr-defined]
        number=label,
        issued_on=issued,
        due_on=due,
        amount=checked["amount"],
        paid=Decimal("0.00"),
        currency=interest.currency,
        author=actor,
    )
    await record_changes(
        "interest",
        interest.id,
        {},
        {"invoice": f"{label}: {checked['amount']} {interest.currency}"},
        actor=actor,
    )
    await stages.after_invoice(interest, actor=actor)
    return invoice


async def _next_number(interest_id: int) -> str:
    count = await Invoice.filter(interest_id=interest_id).count()
    while True:
        count += 1
        label = f"{interest_id}-{count}"
        if not await Invoice.filter(interest_id=interest_id, number=label).exists():
            return label


async def invoice_filter(actor: User) -> Q:
    """The invoices of the interests `actor` may see (crm.access.interest_filter's rule)."""
    owner = await interest_owner(actor)
    if owner is None:
        return Q()
    return Q(interest__responsible_id=owner) | Q(interest__client__responsible_id=owner)


async def access_invoice(actor: User, invoice_id: int) -> Invoice:
    """The invoice, if `actor` may see its interest; else NotFound."""
    invoice = await Invoice.filter(Q(id=invoice_id) & await invoice_filter(actor)).first()
    if invoice is None:
        raise NotFound()
    return invoice


async def invoices_of(interest_id: int) -> list[tuple[Invoice, list[Payment]]]:
    """The interest's invoices, newest first, each with its payments in date order (the
    caller checked the interest)."""
    invoices = await Invoice.filter(interest_id=interest_id).order_by("-issued_on", "-id")
    payments = await Payment.filter(invoice_id__in=[i.id for i in invoices] or [0]).order_by(
        "paid_on", "id"
    )
    by_invoice: dict[int, list[Payment]] = {i.id: [] for i in invoices}
    for payment in payments:
        by_invoice[payment.invoice_id].append(payment)  # type: ignore[attr-defined]
    return [(i, by_invoice[i.id]) for i in invoices]


def owed(invoice: Invoice) -> Any:
    """What is still owed on the invoice."""
    return invoice.amount - invoice.paid

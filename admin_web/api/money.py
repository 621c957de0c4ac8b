"""/api/v1/invoices and /api/v1/payments: list, create, read, correct and delete the money
facts of the deals the key's user may see (crm.money; a manager's own deals only). An
amount is above zero and below a trillion, to the kopeck; a payment over what the invoice
owes is refused (422 naming `amount`) unless `"overpayment": true`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import ConfigDict, Field

from admin_web.api.answers import PageOf
from admin_web.api.base import page, plain
from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Answer, Body, Id, Page, PerPage, Query, text_of
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import Invoice, Payment
from crm.money import corrections, invoices, payments

invoices_api = Api("invoices")
payments_api = Api("payments")

# an amount above zero, below 10^12 (kept to the kopeck): a number or its text
PositiveAmount = (
    Annotated[int, Field(gt=0, lt=10**12)]
    | Annotated[float, Field(gt=0, lt=1e12)]
    | Annotated[str, Field(pattern=r"^[0-9]{1,12}([.,][0-9]{1,2})?$")]
)
Day = Annotated[date, Field(description="YYYY-MM-DD, a year from 1990 to 2100")]


class InvoiceAnswer(Answer):
    id: Id
    interest_id: Id
    client_id: Id
    number: str
    issued_on: date
    due_on: date | None
    amount: str  # a decimal, as text
    paid: str
    owed: str
    currency: str
    created_at: datetime


class PaymentAnswer(Answer):
    id: Id
    invoice_id: Id
    client_id: Id
    paid_on: date
    amount: str
    overpayment: str
    created_at: datetime


class NewInvoice(Body):
    """An invoice of a deal; a blank `number` takes the deal's next one, no `issued_on`
    today; `due_on` not before `issued_on`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"interest_id": 1, "amount": "15000.00", "due_on": "2030-01-31"}]
        }
    )

    interest_id: Id
    amount: PositiveAmount
    number: Annotated[str, text_of(64)] | None = None
    issued_on: Day | None = None
    due_on: Day | None = None


class NewPayment(Body):
    """A payment against an invoice; no `paid_on` is today (never a later day)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"invoice_id": 1, "amount": 5000}]})

    invoice_id: Id
    amount: PositiveAmount
    paid_on: Day | None = None
    overpayment: bool = Field(False, description="accept the part over what is owed")


class InvoiceChanges(Body):
    """An invoice corrected: a field left out stays as it is, `"due_on": null` removes the
    due date; the amount not below what was paid on it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": "14000.00"}]})

    amount: PositiveAmount | None = None
    number: Annotated[str, text_of(64)] | None = None
    issued_on: Day | None = None
    due_on: Day | None = None


class InvoiceQuery(Query):
    interest_id: Id | None = None
    client_id: Id | None = None
    page: Page = 1
    per_page: PerPage = 50


class PaymentQuery(Query):
    invoice_id: Id | None = None
    client_id: Id | None = None
    page: Page = 1
    per_page: PerPage = 50


def invoice_json(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "interest_id": invoice.interest_id,  # type: ignore[attr-defined]
        "client_id": invoice.client_id,  # type: ignore[attr-defined]
        "number": invoice.number,
        "issued_on": plain(invoice.issued_on),
        "due_on": plain(invoice.due_on),
        "amount": plain(invoice.amount),
        "paid": plain(invoice.paid),
        "owed": plain(invoice.amount - invoice.paid),
        "currency": invoice.currency,
        "created_at": plain(invoice.created_at),
    }


def payment_json(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "invoice_id": payment.invoice_id,  # type: ignore[attr-defined]
        "client_id": payment.client_id,  # type: ignore[attr-defined]
        "paid_on": plain(payment.paid_on),
        "amount": plain(payment.amount),
        "overpayment": plain(payment.overpayment),
        "created_at": plain(payment.created_at),
    }


@invoices_api.get("/invoices", "Invoices", query=InvoiceQuery, answers={200: PageOf[InvoiceAnswer]})
async def list_invoices(call: Call[None, InvoiceQuery]) -> web.StreamResponse:
    query = call.query
    rows = Invoice.filter(await invoices.invoice_filter(call.user))
    if query.interest_id is not None:
        rows = rows.filter(interest_id=query.interest_id)
    if query.client_id is not None:
        rows = rows.filter(client_id=query.client_id)
    offset = (query.page - 1) * query.per_page
    found = await rows.order_by("-id").offset(offset).limit(query.per_page + 1)
    items = [invoice_json(i) for i in found[: query.per_page]]
    return page(items, query.page, query.per_page, len(found) > query.per_page)


@invoices_api.post("/invoices", "Issue an invoice", body=NewInvoice, answers={201: InvoiceAnswer})
async def create_invoice(call: Call[NewInvoice, None]) -> web.StreamResponse:
    data = call.body
    invoice = await invoices.issue_invoice(
        actor=call.user,
        interest_id=data.interest_id,
        amount=data.amount,
        number=data.number or "",
        issued_on=data.issued_on,
        due_on=data.due_on,
    )
    return json(invoice_json(invoice), status=201)


@invoices_api.get("/invoices/{id}", "An invoice", answers={200: InvoiceAnswer})
async def get_invoice(call: Call[None, None]) -> web.StreamResponse:
    return json(invoice_json(await invoices.access_invoice(call.user, call.id)))


@invoices_api.patch("/invoices/{id}", "Correct an invoice", body=InvoiceChanges,
                    answers={200: InvoiceAnswer})  # fmt: skip
async def change_invoice(call: Call[InvoiceChanges, None]) -> web.StreamResponse:
    changes = call.body.model_dump(exclude_unset=True)
    for name in ("amount", "number", "issued_on"):
        if name in changes and changes[name] is None:
            raise ValidationFailed.field(name, N_("Required"))
    invoice = await corrections.change_invoice(actor=call.user, invoice_id=call.id, **changes)
    return json(invoice_json(invoice))


@invoices_api.delete("/invoices/{id}", "Delete an invoice with no payments",
                     answers={204: None})  # fmt: skip
async def delete_invoice(call: Call[None, None]) -> web.StreamResponse:
    await corrections.delete_invoice(actor=call.user, invoice_id=call.id)
    return web.Response(status=204)


@payments_api.get("/payments", "Payments", query=PaymentQuery, answers={200: PageOf[PaymentAnswer]})
async def list_payments(call: Call[None, PaymentQuery]) -> web.StreamResponse:
    query = call.query
    rows = Payment.filter(await payments.payment_filter(call.user))
    if query.invoice_id is not None:
        rows = rows.filter(invoice_id=query.invoice_id)
    if query.client_id is not None:
        rows = rows.filter(client_id=query.client_id)
    offset = (query.page - 1) * query.per_page
    found = await rows.order_by("-id").offset(offset).limit(query.per_page + 1)
    items = [payment_json(p) for p in found[: query.per_page]]
    return page(items, query.page, query.per_page, len(found) > query.per_page)


@payments_api.post("/payments", "Record a payment", body=NewPayment, answers={201: PaymentAnswer})
async def create_payment(call: Call[NewPayment, None]) -> web.StreamResponse:
    data = call.body
    payment = await payments.record_payment(
        actor=call.user,
        invoice_id=data.invoice_id,
        amount=data.amount,
        paid_on=data.paid_on,
        overpayment=data.overpayment,
    )
    return json(payment_json(payment), status=201)


@payments_api.get("/payments/{id}", "A payment", answers={200: PaymentAnswer})
async def get_payment(call: Call[None, None]) -> web.StreamResponse:
    return json(payment_json(await payments.access_payment(call.user, call.id)))


@payments_api.delete("/payments/{id}", "Delete a payment (what it paid is owed again)",
                     answers={204: None})  # fmt: skip
async def delete_payment(call: Call[None, None]) -> web.StreamResponse:
    await corrections.delete_payment(actor=call.user, payment_id=call.id)
    return web.Response(status=204)

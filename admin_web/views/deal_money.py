"""The deal page's money facts: add an invoice, add a payment against one (an overpayment
only when its box is ticked); correct an invoice, delete one with no payments, delete a
payment (crm.money.corrections). Rights as the deal page: the deal is read through
`crm.access.access_interest` first (404 otherwise); a refusal comes back to the deal page
with the form refilled and the field marked (the form's `what` says which form it was)."""

from __future__ import annotations

from aiohttp import web

from admin_web import forms
from admin_web.render import back_url, flash, gettext_for, redirect
from admin_web.views.deal_page import _deal
from crm.errors import NotFound
from crm.i18n import N_
from crm.models import Interest, Invoice, Payment, User
from crm.money import corrections, invoices, payments

routes = web.RouteTableDef()


@routes.post(r"/deals/{id:\d+}/invoices")
async def invoice_add(request: web.Request) -> web.StreamResponse:
    user, interest = await _deal(request)
    form = await request.post()
    invoice = await invoices.issue_invoice(
        actor=user,
        interest_id=interest.id,
        amount=forms.text(form, "amount"),
        number=forms.text(form, "number"),
        issued_on=forms.text(form, "issued_on"),
        due_on=forms.text(form, "due_on"),
    )
    await flash(request, gettext_for(request, N_("Invoice {number} added"), number=invoice.number))
    return redirect(back_url(request, form))


@routes.post(r"/deals/{id:\d+}/invoices/{invoice:\d+}/payments")
async def payment_add(request: web.Request) -> web.StreamResponse:
    user, _, invoice_id = await _invoice_of(request)
    form = await request.post()
    try:
        await payments.record_payment(
            actor=user,
            invoice_id=invoice_id,
            amount=forms.text(form, "amount"),
            paid_on=forms.text(form, "paid_on"),
            overpayment=forms.flag(form, "overpayment"),
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    await flash(request, gettext_for(request, N_("Payment recorded")))
    return redirect(back_url(request, form))


async def _invoice_of(request: web.Request) -> tuple[User, Interest, int]:
    """The user, the deal (404 unless they see it) and the id of an invoice of that deal."""
    user, interest = await _deal(request)
    invoice_id = forms.match_int(request.match_info["invoice"])
    if not await Invoice.filter(id=invoice_id, interest_id=interest.id).exists():
        raise web.HTTPNotFound()
    return user, interest, invoice_id


@routes.post(r"/deals/{id:\d+}/invoices/{invoice:\d+}/edit")
async def invoice_edit(request: web.Request) -> web.StreamResponse:
    user, _, invoice_id = await _invoice_of(request)
    form = await request.post()
    invoice = await corrections.change_invoice(
        actor=user,
        invoice_id=invoice_id,
        amount=forms.text(form, "amount"),
        number=forms.text(form, "number"),
        issued_on=forms.text(form, "issued_on"),
        due_on=forms.text(form, "due_on"),
    )
    done = gettext_for(request, N_("Invoice {number} changed"), number=invoice.number)
    await flash(request, done)
    return redirect(back_url(request, form))


@routes.post(r"/deals/{id:\d+}/invoices/{invoice:\d+}/delete")
async def invoice_delete(request: web.Request) -> web.StreamResponse:
    user, _, invoice_id = await _invoice_of(request)
    form = await request.post()
    await corrections.delete_invoice(actor=user, invoice_id=invoice_id)
    await flash(request, gettext_for(request, N_("Invoice deleted")))
    return redirect(back_url(request, form))


@routes.post(r"/deals/{id:\d+}/payments/{payment:\d+}/delete")
async def payment_delete(request: web.Request) -> web.StreamResponse:
    user, interest = await _deal(request)
    payment_id = forms.match_int(request.match_info["payment"])
    if not await Payment.filter(id=payment_id, invoice__interest_id=interest.id).exists():
        raise web.HTTPNotFound()
    form = await request.post()
    await corrections.delete_payment(actor=user, payment_id=payment_id)
    await flash(request, gettext_for(request, N_("Payment deleted")))
    return redirect(back_url(request, form))

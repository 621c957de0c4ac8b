"""The deal card's "Invoices" button: the deal's invoices with what is owed and overdue, and
a payment against one, its amount typed (crm.money: a payment over what is owed is refused
here; the panel records overpayments). Invoices are added in the panel, the API or an
import: the bot keeps to what a manager does on the road."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import Action, Pressed
from bot.cards import SHOW_INVOICES
from bot.dialogs.states import Typing
from bot.handlers.deals import NOT_AN_AMOUNT
from bot.texts import h, money
from bot.views import Card, Viewer
from crm.access import access_interest
from crm.errors import CrmError
from crm.i18n import format_date, parse_money
from crm.money import invoices, payments
from crm.money.values import today

PAY = "dy"  # an invoice's payment: type its amount


async def invoices_card(v: Viewer, interest_id: int) -> Card:
    interest = await access_interest(v.user, interest_id)
    listed = await invoices.invoices_of(interest.id)
    day = await today()
    card = Card().add("🧾 <b>" + v._("Invoices of “{title}”", title=interest.title) + "</b>")
    kb = v.keyboard()
    if not listed:
        card.add(v._("No invoices yet. Add them in the panel."))
    for invoice, paid in listed:
        owed = invoice.amount - invoice.paid
        line = v._(
            "№{number} of {day}: {amount}",
            number=invoice.number,
            day=format_date(invoice.issued_on, v.locale),
            amount=money(invoice.amount, invoice.currency, v.locale),
        )
        if owed <= 0:
            line += " · ✅ " + v._("paid")
        else:
            line += " · " + v._("owed {amount}", amount=money(owed, invoice.currency, v.locale))
            if invoice.due_on is not None and invoice.due_on < day:
                late = (day - invoice.due_on).days
                line += (
                    " · ⏰ <b>" + v.ngettext("{n} day overdue", "{n} days overdue", late) + "</b>"
                )
            kb.add(
                "💳 " + v.gettext("Payment of №{number}", number=invoice.number), PAY, invoice.id
            )
        card.add(line)
        for payment in paid:
            card.add(
                f"   ↳ {h(format_date(payment.paid_on, v.locale))} · "
                + h(money(payment.amount, invoice.currency, v.locale))
            )
    kb.add("« " + v.gettext("Deal"), "do", interest.id)
    card.markup = kb.markup()
    return card


async def show_invoices(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    await query.answer()
    await viewer.send(await invoices_card(viewer, action.int(0)))


async def ask_payment(
    query: CallbackQuery, action: Action, viewer: Viewer, state: FSMContext
) -> None:
    invoice = await invoices.access_invoice(viewer.user, action.int(0))
    owed = invoice.amount - invoice.paid
    await state.set_state(Typing.payment)
    await state.set_data({"invoice_id": invoice.id})
    await query.answer()
    await viewer.say(
        "💳 "
        + viewer._(
            "How much was paid against invoice №{number}? Owed: {amount}. /cancel to stop.",
            number=invoice.number,
            amount=money(owed, invoice.currency, viewer.locale),
        )
    )


async def save_payment(message: Message, viewer: Viewer, state: FSMContext) -> None:
    invoice_id = int((await state.get_data())["invoice_id"])
    try:
        amount = parse_money(message.text or "")
    except ValueError:
        await viewer.say("⚠️ " + viewer._(NOT_AN_AMOUNT))
        return
    try:
        await payments.record_payment(actor=viewer.user, invoice_id=invoice_id, amount=amount)
    except CrmError as exc:
        await viewer.say("⚠️ " + h(exc.render(viewer.locale)))
        return
    await state.clear()
    invoice = await invoices.access_invoice(viewer.user, invoice_id)
    await viewer.say("✅ " + viewer._("Payment recorded"))
    await viewer.send(await invoices_card(viewer, invoice.interest_id))  # type: ignore[attr-defined]


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(save_payment, StateFilter(Typing.payment), ~F.text.startswith("/"))
    r.callback_query.register(show_invoices, Pressed(SHOW_INVOICES))
    r.callback_query.register(ask_payment, Pressed(PAY))
    return r

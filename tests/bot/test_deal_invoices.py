"""The deal card's "Invoices": the deal's invoices with what is owed and overdue, and a
payment typed against one (refused over what is owed, recorded otherwise), in Russian."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from crm import deals
from crm.models import Invoice, Payment, User
from crm.money import invoices
from crm.money.values import today
from tests.bot.conftest import BotHarness, bound_manager, buttons
from tests.crm import factories

ANNA = 690101
NBSP = "\u00a0"


async def _deal(anna: User) -> Invoice:
    await factories.scenario("Sales", ("One", "Two"), require_next_step=False)
    client = await factories.client(anna, name="Lotus")
    deal = await deals.create_interest(actor=anna, client_id=client.id, title="Kitchen")
    day = await today()
    await invoices.issue_invoice(actor=anna, interest_id=deal.id, amount=50, number="7")
    return await invoices.issue_invoice(
        actor=anna,
        interest_id=deal.id,
        amount="1000",
        number="8",
        issued_on=day - timedelta(days=30),
        due_on=day - timedelta(days=3),
    )


async def test_invoices_are_listed_and_a_payment_is_typed(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    invoice = await _deal(anna)
    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "1. Kitchen")
    await harness.press(ANNA, harness.last_to(ANNA), "🧾 Invoices")
    card = harness.last_to(ANNA)
    assert "Invoices of “Kitchen”" in card["text"]
    assert "№8" in card["text"] and "3 days overdue" in card["text"]
    assert f"owed RUB{NBSP}1,000.00" in card["text"]
    assert [b["text"] for b in buttons(card)][:2] == ["💳 Payment of №7", "💳 Payment of №8"]
    await harness.press(ANNA, card, "💳 Payment of №8")
    assert "How much was paid against invoice №8?" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "много")
    assert "That is not an amount" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "1 500")
    assert "More than is owed on the invoice (1000.00)" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "400,50")
    shown = harness.last_to(ANNA)
    assert f"owed RUB{NBSP}599.50" in shown["text"] and "400.50" in shown["text"]
    payment = await Payment.get(invoice_id=invoice.id)
    assert payment.amount == Decimal("400.50")
    await harness.send(ANNA, "100")  # no longer typing a payment
    assert await Payment.all().count() == 1


async def test_the_invoices_read_russian(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    await _deal(anna)
    await harness.send(ANNA, "/lang")
    await harness.press(ANNA, harness.last_to(ANNA), "Русский")
    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "1. Kitchen")
    await harness.press(ANNA, harness.last_to(ANNA), "🧾 Счета")
    card = harness.last_to(ANNA)
    assert "Счета сделки «Kitchen»" in card["text"] or "Счета сделки “Kitchen”" in card["text"]
    assert "3 дня просрочки" in card["text"]
    await harness.press(ANNA, card, "💳 Оплата по №7")
    await harness.send(ANNA, "50")
    assert "✅ оплачен" in harness.last_to(ANNA)["text"]

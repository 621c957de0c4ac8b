"""crm.money.corrections: an invoice corrected (its checks, the "paid" stage when a lower
amount leaves it paid), an invoice with payments kept, a payment deleted giving back what it
paid, every correction in the deal's history with a Russian field name, and another
manager's facts out of reach."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm import deals, labels, scenarios
from crm.errors import NotFound, ValidationFailed
from crm.models import ChangeRecord, Invoice, Payment, StageMark
from crm.money import corrections, facts, invoices, payments, stages
from crm.money.values import today
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def test_a_lower_amount_that_leaves_the_invoice_paid_moves_the_deal() -> None:
    admin = await f.admin()
    s = await f.scenario(stages=("Новая", "Счёт", "Оплачено"))
    _, billed, paid = await scenarios.stages_of(s.id)
    await stages.mark_stage(billed.id, StageMark.INVOICE, actor=admin)
    await stages.mark_stage(paid.id, StageMark.PAID, actor=admin)
    client = await f.client(admin)
    deal = await deals.create_interest(actor=admin, client_id=client.id, title="Поставка")
    invoice = await invoices.issue_invoice(actor=admin, interest_id=deal.id, amount=100)
    await payments.record_payment(actor=admin, invoice_id=invoice.id, amount=80)
    assert (await deals.get_interest(deal.id)).stage_id == billed.id  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed) as refused:
        await corrections.change_invoice(actor=admin, invoice_id=invoice.id, amount="79.99")
    assert set(refused.value.fields) == {"amount"}
    day = await today()
    with pytest.raises(ValidationFailed) as refused:
        await corrections.change_invoice(
            actor=admin,
            invoice_id=invoice.id,
            number="",
            due_on=(invoice.issued_on - timedelta(days=1)).isoformat(),
        )
    assert set(refused.value.fields) == {"number"}
    with pytest.raises(ValidationFailed) as refused:
        await corrections.change_invoice(
            actor=admin, invoice_id=invoice.id, due_on=(day - timedelta(days=400)).isoformat()
        )
    assert set(refused.value.fields) == {"due_on"}
    changed = await corrections.change_invoice(actor=admin, invoice_id=invoice.id, amount="80")
    assert changed.amount == Decimal("80.00") and changed.paid == Decimal("80.00")
    assert (await deals.get_interest(deal.id)).stage_id == paid.id  # type: ignore[attr-defined]
    assert (await facts.client_money(client.id)).receivables == Decimal("0.00")
    # raising it again owes the difference; the deal stays where it is
    await corrections.change_invoice(actor=admin, invoice_id=invoice.id, amount="120")
    assert (await facts.client_money(client.id)).receivables == Decimal("40.00")
    assert (await deals.get_interest(deal.id)).stage_id == paid.id  # type: ignore[attr-defined]


async def test_deleting_a_payment_owes_it_again_and_an_invoice_goes_only_without_payments() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    client = await f.client(admin)
    deal = await deals.create_interest(actor=admin, client_id=client.id, title="Поставка")
    invoice = await invoices.issue_invoice(actor=admin, interest_id=deal.id, amount=100)
    other = await invoices.issue_invoice(actor=admin, interest_id=deal.id, amount=10)
    with pytest.raises(ValidationFailed) as taken:
        await corrections.change_invoice(actor=admin, invoice_id=other.id, number=invoice.number)
    assert set(taken.value.fields) == {"number"}
    first = await payments.record_payment(actor=admin, invoice_id=invoice.id, amount=60)
    await payments.record_payment(actor=admin, invoice_id=invoice.id, amount=70, overpayment=True)
    assert (await Invoice.get(id=invoice.id)).paid == Decimal("100.00")
    with pytest.raises(ValidationFailed) as kept:
        await corrections.delete_invoice(actor=admin, invoice_id=invoice.id)
    assert set(kept.value.fields) == {"invoice"}
    back = await corrections.delete_payment(actor=admin, payment_id=first.id)
    assert back.paid == Decimal("40.00")  # the second paid 40 of its 70, 30 over
    assert await Payment.filter(invoice_id=invoice.id).count() == 1
    await corrections.delete_invoice(actor=admin, invoice_id=other.id)
    assert not await Invoice.filter(id=other.id).exists()
    rows = await ChangeRecord.filter(entity="interest", entity_id=deal.id).order_by("id")
    fields = [(r.field, r.old, r.new) for r in rows if r.field in ("invoice", "payment")]
    assert fields[-2:] == [
        ("payment", f"{invoice.number}: 60.00 RUB", None),
        ("invoice", f"{other.number}: 10.00 RUB", None),
    ]
    assert labels.history_field("invoice", "ru") == "Счёт"
    assert labels.history_field("payment", "ru") == "Оплата"


async def test_another_managers_money_facts_cannot_be_corrected() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    owner, stranger = await f.manager(), await f.manager()
    client = await f.client(owner, responsible_id=owner.id)
    deal = await deals.create_interest(
        actor=owner, client_id=client.id, title="Своя", responsible_id=owner.id
    )
    invoice = await invoices.issue_invoice(actor=owner, interest_id=deal.id, amount=100)
    payment = await payments.record_payment(actor=owner, invoice_id=invoice.id, amount=10)
    for attempt in (
        corrections.change_invoice(actor=stranger, invoice_id=invoice.id, amount=5),
        corrections.delete_invoice(actor=stranger, invoice_id=invoice.id),
        corrections.delete_payment(actor=stranger, payment_id=payment.id),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert (await Invoice.get(id=invoice.id)).paid == Decimal("10.00")
    assert admin.id  # the admin made the scenario

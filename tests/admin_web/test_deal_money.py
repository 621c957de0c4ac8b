"""Money facts in the panel: the deal page's invoices and payments (a refusal back on the
form it came from), the client card's revenue, receivables and overdue, another manager's
deal out of reach (404)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm import deals
from crm.models import Invoice, Payment, Role, Scenario, User
from crm.money import invoices
from crm.money.values import today
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories


@pytest.fixture
async def scenario(admin: User) -> Scenario:
    return await factories.scenario(require_next_step=False)


async def test_invoices_and_payments_on_the_deal_page_and_the_card(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    client = await factories.client(manager, name="ООО Счёт")
    deal = await deals.create_interest(
        actor=manager, client_id=client.id, title="Бумага", amount="1500"
    )
    status, text = await as_manager.get(f"/deals/{deal.id}")
    assert status == 200 and "No invoices yet" in text and 'value="1500"' in text
    _, text = await as_manager.post(
        f"/deals/{deal.id}/invoices",
        {"what": "invoice", "amount": "-10", "number": "", "issued_on": "", "due_on": ""},
    )
    assert "The amount must be above zero" in text and await Invoice.all().count() == 0
    day = await today()
    _, text = await as_manager.post(
        f"/deals/{deal.id}/invoices",
        {
            "what": "invoice",
            "amount": "1 500",
            "number": "А-17",
            "issued_on": (day - timedelta(days=30)).isoformat(),
            "due_on": (day - timedelta(days=3)).isoformat(),
        },
    )
    invoice = await Invoice.get(number="А-17")
    assert "Invoice А-17 added" in text and f'data-invoice="{invoice.id}"' in text
    assert invoice.client_id == client.id  # type: ignore[attr-defined]
    path = f"/deals/{deal.id}/invoices/{invoice.id}/payments"
    _, text = await as_manager.post(path, {"what": f"payment:{invoice.id}", "amount": "1000"})
    assert "Payment recorded" in text
    _, text = await as_manager.post(path, {"what": f"payment:{invoice.id}", "amount": "600"})
    assert "More than is owed on the invoice (500.00)" in text
    assert text.count('id="err-amount"') == 1  # on the payment form only
    assert await Payment.all().count() == 1
    _, text = await as_manager.post(
        path, {"what": f"payment:{invoice.id}", "amount": "600", "overpayment": "1"}
    )
    assert (await Payment.get(amount=Decimal("600"))).overpayment == Decimal("100")
    assert "overpayment" in text and "Paid" in text

    second = await invoices.issue_invoice(
        actor=manager,
        interest_id=deal.id,
        amount=250,
        issued_on=day - timedelta(days=20),
        due_on=day - timedelta(days=5),
    )
    assert second.number == f"{deal.id}-2"
    _, text = await as_manager.get(f"/clients/{client.id}")
    assert 'id="money-revenue">RUB\u00a01,600.00' in text
    assert 'id="money-receivables">RUB\u00a0250.00' in text
    assert "RUB\u00a0250.00 · 5 days overdue" in text


async def test_an_invoice_corrected_and_deleted_and_a_payment_deleted_on_the_deal_page(
    as_manager: Browser, manager: User, scenario: Scenario
) -> None:
    client = await factories.client(manager, name="ООО Правка")
    deal = await deals.create_interest(actor=manager, client_id=client.id, title="Правка")
    invoice = await invoices.issue_invoice(actor=manager, interest_id=deal.id, amount="1000")
    await as_manager.post(
        f"/deals/{deal.id}/invoices/{invoice.id}/payments",
        {"what": f"payment:{invoice.id}", "amount": "400"},
    )
    payment = await Payment.get(invoice_id=invoice.id)
    status, text = await as_manager.get(f"/deals/{deal.id}")
    assert status == 200 and f'id="invoice-edit-{invoice.id}"' in text
    assert f"/deals/{deal.id}/payments/{payment.id}/delete" in text
    assert f"/invoices/{invoice.id}/delete" not in text  # it has a payment
    edit = f"/deals/{deal.id}/invoices/{invoice.id}/edit"
    form = {"what": f"edit:{invoice.id}", "number": "Б-2", "issued_on": str(invoice.issued_on)}
    _, text = await as_manager.post(edit, {**form, "amount": "300", "due_on": ""})
    assert "Less than is already paid on the invoice (400.00)" in text
    assert f'id="invoice-edit-{invoice.id}" open' in text  # the refused form stays open
    assert (await Invoice.get(id=invoice.id)).amount == Decimal("1000.00")
    _, text = await as_manager.post(edit, {**form, "amount": "1 200", "due_on": ""})
    assert "Invoice Б-2 changed" in text
    changed = await Invoice.get(id=invoice.id)
    assert (changed.number, changed.amount, changed.paid) == ("Б-2", Decimal("1200.00"), 400)
    path = f"/deals/{deal.id}/payments/{payment.id}/delete"
    _, text = await as_manager.post(path, {})
    assert "Payment deleted" in text and await Payment.all().count() == 0
    assert (await Invoice.get(id=invoice.id)).paid == Decimal("0.00")
    _, text = await as_manager.post(f"/deals/{deal.id}/invoices/{invoice.id}/delete", {})
    assert "Invoice deleted" in text and await Invoice.all().count() == 0
    _, text = await as_manager.get(f"/deals/{deal.id}")
    assert "No invoices yet" in text


async def test_another_managers_deal_is_out_of_reach(
    as_manager: Browser, admin: User, scenario: Scenario
) -> None:
    other = await make_user(email="olga@example.com", full_name="Olga")
    client = await factories.client(other, name="Чужой", responsible_id=other.id)
    deal = await deals.create_interest(
        actor=other, client_id=client.id, title="Чужая", responsible_id=other.id
    )
    invoice = await invoices.issue_invoice(actor=other, interest_id=deal.id, amount=10)
    status, _ = await as_manager.post(f"/deals/{deal.id}/invoices", {"amount": "5"})
    assert status == 404
    status, _ = await as_manager.post(
        f"/deals/{deal.id}/invoices/{invoice.id}/payments", {"amount": "5"}
    )
    assert status == 404
    for path in (f"/invoices/{invoice.id}/edit", f"/invoices/{invoice.id}/delete"):
        status, _ = await as_manager.post(f"/deals/{deal.id}{path}", {"amount": "5"})
        assert status == 404
    assert await Payment.all().count() == 0 and await Invoice.all().count() == 1
    assert (await Invoice.get(id=invoice.id)).amount == Decimal("10.00")


async def test_the_api_creates_lists_and_reads_invoices_and_payments(
    browser: Browser, admin: User, manager: User, scenario: Scenario
) -> None:
    from crm.apikeys import create_key
    from tests.admin_web.test_api import Api

    api = Api(browser.client, (await create_key("m", manager.id, actor=None))[1])
    api.headers["Accept-Language"] = "ru"
    client = await factories.client(manager, name="ООО Апи")
    deal = await deals.create_interest(actor=manager, client_id=client.id, title="Апи")
    status, body = await api.call(
        "POST", "/invoices", {"interest_id": deal.id, "amount": 0, "due_on": "2099-01-01"}
    )
    assert status == 422
    status, body = await api.call(
        "POST", "/invoices", {"interest_id": deal.id, "amount": "1000,50", "number": "42"}
    )
    assert status == 201, body
    assert body["amount"] == "1000.5" and body["paid"] == "0" and body["owed"] == "1000.5"
    assert body["client_id"] == client.id and body["number"] == "42"
    invoice_id = body["id"]
    status, body = await api.call("POST", "/payments", {"invoice_id": invoice_id, "amount": 2000})
    assert status == 422
    assert body["error"]["fields"]["amount"].startswith("Больше, чем осталось оплатить")
    status, body = await api.call(
        "POST", "/payments", {"invoice_id": invoice_id, "amount": 2000, "overpayment": True}
    )
    assert status == 201 and body["overpayment"] == "999.5"
    payment_id = body["id"]
    status, body = await api.call("GET", f"/invoices/{invoice_id}")
    assert status == 200 and body["owed"] == "0"
    status, body = await api.call("GET", f"/invoices?client_id={client.id}")
    assert [i["id"] for i in body["items"]] == [invoice_id]
    status, body = await api.call("GET", f"/payments?invoice_id={invoice_id}")
    assert [p["id"] for p in body["items"]] == [payment_id]
    status, body = await api.call("GET", f"/payments/{payment_id}")
    assert status == 200 and body["amount"] == "2000"
    # another manager's key sees none of it
    other = await make_user(Role.MANAGER, email="olga@example.com", full_name="Olga")
    stranger = Api(browser.client, (await create_key("o", other.id, actor=None))[1])
    assert (await stranger.call("GET", f"/invoices/{invoice_id}"))[0] == 404
    assert (await stranger.call("GET", f"/payments/{payment_id}"))[0] == 404
    assert (await stranger.call("GET", "/invoices"))[1]["items"] == []
    assert (await stranger.call("PATCH", f"/invoices/{invoice_id}", {"amount": 5}))[0] == 404
    assert (await stranger.call("DELETE", f"/payments/{payment_id}"))[0] == 404
    # corrections: a refused number, the due date removed, the payment then the invoice deleted
    status, body = await api.call("PATCH", f"/invoices/{invoice_id}", {"number": None})
    assert status == 422 and "number" in body["error"]["fields"]
    status, body = await api.call("PATCH", f"/invoices/{invoice_id}", {"amount": 900})
    assert status == 422 and body["error"]["fields"]["amount"].startswith("Меньше")
    status, body = await api.call("DELETE", f"/invoices/{invoice_id}")
    assert status == 422 and "invoice" in body["error"]["fields"]
    status, body = await api.call(
        "PATCH", f"/invoices/{invoice_id}", {"amount": "1500", "due_on": None}
    )
    assert status == 200 and body["amount"] == "1500" and body["due_on"] is None
    assert body["owed"] == "499.5"
    assert (await api.call("DELETE", f"/payments/{payment_id}"))[0] == 204
    status, body = await api.call("GET", f"/invoices/{invoice_id}")
    assert body["paid"] == "0" and body["owed"] == "1500"
    assert (await api.call("DELETE", f"/invoices/{invoice_id}"))[0] == 204
    assert (await api.call("GET", f"/invoices/{invoice_id}"))[0] == 404
    assert (await stranger.call("GET", "/payments"))[1]["items"] == []
    status, _ = await stranger.call("POST", "/payments", {"invoice_id": invoice_id, "amount": 1})
    assert status == 404


async def test_a_stage_marked_invoice_on_the_scenario_page_takes_the_deal(
    as_admin: Browser, admin: User, scenario: Scenario
) -> None:
    from crm import scenarios as scenario_service

    first, second, third = await scenario_service.stages_of(scenario.id)
    status, text = await as_admin.get(f"/scenarios/{scenario.id}")
    assert status == 200 and f'id="mark-{second.id}"' in text
    _, text = await as_admin.post(f"/stages/{second.id}/mark", {"mark": "invoice"})
    assert "Saved" in text and '<option value="invoice" selected>' in text
    _, text = await as_admin.post(f"/stages/{third.id}/mark", {"mark": "nonsense"})
    assert "Unknown choice" in text
    client = await factories.client(admin, name="ООО Этап")
    deal = await deals.create_interest(actor=admin, client_id=client.id, title="Этап")
    await as_admin.post(f"/deals/{deal.id}/invoices", {"what": "invoice", "amount": "10"})
    assert (await deals.get_interest(deal.id)).stage_id == second.id  # type: ignore[attr-defined]
    assert first.id != second.id


async def test_the_managers_report_links_revenue_to_its_deals(
    as_admin: Browser, admin: User, scenario: Scenario
) -> None:
    client = await factories.client(admin, name="ООО Отчёт")
    deal = await deals.create_interest(actor=admin, client_id=client.id, title="Отчётная")
    invoice = await invoices.issue_invoice(actor=admin, interest_id=deal.id, amount=700)
    from crm.money import payments

    await payments.record_payment(actor=admin, invoice_id=invoice.id, amount=250)
    status, text = await as_admin.get(f"/reports/managers?managers={admin.id}")
    assert status == 200 and "Revenue" in text and "RUB\u00a0250.00</a>" in text
    href = text.split("figure=revenue")[0].rsplit('href="', 1)[1] + "figure=revenue"
    href += text.split("figure=revenue", 1)[1].split('"', 1)[0]
    status, records = await as_admin.get(href.replace("&amp;", "&"))
    assert status == 200 and "Отчётная" in records

"""crm.money: invoices and payments through the services, the refusals of bad amounts and of
payments over what is owed, the facts per client and manager, the "invoice"/"paid" stages
with their robots, and a merge carrying the money facts with the interests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm import deals, merge, scenarios
from crm.errors import Conflict, NotFound, ValidationFailed
from crm.models import (
    Interaction,
    InteractionKind,
    Invoice,
    Payment,
    Role,
    StageChange,
    StageMark,
)
from crm.money import facts, invoices, payments, stages
from crm.money.values import today
from crm.reports import managers
from crm.reports.filters import ReportFilter
from inbox import robots
from tests.crm import factories as f

pytestmark = pytest.mark.usefixtures("db")


async def _deal(actor, client=None, title="Поставка"):  # type: ignore[no-untyped-def]
    client = client or await f.client(actor)
    return await deals.create_interest(actor=actor, client_id=client.id, title=title)


async def test_an_invoice_takes_its_interests_client_and_the_next_number() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    interest = await _deal(admin)
    first = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount="1 500,50")
    second = await invoices.issue_invoice(
        actor=admin, interest_id=interest.id, amount=200, number=" 7 ", due_on="31.12.2099"
    )
    assert first.client_id == interest.client_id  # type: ignore[attr-defined]
    assert first.number == f"{interest.id}-1" and second.number == "7"
    assert first.amount == Decimal("1500.50") and first.paid == 0
    assert first.issued_on == await today() and str(second.due_on) == "2099-12-31"
    with pytest.raises(ValidationFailed) as err:
        await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=1, number="7")
    assert err.value.field_messages("ru")["number"] == "У сделки уже есть счёт с этим номером"


@pytest.mark.parametrize(
    ("amount", "ru"),
    [
        ("-5", "Сумма должна быть больше нуля"),
        ("0", "Сумма должна быть больше нуля"),
        (0, "Сумма должна быть больше нуля"),
        ("1000000000000", "Сумма неправдоподобно велика"),
        ("1e20", "Сумма неправдоподобно велика"),
        ("12,345", "В сумме не больше двух знаков копеек"),
        ("сто", "Это не денежная сумма"),
        ("NaN", "Это не денежная сумма"),
        ("", "Обязательное поле"),
    ],
)
async def test_bad_amounts_are_refused_in_russian(amount: object, ru: str) -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    interest = await _deal(admin)
    with pytest.raises(ValidationFailed) as err:
        await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=amount)
    assert err.value.field_messages("ru")["amount"] == ru
    invoice = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=10)
    with pytest.raises(ValidationFailed) as err:
        await payments.record_payment(actor=admin, invoice_id=invoice.id, amount=amount)
    assert err.value.field_messages("ru")["amount"] == ru
    assert await Payment.all().count() == 0


async def test_dates_are_checked() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    interest = await _deal(admin)
    with pytest.raises(ValidationFailed) as err:
        await invoices.issue_invoice(
            actor=admin,
            interest_id=interest.id,
            amount=5,
            issued_on="2026-03-10",
            due_on="2026-03-01",
        )
    assert "due_on" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        await invoices.issue_invoice(
            actor=admin, interest_id=interest.id, amount=5, issued_on="3026-01-01"
        )
    assert err.value.field_messages("ru")["issued_on"] == "Неправдоподобная дата"
    invoice = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=5)
    with pytest.raises(ValidationFailed) as err:
        await payments.record_payment(
            actor=admin,
            invoice_id=invoice.id,
            amount=5,
            paid_on=await today() + timedelta(days=5),
        )
    assert err.value.field_messages("ru")["paid_on"] == "Оплата не может быть датирована будущим"


async def test_a_payment_over_what_is_owed_needs_an_explicit_overpayment() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    interest = await _deal(admin)
    invoice = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=1000)
    await payments.record_payment(actor=admin, invoice_id=invoice.id, amount="600")
    with pytest.raises(ValidationFailed) as err:
        await payments.record_payment(actor=admin, invoice_id=invoice.id, amount="500")
    assert err.value.field_messages("ru")["amount"] == (
        "Больше, чем осталось оплатить по счёту (400.00): отметьте это как переплату"
    )
    assert (await Invoice.get(id=invoice.id)).paid == Decimal("600")
    over = await payments.record_payment(
        actor=admin, invoice_id=invoice.id, amount="500", overpayment=True
    )
    assert over.overpayment == Decimal("100") and over.amount == Decimal("500")
    assert (await Invoice.get(id=invoice.id)).paid == Decimal("1000")  # never above the amount
    with pytest.raises(ValidationFailed):
        await payments.record_payment(actor=admin, invoice_id=invoice.id, amount="0.01")


async def test_a_manager_reaches_only_the_invoices_of_their_own_deals() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    mine, other = await f.manager(), await f.manager()
    client = await f.client(admin, responsible_id=other.id)
    interest = await deals.create_interest(
        actor=admin, client_id=client.id, title="Чужая", responsible_id=other.id
    )
    invoice = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=10)
    assert mine.role == Role.MANAGER
    with pytest.raises(NotFound):
        await invoices.issue_invoice(actor=mine, interest_id=interest.id, amount=10)
    with pytest.raises(NotFound):
        await payments.record_payment(actor=mine, invoice_id=invoice.id, amount=10)
    with pytest.raises(NotFound):
        await invoices.access_invoice(mine, invoice.id)
    assert (await invoices.access_invoice(other, invoice.id)).id == invoice.id


async def test_revenue_receivables_and_overdue_per_client_and_manager() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    seller = await f.manager()
    client = await f.client(admin, responsible_id=seller.id)
    interest = await deals.create_interest(
        actor=admin, client_id=client.id, title="Поставка", responsible_id=seller.id
    )
    day = await today()
    late = await invoices.issue_invoice(
        actor=admin,
        interest_id=interest.id,
        amount=1000,
        issued_on=day - timedelta(days=40),
        due_on=day - timedelta(days=10),
    )
    due_today = await invoices.issue_invoice(
        actor=admin, interest_id=interest.id, amount=300, issued_on=day, due_on=day
    )
    await payments.record_payment(
        actor=admin, invoice_id=late.id, amount=400, paid_on=day - timedelta(days=20)
    )
    await payments.record_payment(actor=admin, invoice_id=due_today.id, amount=300, paid_on=day)
    money = await facts.client_money(client.id, today=day)
    assert money.revenue == Decimal("700.00")
    assert money.receivables == Decimal("600.00")  # 1000 - 400; the second is paid
    assert money.overdue == Decimal("600.00") and money.days_overdue == 10
    # period edges: both ends in
    exact = await facts.revenue_by_client(day - timedelta(days=20), day - timedelta(days=20))
    assert exact == {client.id: Decimal("400.00")}
    assert await facts.revenue_by_client(day - timedelta(days=19), day - timedelta(days=1)) == {}
    # due today is not overdue
    assert (await facts.client_money(client.id, today=day - timedelta(days=11))).overdue == 0
    period = ReportFilter(preset=None, date_from=day - timedelta(days=20), date_to=day)
    rows = {r.manager_id: r for r in (await managers.managers(period, actor=admin)).rows}
    assert rows[seller.id].revenue == Decimal("700.00")
    assert rows[seller.id].overdue_receivables == Decimal("600.00")
    assert rows[seller.id].days_overdue == 10
    later = ReportFilter(preset=None, date_from=day - timedelta(days=19), date_to=day)
    rows = {r.manager_id: r for r in (await managers.managers(later, actor=admin)).rows}
    assert rows[seller.id].revenue == Decimal("300.00")  # the day before the period is out
    own = (await managers.managers(period, actor=seller)).rows
    assert [(r.manager_id, r.revenue) for r in own] == [(seller.id, Decimal("700.00"))]
    other = await deals.create_interest(
        actor=admin, client_id=client.id, title="Без денег", responsible_id=seller.id
    )
    for figure in ("revenue", "overdue_receivables"):
        records = await managers.drill(period, actor=admin, figure=figure, manager_id=seller.id)
        assert records.ids == [interest.id], figure
        assert other.id != interest.id
    unpaid = ReportFilter(
        preset=None, date_from=day - timedelta(days=19), date_to=day - timedelta(days=1)
    )
    none = await managers.drill(unpaid, actor=admin, figure="revenue", manager_id=seller.id)
    assert none.ids == []


async def test_the_invoice_and_paid_stages_move_the_deal_and_run_its_robots() -> None:
    admin = await f.admin()
    s = await f.scenario(stages=("Новая", "Счёт", "Оплачено", "Отгрузка"))
    first, billed, paid, shipped = await scenarios.stages_of(s.id)
    await stages.mark_stage(billed.id, StageMark.INVOICE, actor=admin)
    await stages.mark_stage(paid.id, "paid", actor=admin)
    await scenarios.add_stage_action(
        paid.id, "create_task", {"subject": "Отгрузить", "due_in_hours": 2}, actor=admin
    )
    interest = await _deal(admin)
    await robots.run_due()
    one = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=100)
    two = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=50)
    assert (await deals.get_interest(interest.id)).stage_id == billed.id  # type: ignore[attr-defined]
    await payments.record_payment(actor=admin, invoice_id=one.id, amount=100)
    assert (await deals.get_interest(interest.id)).stage_id == billed.id  # type: ignore[attr-defined]
    await payments.record_payment(actor=admin, invoice_id=two.id, amount=20)
    await payments.record_payment(actor=admin, invoice_id=two.id, amount=30)
    assert (await deals.get_interest(interest.id)).stage_id == paid.id  # type: ignore[attr-defined]
    moves = await StageChange.filter(interest_id=interest.id).order_by("id")
    assert [m.to_stage_id for m in moves] == [first.id, billed.id, paid.id]  # type: ignore[attr-defined]
    await robots.run_due()
    task = await Interaction.get(interest_id=interest.id, kind=InteractionKind.TASK)
    assert task.subject == "Отгрузить"
    # one mark per scenario; a later invoice does not pull the deal back
    await stages.mark_stage(shipped.id, StageMark.PAID, actor=admin)
    assert [st.mark for st in await scenarios.stages_of(s.id)] == ["", "invoice", "", "paid"]
    await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=5)
    assert (await deals.get_interest(interest.id)).stage_id == paid.id  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed):
        await stages.mark_stage(paid.id, "unpaid", actor=admin)


async def test_a_merge_carries_invoices_and_payments_and_undo_is_refused_after_new_ones() -> None:
    admin = await f.admin()
    await f.scenario(require_next_step=False)
    survivor = await f.client(admin, name="Иван")
    twin = await f.client(admin, name="Иван Петров")
    interest = await _deal(admin, twin)
    invoice = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=100)
    await payments.record_payment(actor=admin, invoice_id=invoice.id, amount=40)
    record = await merge.merge_clients(survivor.id, twin.id, actor=admin)
    assert (await Invoice.get(id=invoice.id)).client_id == survivor.id  # type: ignore[attr-defined]
    assert await Payment.filter(client_id=survivor.id).count() == 1
    assert (await facts.client_money(survivor.id)).receivables == Decimal("60.00")
    await merge.undo_merge(record.id, actor=admin)
    assert (await Invoice.get(id=invoice.id)).client_id == twin.id  # type: ignore[attr-defined]
    assert await Payment.filter(client_id=twin.id).count() == 1
    record = await merge.merge_clients(survivor.id, twin.id, actor=admin)
    await payments.record_payment(actor=admin, invoice_id=invoice.id, amount=10)
    with pytest.raises(Conflict) as err:
        await merge.undo_merge(record.id, actor=admin)
    assert err.value.code == "merge_in_use"


async def test_the_demo_has_invoices_and_payments_some_overdue() -> None:
    from crm import demo
    from crm.models import Interest, InterestStatus

    await demo.generate(300, seed=5)
    won = {i.id: i for i in await Interest.filter(status=InterestStatus.WON, amount__isnull=False)}
    bills = await Invoice.all()
    assert won and bills
    interests = {i.id: i for i in await Interest.filter(id__in=[b.interest_id for b in bills])}  # type: ignore[attr-defined]
    assert set(won) <= set(interests)  # every won deal with an amount is invoiced
    for bill in bills:
        interest = interests[bill.interest_id]  # type: ignore[attr-defined]
        assert bill.client_id == interest.client_id  # type: ignore[attr-defined]
        assert bill.amount == interest.amount and 0 <= bill.paid <= bill.amount
        paid = sum((p.amount for p in await Payment.filter(invoice_id=bill.id)), Decimal(0))
        assert paid == bill.paid
    day = await today()
    overdue = [b for b in bills if b.due_on < day and b.paid < b.amount]
    assert overdue and any(b.paid == b.amount for b in bills)
    assert all(p.paid_on <= day for p in await Payment.all())


async def test_the_same_number_at_the_same_moment_is_refused_once() -> None:
    import asyncio

    admin = await f.admin()
    await f.scenario(require_next_step=False)
    interest = await _deal(admin)
    results = await asyncio.gather(
        *(
            invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=1, number="9")
            for _ in range(2)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(refused) == 1 and "number" in refused[0].fields
    assert await Invoice.filter(number="9").count() == 1


async def test_two_payments_at_once_cannot_both_take_the_same_debt() -> None:
    import asyncio

    admin = await f.admin()
    await f.scenario(require_next_step=False)
    interest = await _deal(admin)
    invoice = await invoices.issue_invoice(actor=admin, interest_id=interest.id, amount=100)
    results = await asyncio.gather(
        *(payments.record_payment(actor=admin, invoice_id=invoice.id, amount=60) for _ in range(3)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Payment) for r in results) == 1
    assert sum(isinstance(r, ValidationFailed) for r in results) == 2
    assert (await Invoice.get(id=invoice.id)).paid == Decimal("60")

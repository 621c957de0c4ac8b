"""Importing an accounting export of invoices and payments (crm.money.imports) through the
panel: rows matched by INN or name and deal, refused rows back with their reasons (on the
page and as a file), a second import of the same file adding nothing, an XLSX read like a
client import's, and managers kept out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from aiohttp import FormData
from openpyxl import Workbook

from admin_web.keys import IMPORTS
from crm import deals
from crm.models import Invoice, Payment, User
from crm.money.values import today
from tests.admin_web.conftest import Browser
from tests.admin_web.import_data import legal_inn
from tests.crm import factories

HEADERS = ["ИНН", "Контрагент", "Сделка", "Номер счёта", "Дата счёта", "Срок оплаты",
           "Сумма", "Дата оплаты", "Сумма оплаты"]  # fmt: skip


async def upload(browser: Browser, path: Path) -> tuple[int, str]:
    await browser.get("/import/money")
    form = FormData()
    form.add_field("_csrf", await browser.csrf())
    form.add_field("_back", "/import/money")
    form.add_field("file", path.read_bytes(), filename=path.name)  # noqa: ASYNC240
    resp = await browser.client.post("/import/money", data=form)
    browser.page = resp.url.path
    return resp.status, await resp.text()


async def _data(admin: User) -> list[list[str]]:
    await factories.scenario(require_next_step=False)
    alpha = await factories.client(admin, name="ООО Альфа", kind="legal", inn=legal_inn(1))
    beta = await factories.client(admin, name="ООО Бета")
    two = await factories.client(admin, name="ООО Два")
    supply = await deals.create_interest(actor=admin, client_id=alpha.id, title="Поставка")
    await deals.create_interest(actor=admin, client_id=alpha.id, title="Сервис")
    await deals.create_interest(actor=admin, client_id=beta.id, title="Разовая")
    await deals.create_interest(actor=admin, client_id=two.id, title="Раз")
    await deals.create_interest(actor=admin, client_id=two.id, title="Два")
    day = await today()
    old, due, paid = (day - timedelta(days=40)), (day - timedelta(days=10)), day - timedelta(days=5)
    return [
        [legal_inn(1), "", f"#{supply.id}", "С-1", old.strftime("%d.%m.%Y"), due.isoformat(),
         "10 000,00", paid.strftime("%d.%m.%Y"), "4 000"],
        [legal_inn(1), "", "Сервис", "С-2", old.isoformat(), "", "500", "", ""],
        ["", "ооо бета", "", "Б-1", old.isoformat(), due.isoformat(), "300", paid.isoformat(),
         "300"],
        [legal_inn(2), "", "", "X-1", old.isoformat(), "", "100", "", ""],  # no such INN
        ["", "ООО Два", "", "Д-1", old.isoformat(), "", "100", "", ""],  # which deal?
        ["", "ООО Нет", "", "Н-1", old.isoformat(), "", "100", "", ""],  # no such client
        [legal_inn(1), "", "Сервис", "С-3", old.isoformat(), "", "-5", "", ""],  # negative
        ["", "ООО Бета", "", "Б-2", old.isoformat(), "", "100", paid.isoformat(), "150"],  # over
    ]  # fmt: skip


def _csv(path: Path, data: list[list[str]]) -> Path:
    path.write_text("\n".join(";".join(r) for r in [HEADERS, *data]) + "\n", encoding="utf-8")
    return path


async def test_an_accounting_export_imports_once_and_returns_failed_rows(
    as_admin: Browser, admin: User, tmp_path: Path
) -> None:
    data = await _data(admin)
    status, text = await upload(as_admin, _csv(tmp_path / "export.csv", data))
    assert status == 200, text
    assert 'id="mi-invoices">3<' in text  # Б-2 is not: a row is imported whole or not at all
    assert 'id="mi-payments">2<' in text and 'id="mi-failed">5' in text
    assert "No client has this INN" in text and "No client has this name" in text
    assert "add a column naming the deal" in text and "The amount must be above zero" in text
    assert "More than is owed on the invoice (100.00)" in text
    first = await Invoice.get(number="С-1")
    assert first.amount == Decimal("10000") and first.paid == Decimal("4000")
    assert str(first.issued_on) == str(await today() - timedelta(days=40))
    beta = await Invoice.get(number="Б-1")
    assert beta.paid == beta.amount and await Payment.filter(invoice_id=beta.id).count() == 1
    link = text.split('href="/import/money/')[1].split('"')[0]
    resp = await as_admin.client.get(f"/import/money/{link}")
    failed = (await resp.read()).decode("utf-8-sig")
    assert resp.status == 200 and failed.count("\n") == 6  # the heading and five rows
    # the same file again: nothing new, the same refusals
    _, text = await upload(as_admin, _csv(tmp_path / "again.csv", data))
    assert 'id="mi-invoices">0<' in text and 'id="mi-payments">0<' in text
    assert 'id="mi-unchanged">3<' in text
    assert await Invoice.all().count() == 3 and await Payment.all().count() == 2


async def test_xlsx_and_unusable_files(as_admin: Browser, admin: User, tmp_path: Path) -> None:
    data = await _data(admin)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADERS, *data[:3]]:
        sheet.append(row)
    book.save(tmp_path / "export.xlsx")
    _, text = await upload(as_admin, tmp_path / "export.xlsx")
    assert 'id="mi-invoices">3<' in text and 'id="mi-failed">0' in text
    (tmp_path / "bad.csv").write_text("Имя;Телефон\nх;1\n", encoding="utf-8")
    _, text = await upload(as_admin, tmp_path / "bad.csv")
    assert "No column names the client (INN or name)" in text
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    _, text = await upload(as_admin, tmp_path / "broken.xlsx")
    assert "This is not a readable XLSX file" in text
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    _, text = await upload(as_admin, tmp_path / "notes.pdf")
    assert "Upload a CSV or XLSX file" in text
    imports = as_admin.app[IMPORTS].folder
    kept = [p for p in imports.iterdir() if (p / "result.json").exists()]
    assert len(kept) == 1  # the refused uploads left nothing behind


async def test_managers_cannot_import_money(as_manager: Browser, tmp_path: Path) -> None:
    status, _ = await as_manager.get("/import/money")
    assert status == 403
    status, _ = await upload(as_manager, _csv(tmp_path / "x.csv", []))
    assert status == 403

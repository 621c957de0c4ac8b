"""Import money facts from an accounting export (CSV or XLSX, read by crm.imports.files:
the XLSX limits and the child process that reads it apply as to a client import).

Columns are recognised by their headings (`HEADINGS`). Each row names a client (by INN, or
by its exact name when no other client has it), optionally a deal (its number, "#123", or
its title among the client's deals; without one, the client's only deal), an invoice (its
number, date, due date and amount) and optionally a payment of it (a date and an amount).
An invoice already there (the deal's invoice of that number) is reused, a payment already
recorded (same invoice, day and amount) is not recorded twice: importing the same export
again adds nothing. A row is imported whole or not at all: one matching no client or deal,
or refused (a bad amount, a payment over what is owed), comes back as a failed row with its
reason, as in a client import (`crm.imports.importer.write_failed`). Rows are written one
by one through crm.money's services: an accounting export is thousands of rows, not
millions."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path

from tortoise.transactions import in_transaction

from crm.errors import CrmError, PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.imports.files import heading_key, load_table
from crm.imports.importer import write_failed
from crm.imports.values import Failed
from crm.models import Client, Interest, Invoice, Payment, User
from crm.money import invoices, payments, values

# What each column is, by its heading (lowercased, spaces collapsed)
HEADINGS: dict[str, tuple[str, ...]] = {
    "inn": ("инн", "инн контрагента", "inn"),
    "client": ("контрагент", "клиент", "покупатель", "client", "customer"),
    "deal": ("сделка", "deal"),
    "number": ("номер счета", "номер счёта", "счет", "счёт", "invoice", "invoice number"),
    "issued_on": ("дата счета", "дата счёта", "дата", "invoice date"),
    "due_on": ("срок оплаты", "оплатить до", "due date", "due"),
    "amount": ("сумма счета", "сумма счёта", "сумма", "amount", "invoice amount"),
    "paid_on": ("дата оплаты", "payment date", "paid on"),
    "paid": ("сумма оплаты", "оплачено", "оплата", "payment", "paid"),
}
MAX_REASON = 500


@dataclass
class MoneyOutcome:
    invoices: int = 0  # created
    payments: int = 0  # recorded
    unchanged: int = 0  # rows whose invoice and payment were already there
    failed: list[Failed] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)


def columns(headers: list[str]) -> dict[str, int]:
    """Which column holds what; ValidationFailed naming what is missing."""
    found: dict[str, int] = {}
    for index, heading in enumerate(headers):
        key = heading_key(heading)
        for target, names in HEADINGS.items():
            if key in names and target not in found:
                found[target] = index
                break
    if "inn" not in found and "client" not in found:
        raise ValidationFailed.field("file", N_("No column names the client (INN or name)"))
    if "amount" not in found:
        raise ValidationFailed.field("file", N_("No column holds the invoice's amount"))
    return found


async def import_money(path: Path, filename: str, *, actor: User, locale: str) -> MoneyOutcome:
    """Import the file's rows; the failed ones are written beside it as failed.csv."""
    if not actor.sees_everything:
        raise PermissionDenied()
    table = await load_table(path, filename)
    where = columns(table.headers)
    outcome = MoneyOutcome(headers=table.headers)
    rows = await asyncio.to_thread(lambda: list(enumerate(table.rows(), start=2)))
    for line, cells in rows:
        if not any(cells):
            continue
        counts = (outcome.invoices, outcome.payments, outcome.unchanged)
        try:
            async with in_transaction():  # a row is imported whole or not at all
                await _row(cells, where, outcome, actor)
        except CrmError as exc:
            outcome.invoices, outcome.payments, outcome.unchanged = counts
            outcome.failed.append(Failed(line, cells, _reason(exc, locale)))
    if outcome.failed:
        await asyncio.to_thread(
            write_failed, path.with_name("failed.csv"), table.headers, outcome.failed, locale
        )
    return outcome


def _reason(exc: CrmError, locale: str) -> str:
    fields = exc.field_messages(locale)
    text = "; ".join(dict.fromkeys(fields.values())) if fields else exc.render(locale)
    return text[:MAX_REASON]


def _cell(cells: list[str], where: dict[str, int], key: str) -> str:
    index = where.get(key)
    return cells[index].strip() if index is not None and index < len(cells) else ""


async def _row(cells: list[str], where: dict[str, int], outcome: MoneyOutcome, actor: User) -> None:
    client = await _client(_cell(cells, where, "inn"), _cell(cells, where, "client"))
    number = values.number(_cell(cells, where, "number"))
    interest = await _interest(client, _cell(cells, where, "deal"), number)
    invoice = (
        await Invoice.filter(interest_id=interest.id, number=number).first() if number else None
    )
    created = invoice is None
    if invoice is None:
        invoice = await invoices.issue_invoice(
            actor=actor,  # sees every deal (an admin or a head): the author
            interest_id=interest.id,
            amount=_cell(cells, where, "amount"),
            number=number,
            issued_on=_cell(cells, where, "issued_on"),
            due_on=_cell(cells, where, "due_on"),
        )
        outcome.invoices += 1
    paid = _cell(cells, where, "paid")
    recorded = False
    if paid:
        amount = values.amount(paid, "paid")
        day = values.day(_cell(cells, where, "paid_on"), "paid_on", required=False)
        same = Payment.filter(invoice_id=invoice.id, amount=amount)
        if day is None or not await same.filter(paid_on=day).exists():
            await payments.record_payment(
                actor=actor, invoice_id=invoice.id, amount=amount, paid_on=day
            )
            outcome.payments += 1
            recorded = True
    if not created and not recorded:
        outcome.unchanged += 1


async def _client(inn: str, name: str) -> Client:
    if inn:
        digits = re.sub(r"\s", "", inn)
        found = await Client.filter(inn=digits, merged_into_id__isnull=True).first()
        if found is None:
            raise ValidationFailed.field("inn", N_("No client has this INN"))
        return found
    if not name:
        raise ValidationFailed.field("client", N_("The row names no client"))
    matches = await Client.filter(name__iexact=name.strip(), merged_into_id__isnull=True).limit(2)
    if not matches:
        raise ValidationFailed.field("client", N_("No client has this name"))
    if len(matches) > 1:
        raise ValidationFailed.field("client", N_("Several clients have this name: give the INN"))
    return matches[0]


async def _interest(client: Client, deal: str, number: str) -> Interest:
    mine = Interest.filter(client_id=client.id)
    if deal:
        text = deal.strip().lstrip("#№ ")
        if text.isdigit() and (found := await mine.filter(id=int(text)).first()) is not None:
            return found
        matches = await mine.filter(title__iexact=deal.strip()).limit(2)
        if len(matches) == 1:
            return matches[0]
        raise ValidationFailed.field(
            "deal",
            N_("Several of the client's deals have this title")
            if matches
            else N_("The client has no such deal"),
        )
    if number:
        billed = await Invoice.filter(client_id=client.id, number=number).first()
        if billed is not None:
            return await Interest.get(id=billed.interest_id)  # type: ignore[attr-defined]
    only = await mine.limit(2)
    if len(only) == 1:
        return only[0]
    raise ValidationFailed.field(
        "deal",
        N_("The client has several deals: add a column naming the deal")
        if only
        else N_("The client has no deal to bill"),
    )

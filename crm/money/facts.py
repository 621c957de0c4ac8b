"""What the money facts add up to, read in SQL (one statement per figure):

- revenue: the sum of `payments.amount` whose `paid_on` falls in a period (both ends in);
- receivables: the sum of `invoices.amount - invoices.paid` still owed;
- overdue receivables: the part of it whose `due_on` is before today, and the days overdue
  (today minus the earliest such due date).

Per client here (the client card); per manager in crm.reports.revenue (the managers'
report: the interest's responsible, under the report's filter). Sums assume one currency
(the interests' RUB by default); the rights are the caller's check. (SQLite keeps decimals
as text: they are compared by arithmetic, `amount - paid > 0`, never as `paid < amount`.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise import connections

from crm.money.values import today as company_today
from crm.rows import query

ZERO = Decimal("0.00")
CARD_REVENUE_DAYS = 365  # the client card's revenue: the last twelve months


def _day(value: date) -> Any:
    postgres = connections.get("default").capabilities.dialect == "postgres"
    return value if postgres else value.isoformat()


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class ClientMoney:
    revenue: Decimal  # paid in [since, today]
    since: date
    receivables: Decimal
    overdue: Decimal
    days_overdue: int  # 0 when nothing is overdue
    invoices: int


async def revenue_by_client(
    first: date, last: date, client_ids: list[int] | None = None
) -> dict[int, Decimal]:
    """Revenue per client from `first` to `last` (both in)."""
    sql = "SELECT client_id, SUM(amount) FROM payments WHERE paid_on >= $1 AND paid_on <= $2"
    params: list[Any] = [_day(first), _day(last)]
    if client_ids is not None:
        if not client_ids:
            return {}
        marks = ", ".join(f"${n}" for n in range(3, 3 + len(client_ids)))
        sql += f" AND client_id IN ({marks})"
        params += client_ids
    rows = await query(sql + " GROUP BY client_id", params)
    return {int(r[0]): _money(r[1]) for r in rows}


async def client_money(client_id: int, *, today: date | None = None) -> ClientMoney:
    """The client card's figures: revenue of the last CARD_REVENUE_DAYS, what is owed,
    what is overdue and for how many days."""
    day = today or await company_today()
    since = day - timedelta(days=CARD_REVENUE_DAYS - 1)
    revenue = (await revenue_by_client(since, day, [client_id])).get(client_id, ZERO)
    rows = await query(
        "SELECT SUM(amount - paid),"
        " SUM(CASE WHEN due_on < $2 THEN amount - paid ELSE 0 END),"
        " MIN(CASE WHEN due_on < $2 THEN due_on END), COUNT(*)"
        " FROM invoices WHERE client_id = $1 AND amount - paid > 0",
        [client_id, _day(day)],
    )
    owed, overdue, earliest, count = rows[0] if rows else (None, None, None, 0)
    first_due = _as_date(earliest)
    return ClientMoney(
        revenue=revenue,
        since=since,
        receivables=_money(owed),
        overdue=_money(overdue),
        days_overdue=(day - first_due).days if first_due else 0,
        invoices=int(count or 0),
    )

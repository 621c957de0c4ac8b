"""Money in the managers' report (the UNF "Анализ работы менеджеров"): per manager, the
revenue of the period (payments by `paid_on` within its days, against the invoices of the
interests they are responsible for) and the overdue receivables today (what those invoices
still owe past their due date), with the days overdue of the oldest. The report's filter
applies as to its interests (scenario, manager, channel, client conditions).

Kept apart from crm.reports.managers, which calls `add_money` once (two reads grouped by
the interest's responsible) and hands the drill-down of FIGURES to `drill`: the deals
paid in the period, the deals with overdue invoices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from crm.reports.drill import DrillDown, interests_page
from crm.reports.scope import Scope, Sql, where
from crm.reports.stats import money
from crm.rows import query

REVENUE, OVERDUE_RECEIVABLES = "revenue", "overdue_receivables"
FIGURES = (REVENUE, OVERDUE_RECEIVABLES)
JOINS = "JOIN interests i ON i.id = v.interest_id JOIN clients c ON c.id = i.client_id"


class MoneyRow(Protocol):
    revenue: Decimal
    overdue_receivables: Decimal
    days_overdue: int


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def add_money(scope: Scope, row: Callable[[int], MoneyRow]) -> None:
    """Fill each manager's `revenue`, `overdue_receivables` and `days_overdue` (`row(id)`
    gives the manager's row, made when missing)."""
    period, sql = scope.period, Sql()
    conditions = [
        *scope.interest_conditions(sql),
        f"p.paid_on >= {sql.day(period.first)}",
        f"p.paid_on <= {sql.day(period.last)}",
    ]
    for user_id, amount in await query(
        "SELECT i.responsible_id, SUM(p.amount) FROM payments p"
        f" JOIN invoices v ON v.id = p.invoice_id {JOINS}"
        f" WHERE {where(conditions)} GROUP BY i.responsible_id",
        sql.params,
    ):
        if user_id is not None:
            row(int(user_id)).revenue = money(amount)
    today = scope.now.astimezone(scope.calendar.zone).date()
    sql = Sql()
    conditions = [
        *scope.interest_conditions(sql),
        f"v.due_on < {sql.day(today)}",
        "v.amount - v.paid > 0",  # arithmetic: SQLite keeps decimals as text
    ]
    for user_id, amount, earliest in await query(
        f"SELECT i.responsible_id, SUM(v.amount - v.paid), MIN(v.due_on) FROM invoices v {JOINS}"
        f" WHERE {where(conditions)} GROUP BY i.responsible_id",
        sql.params,
    ):
        if user_id is not None:
            target = row(int(user_id))
            target.overdue_receivables = money(amount)
            target.days_overdue = (today - _as_date(earliest)).days


def _paid_in(scope: Scope, sql: Sql, i: str = "i") -> str:
    period = scope.period
    return (
        f"EXISTS (SELECT 1 FROM payments p JOIN invoices v ON v.id = p.invoice_id"
        f" WHERE v.interest_id = {i}.id AND p.paid_on >= {sql.day(period.first)}"
        f" AND p.paid_on <= {sql.day(period.last)})"
    )


def _overdue_in(scope: Scope, sql: Sql, i: str = "i") -> str:
    today = scope.now.astimezone(scope.calendar.zone).date()
    return (
        f"EXISTS (SELECT 1 FROM invoices v WHERE v.interest_id = {i}.id"
        f" AND v.due_on < {sql.day(today)} AND v.amount - v.paid > 0)"
    )


async def drill(
    scope: Scope, *, figure: str, manager_id: int | None, page: int, per_page: int
) -> DrillDown:
    """The deals behind a manager's money figure: paid in the period (REVENUE), owing past
    their due date today (OVERDUE_RECEIVABLES)."""
    sql = Sql()
    condition = _paid_in if figure == REVENUE else _overdue_in
    conditions = [*scope.interest_conditions(sql), condition(scope, sql)]
    if manager_id is not None:  # None: every manager's in the scope
        conditions.append(f"i.responsible_id = {sql(manager_id)}")
    return await interests_page(sql, conditions, page=page, per_page=per_page)

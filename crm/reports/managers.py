"""The managers' work in the period, a row per manager: inquiries accepted and rejected
and the first-response time (working minutes kept per inquiry: `inquiries.by_manager`),
interests opened, won and lost with the won amount and the share of closed deals won,
interactions done and overdue, open deals without a planned step, clients without a done
interaction for IDLE_DAYS, and the month's plan (crm.plans) against the won figures.

Counts and sums are grouped in the database, one read per kind of record; a manager
reading it gets their own row only (crm.reports.scope)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import InteractionState, InterestStatus, Role, User
from crm.plans import plans_for_period
from crm.reports import inquiries as inquiry_report
from crm.reports import revenue
from crm.reports.drill import (
    DrillDown,
    RecordKind,
    interests_page,
    page_of,
    unknown_figure,
)
from crm.reports.filters import Period, ReportFilter
from crm.reports.revenue import add_money
from crm.reports.scope import Scope, Sql, gather, scope_for, where
from crm.reports.stats import Spread, money, share
from crm.rows import query

IDLE_DAYS = 30
MAX_IDLE_DAYS = 3650

(
    ACCEPTED,
    REJECTED,
    OPENED,
    WON,
    LOST,
    DONE,
    OVERDUE,
    NO_NEXT_STEP,
    IDLE,
) = ("accepted", "rejected", "opened", "won", "lost", "done", "overdue", "no_next_step", "idle")
ANSWERED = "answered"  # the inquiries whose first response is in the median
FIGURES = (ACCEPTED, REJECTED, ANSWERED, OPENED, WON, LOST, DONE, OVERDUE, NO_NEXT_STEP, IDLE)
FIGURES_WITH_MONEY = FIGURES + revenue.FIGURES  # crm.reports.revenue's figures too


@dataclass
class ManagerRow:
    manager_id: int
    name: str
    accepted: int = 0
    rejected: int = 0
    first_response: Spread = field(default_factory=Spread)  # working minutes
    opened: int = 0
    won: int = 0
    won_amount: Decimal = Decimal("0.00")
    lost: int = 0
    conversion: float | None = None  # won / (won + lost)
    interactions_done: int = 0
    interactions_overdue: int = 0
    no_next_step: int = 0
    idle_clients: int = 0
    plan_amount: Decimal | None = None
    plan_wins: Decimal | None = None
    plan_amount_done: float | None = None  # won amount / plan
    plan_wins_done: float | None = None
    revenue: Decimal = Decimal("0.00")  # crm.reports.revenue
    overdue_receivables: Decimal = Decimal("0.00")
    days_overdue: int = 0


@dataclass(frozen=True)
class ManagersReport:
    period: Period
    idle_days: int
    rows: list[ManagerRow]


def _period(scope: Scope, sql: Sql, column: str) -> list[str]:
    p = scope.period
    return [f"{column} >= {sql.at(p.start)}", f"{column} < {sql.at(p.end)}"]


def _interactions(scope: Scope, sql: Sql, figure: str) -> list[str]:
    out = scope.manager_condition(sql, "x.responsible_id")
    out += scope.client_conditions(sql, "c", "x.client_id")
    if figure == DONE:
        out += [f"x.state = '{InteractionState.DONE.value}'", *_period(scope, sql, "x.done_at")]
    else:
        out += [
            f"x.state = '{InteractionState.PLANNED.value}'",
            f"x.planned_at < {sql.at(scope.now)}",
        ]
    return out


def _interests(scope: Scope, sql: Sql, figure: str) -> list[str]:
    out = scope.interest_conditions(sql)
    if figure == OPENED:
        return out + _period(scope, sql, "i.created_at")
    if figure in (WON, LOST):
        status = InterestStatus.WON if figure == WON else InterestStatus.LOST
        return [*out, f"i.status = '{status.value}'", *_period(scope, sql, "i.closed_at")]
    return [  # NO_NEXT_STEP
        *out,
        f"i.status = '{InterestStatus.OPEN.value}'",
        "NOT EXISTS (SELECT 1 FROM interactions px WHERE px.interest_id = i.id"
        f" AND px.state = '{InteractionState.PLANNED.value}')",
    ]


def _idle(scope: Scope, sql: Sql, idle_days: int) -> list[str]:
    since = sql.at(scope.now - timedelta(days=idle_days))
    return [
        "c.merged_into_id IS NULL",
        "c.responsible_id IS NOT NULL",
        *scope.manager_condition(sql, "c.responsible_id"),
        *scope.client_conditions(sql),
        "NOT EXISTS (SELECT 1 FROM interactions lx WHERE lx.client_id = c.id"
        f" AND lx.state = '{InteractionState.DONE.value}' AND lx.sort_at >= {since})",
    ]


async def _grouped(select: str, conditions: list[str], sql: Sql, column: str) -> list[tuple]:  # type: ignore[type-arg]
    rows = await query(
        f"SELECT {column}, {select} WHERE {where(conditions)} GROUP BY {column}", sql.params
    )
    return [tuple(r) for r in rows if r[0] is not None]


def _check_idle(idle_days: int) -> None:
    if not 1 <= idle_days <= MAX_IDLE_DAYS:
        raise ValidationFailed.field("idle_days", N_("Must be between 1 and 3650 days"))


async def managers(
    report_filter: ReportFilter, *, actor: User, idle_days: int = IDLE_DAYS
) -> ManagersReport:
    _check_idle(idle_days)
    scope = await scope_for(report_filter, actor)
    people = User.filter(id__in=scope.managers) if scope.managers else User.all()
    users = {u.id: u for u in await people}
    rows: dict[int, ManagerRow] = {}

    def row(user_id: int) -> ManagerRow:
        if user_id not in rows:
            user = users.get(user_id)
            rows[user_id] = ManagerRow(user_id, user.full_name if user else "?")
        return rows[user_id]

    for user in users.values():
        if user.is_active and (user.role == Role.MANAGER or scope.managers):
            row(user.id)
    interests = f"FROM interests i{scope.client_join('i.client_id')}"
    interactions = f"FROM interactions x{scope.client_join('x.client_id')}"

    def grouped(select: str, figure: str) -> Awaitable[list[tuple]]:  # type: ignore[type-arg]
        sql = Sql()
        if figure in (DONE, OVERDUE):
            conditions, column = _interactions(scope, sql, figure), "x.responsible_id"
            select = f"{select} {interactions}"
        elif figure == IDLE:
            conditions, column = _idle(scope, sql, idle_days), "c.responsible_id"
            select = f"{select} FROM clients c"
        else:
            conditions, column = _interests(scope, sql, figure), "i.responsible_id"
            select = f"{select} {interests}"
        return _grouped(select, conditions, sql, column)

    # the reads are independent: on PostgreSQL at once, each on a connection of its own
    deciders, *counts = await gather(
        inquiry_report.by_manager(scope),
        grouped("COUNT(*)", OPENED),
        grouped("COUNT(*), SUM(i.amount)", WON),
        grouped("COUNT(*), SUM(i.amount)", LOST),
        grouped("COUNT(*)", NO_NEXT_STEP),
        grouped("COUNT(*)", DONE),
        grouped("COUNT(*)", OVERDUE),
        grouped("COUNT(*)", IDLE),
    )
    for manager_id, figures in deciders.items():
        target = row(manager_id)
        target.accepted, target.rejected = figures.accepted, figures.rejected
        target.first_response = figures.first_response
    opened, won, lost, no_next_step, done, overdue, idle = counts
    for user_id, count in opened:
        row(user_id).opened = int(count)
    for user_id, count, amount in won:
        row(user_id).won, row(user_id).won_amount = int(count), money(amount)
    for user_id, count, _ in lost:
        row(user_id).lost = int(count)
    for user_id, count in no_next_step:
        row(user_id).no_next_step = int(count)
    for user_id, count in done:
        row(user_id).interactions_done = int(count)
    for user_id, count in overdue:
        row(user_id).interactions_overdue = int(count)
    for user_id, count in idle:
        row(user_id).idle_clients = int(count)
    await add_money(scope, row)
    period = scope.period
    planned = await plans_for_period(list(rows), period.first, period.last)
    for target in rows.values():
        target.conversion = share(target.won, target.won + target.lost)
        plan = planned.get(target.manager_id)
        if plan is not None:
            target.plan_amount, target.plan_wins = plan
            if target.plan_amount is not None:
                target.plan_amount_done = share(target.won_amount, target.plan_amount)
            if target.plan_wins is not None:
                target.plan_wins_done = share(target.won, target.plan_wins)
    ordered = sorted(rows.values(), key=lambda r: r.name)
    return ManagersReport(scope.period, idle_days, ordered)


async def drill(
    report_filter: ReportFilter,
    *,
    actor: User,
    figure: str,
    manager_id: int | None,
    idle_days: int = IDLE_DAYS,
    page: int = 1,
    per_page: int = 50,
) -> DrillDown:
    """The records behind a manager's figure: inquiries (ACCEPTED, REJECTED), interests
    (OPENED, WON, LOST, NO_NEXT_STEP), interactions (DONE, OVERDUE), clients (IDLE);
    `manager_id` None: every manager's in the scope (the dashboard's totals)."""
    if figure not in FIGURES_WITH_MONEY:
        raise unknown_figure()
    _check_idle(idle_days)
    if figure in (ACCEPTED, REJECTED, ANSWERED):
        return await inquiry_report.drill(
            report_filter,
            actor=actor,
            figure=figure,
            manager_id=manager_id,
            page=page,
            per_page=per_page,
        )
    scope, sql = await scope_for(report_filter, actor), Sql()
    if figure in revenue.FIGURES:
        return await revenue.drill(
            scope, figure=figure, manager_id=manager_id, page=page, per_page=per_page
        )

    def whose(column: str) -> list[str]:
        return [] if manager_id is None else [f"{column} = {sql(manager_id)}"]

    if figure in (DONE, OVERDUE):
        conditions = [*_interactions(scope, sql, figure), *whose("x.responsible_id")]
        inner = (
            "SELECT x.id FROM interactions x JOIN clients c ON c.id = x.client_id"
            f" WHERE {where(conditions)}"
        )
        return await page_of(
            RecordKind.INTERACTIONS,
            sql,
            f"FROM interactions x WHERE x.id IN ({inner})",
            page=page,
            per_page=per_page,
        )
    if figure == IDLE:
        conditions = [*_idle(scope, sql, idle_days), *whose("c.responsible_id")]
        return await page_of(
            RecordKind.CLIENTS,
            sql,
            f"FROM clients c WHERE {where(conditions)}",
            page=page,
            per_page=per_page,
        )
    conditions = [*_interests(scope, sql, figure), *whose("i.responsible_id")]
    return await interests_page(sql, conditions, page=page, per_page=per_page)

"""The start page's figures (the web's dashboard, the bot's /report summary): new
inquiries and those still waiting, overdue interactions, the pipeline by stage, won this
month against last month and against the plan, and the first-response time against the
SLA. Each figure comes from a report over the same scope, so a manager's dashboard counts
their own work and a head's or an admin's everyone's, and each links to that report. The
won figures are the managers report's, read alone (that whole report, twice, was most of
the dashboard's time)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from crm.models import InterestStatus, Role, User
from crm.plans import plans_for_period
from crm.reports.filters import Preset, ReportFilter
from crm.reports.inquiries import InquiryFigures, inquiry_figures
from crm.reports.pipeline import PipelineReport, pipeline
from crm.reports.scope import Scope, Sql, gather, scope_for, where
from crm.reports.stats import money, share
from crm.rows import query


@dataclass(frozen=True)
class Dashboard:
    inquiries: InquiryFigures  # this month (no next-response section: the page shows none)
    pipeline: PipelineReport  # now
    won_amount: Decimal
    won: int
    last_won_amount: Decimal
    last_won: int
    plan_amount: Decimal | None
    plan_done: float | None  # won amount / plan
    overdue: int  # open deals whose planned next step is past due, now
    no_next_step: int  # open deals with nothing planned
    open_count: int
    open_amount: Decimal


async def _won(scope: Scope) -> dict[int, tuple[int, Decimal]]:
    """Per manager: the deals won in the scope's period and their amount (the managers
    report's "won" figure, without the rest of that report)."""
    sql = Sql()
    conditions = [
        f"i.status = '{InterestStatus.WON.value}'",
        f"i.closed_at >= {sql.at(scope.period.start)}",
        f"i.closed_at < {sql.at(scope.period.end)}",
        "i.responsible_id IS NOT NULL",
        *scope.interest_conditions(sql),
    ]
    rows = await query(
        "SELECT i.responsible_id, COUNT(*), SUM(i.amount)"
        f" FROM interests i{scope.client_join('i.client_id')}"
        f" WHERE {where(conditions)} GROUP BY i.responsible_id",
        sql.params,
    )
    return {int(r[0]): (int(r[1]), money(r[2])) for r in rows}


async def _plan(scope: Scope, won: dict[int, tuple[int, Decimal]]) -> Decimal | None:
    """The month's plan of the managers the managers report lists: the ones named, or the
    active managers and whoever won a deal."""
    if scope.managers:
        people = set(scope.managers)
    else:
        active = await User.filter(is_active=True, role=Role.MANAGER).values_list("id", flat=True)
        people = set(won) | set(cast(list[int], active))
    period = scope.period
    plans = await plans_for_period(sorted(people), period.first, period.last)
    amounts = [amount for amount, _ in plans.values() if amount is not None]
    return sum(amounts, Decimal(0)) if amounts else None


async def dashboard(actor: User) -> Dashboard:
    """The dashboard of `actor` (their own work for a manager): the inquiries and the
    pipeline reports, and the deals won this and last month; the reads at once."""
    this = ReportFilter(preset=Preset.THIS_MONTH)
    last = ReportFilter(preset=Preset.LAST_MONTH)
    this_scope, last_scope = await scope_for(this, actor), await scope_for(last, actor)
    asked, open_now, won_now, won_last = await gather(
        inquiry_figures(this, actor=actor),
        pipeline(this, actor=actor),
        _won(this_scope),
        _won(last_scope),
    )
    plan = await _plan(this_scope, won_now)
    won_amount = sum((amount for _, amount in won_now.values()), Decimal(0))
    return Dashboard(
        inquiries=asked,
        pipeline=open_now,
        won_amount=won_amount,
        won=sum(count for count, _ in won_now.values()),
        last_won_amount=sum((amount for _, amount in won_last.values()), Decimal(0)),
        last_won=sum(count for count, _ in won_last.values()),
        plan_amount=plan,
        plan_done=share(won_amount, plan) if plan else None,
        overdue=sum(c.overdue for c in open_now.cells),
        no_next_step=sum(c.no_next_step for c in open_now.cells),
        open_count=sum(c.count for c in open_now.cells),
        open_amount=sum((c.amount for c in open_now.cells), Decimal(0)),
    )

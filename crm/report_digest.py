"""The figures the bot shows of the reports (`crm.reports`): a manager's summary of a
period (/report), the team's table with the funnel (/report of a head or an admin), and the
heads' weekly digest (last week against the week before).

Every figure comes from the reports themselves, over the same scope: a manager's summary
counts their own work only, because the reports' scope does (`crm.reports.scope`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from crm.company import get_company
from crm.models import User
from crm.reports.filters import Period, Preset, ReportFilter
from crm.reports.funnel import ScenarioFunnel, funnel
from crm.reports.inquiries import ResponseFigures, inquiries
from crm.reports.managers import ManagerRow, managers
from crm.reports.next_response import NextResponse
from crm.reports.pipeline import PipelineReport, pipeline
from crm.reports.stats import share

# the periods /report offers, in the order of its buttons
BOT_PRESETS = (Preset.THIS_WEEK, Preset.THIS_MONTH, Preset.LAST_MONTH, Preset.THIS_QUARTER)


@dataclass(frozen=True)
class Totals:
    """The sums of the managers' rows (one row for a manager's own report)."""

    won: int
    won_amount: Decimal
    lost: int
    opened: int
    conversion: float | None
    overdue: int  # interactions planned and past due, now
    plan_amount: Decimal | None
    plan_done: float | None  # won amount / plan amount


def totals(rows: list[ManagerRow]) -> Totals:
    won = sum(r.won for r in rows)
    lost = sum(r.lost for r in rows)
    amount = sum((r.won_amount for r in rows), Decimal("0.00"))
    plans = [r.plan_amount for r in rows if r.plan_amount is not None]
    plan = sum(plans, Decimal(0)) if plans else None
    return Totals(
        won=won,
        won_amount=amount,
        lost=lost,
        opened=sum(r.opened for r in rows),
        conversion=share(won, won + lost),
        overdue=sum(r.interactions_overdue for r in rows),
        plan_amount=plan,
        plan_done=share(amount, plan) if plan else None,
    )


@dataclass(frozen=True)
class Summary:
    """What /report shows of a period: the managers' rows (a manager: their own), their
    totals, the inquiries' response figures (first and next replies), the pipeline now, the
    funnel (team only)."""

    period: Period
    currency: str
    sla_minutes: int | None
    rows: list[ManagerRow]
    totals: Totals
    responses: ResponseFigures
    pipeline: PipelineReport
    funnel: ScenarioFunnel | None
    next_response: NextResponse | None = None  # later customer messages' waits

    @property
    def open_count(self) -> int:
        return sum(c.count for c in self.pipeline.cells)

    @property
    def open_amount(self) -> Decimal:
        return sum((c.amount for c in self.pipeline.cells), Decimal("0.00"))

    @property
    def overdue_deals(self) -> int:
        """Open deals whose next step is overdue."""
        return sum(c.overdue for c in self.pipeline.cells)


async def summary(actor: User, preset: Preset, *, team: bool) -> Summary:
    """The period's figures as `actor` may see them; with the funnel when `team`."""
    report_filter = ReportFilter(preset=preset)
    people, asked, open_now = await asyncio.gather(
        managers(report_filter, actor=actor),
        inquiries(report_filter, actor=actor),
        pipeline(report_filter, actor=actor),
    )
    chosen = None
    if team:
        scenarios = (await funnel(report_filter, actor=actor)).scenarios
        # the busiest scenario (the default one when none moved)
        entered = [sum(s.entered for s in sc.stages) + sc.won for sc in scenarios]
        if scenarios:
            chosen = scenarios[max(range(len(scenarios)), key=lambda n: (entered[n], -n))]
    return Summary(
        period=people.period,
        currency=(await get_company()).currency,
        sla_minutes=asked.sla_minutes,
        rows=people.rows,
        totals=totals(people.rows),
        responses=asked.total,
        pipeline=open_now,
        funnel=chosen,
        next_response=asked.next_response,
    )


@dataclass(frozen=True)
class Week:
    period: Period
    totals: Totals
    responses: ResponseFigures
    rows: list[ManagerRow]


@dataclass(frozen=True)
class WeekDigest:
    """Last week (Monday to Sunday before `monday`) and the week before it."""

    last: Week
    before: Week
    sla_minutes: int | None
    currency: str


async def _week(first: date, actor: User) -> tuple[Week, int | None]:
    report_filter = ReportFilter(preset=None, date_from=first, date_to=first + timedelta(days=6))
    people, asked = await asyncio.gather(
        managers(report_filter, actor=actor), inquiries(report_filter, actor=actor)
    )
    week = Week(people.period, totals(people.rows), asked.total, people.rows)
    return week, asked.sla_minutes


async def week_digest(actor: User, monday: date) -> WeekDigest:
    """The weekly digest of a head (or an admin) whose week starts on `monday`."""
    (last, sla), (before, _) = await asyncio.gather(
        _week(monday - timedelta(days=7), actor), _week(monday - timedelta(days=14), actor)
    )
    return WeekDigest(last, before, sla, (await get_company()).currency)

"""The start page's figures (the web's dashboard, the bot's /report summary): new
inquiries and those still waiting, overdue interactions, the pipeline by stage, won this
month against last month and against the plan, and the first-response time against the
SLA. Each figure comes from a report over the same scope, so a manager's dashboard counts
their own work and a head's or an admin's everyone's, and each links to that report."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from crm.models import User
from crm.reports.filters import Preset, ReportFilter
from crm.reports.inquiries import InquiriesReport, inquiries
from crm.reports.managers import ManagersReport, managers
from crm.reports.pipeline import PipelineReport, pipeline
from crm.reports.stats import share


@dataclass(frozen=True)
class Dashboard:
    inquiries: InquiriesReport  # this month
    pipeline: PipelineReport  # now
    this_month: ManagersReport
    last_month: ManagersReport
    won_amount: Decimal
    won: int
    last_won_amount: Decimal
    last_won: int
    plan_amount: Decimal | None
    plan_done: float | None  # won amount / plan
    overdue: int  # interactions planned and past due, now
    no_next_step: int  # open deals with nothing planned
    open_count: int
    open_amount: Decimal


async def dashboard(actor: User) -> Dashboard:
    """The dashboard of `actor` (their own work for a manager)."""
    this = ReportFilter(preset=Preset.THIS_MONTH)
    last = ReportFilter(preset=Preset.LAST_MONTH)
    asked, open_now, now_m, last_m = await asyncio.gather(
        inquiries(this, actor=actor),
        pipeline(this, actor=actor),
        managers(this, actor=actor),
        managers(last, actor=actor),
    )
    plans = [r.plan_amount for r in now_m.rows if r.plan_amount is not None]
    plan = sum(plans, Decimal(0)) if plans else None
    won_amount = sum((r.won_amount for r in now_m.rows), Decimal(0))
    return Dashboard(
        inquiries=asked,
        pipeline=open_now,
        this_month=now_m,
        last_month=last_m,
        won_amount=won_amount,
        won=sum(r.won for r in now_m.rows),
        last_won_amount=sum((r.won_amount for r in last_m.rows), Decimal(0)),
        last_won=sum(r.won for r in last_m.rows),
        plan_amount=plan,
        plan_done=share(won_amount, plan) if plan else None,
        overdue=sum(c.overdue for c in open_now.cells),
        no_next_step=sum(c.no_next_step for c in open_now.cells),
        open_count=sum(c.count for c in open_now.cells),
        open_amount=sum((c.amount for c in open_now.cells), Decimal(0)),
    )

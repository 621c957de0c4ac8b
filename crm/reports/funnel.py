"""The sales funnel, per scenario.

Period mode: the interests entering each stage in the period (a stage move recorded in
`stage_changes` inside it; an interest entering a stage twice counts once), with their
amounts; of those, the share that went on to a later stage and the share now won; the
time spent in each stage entered in the period and since left (until the next move, or
until the deal was closed in it); the interests won and lost in the period (closed in it),
their amounts, the win rate and the loss reasons' shares.

Cohort mode: the interests created in the period followed through the stages whenever
they moved, and how many of them are won or lost by now.

Every figure is computed in the database (counts, sums; medians and p90 by
`stats.grouped_quantiles`); `drill` lists the interests behind one. Per move the funnel
reads what crm.stage_moves keeps (when it was left, the stage's previous entry, whether the
deal moved on later), settled first; the drill-downs still look those up per entry."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crm import stage_moves
from crm.models import InterestStatus, Scenario, Stage, User
from crm.reports.drill import DrillDown, RecordKind, interests_page, page_of, unknown_figure
from crm.reports.filters import Period, ReportFilter
from crm.reports.scope import (
    Scope,
    Sql,
    dialect,
    gather,
    report_rows,
    scope_for,
    seconds,
    where,
)
from crm.reports.stats import Spread, grouped_quantiles, money, share
from crm.rows import query


@dataclass(frozen=True)
class StageFigures:
    stage_id: int
    name: str
    entered: int
    entered_amount: Decimal
    advanced: int  # of those entering, how many reached a later stage
    won: int  # of those entering, how many are won
    to_next: float | None
    to_won: float | None
    time_in_stage: Spread  # seconds


@dataclass(frozen=True)
class ReasonShare:
    reason_id: int | None
    reason: str
    count: int
    amount: Decimal
    share: float | None


@dataclass(frozen=True)
class ScenarioFunnel:
    scenario_id: int
    name: str
    stages: list[StageFigures]
    won: int
    won_amount: Decimal
    lost: int
    lost_amount: Decimal
    win_rate: float | None
    loss_reasons: list[ReasonShare]


@dataclass(frozen=True)
class FunnelReport:
    period: Period
    cohort: bool
    scenarios: list[ScenarioFunnel]


# figures that drill down (key: a stage id, or a scenario id, or a reason id; 0 = none)
ENTERED, ADVANCED, WON_FROM_STAGE, TIME, WON, LOST, LOSS_REASON = (
    "entered",
    "advanced",
    "won_from_stage",
    "time_in_stage",  # the entries whose time in the stage is counted (left since)
    "won",
    "lost",
    "loss_reason",
)
FIGURES = (ENTERED, ADVANCED, WON_FROM_STAGE, TIME, WON, LOST, LOSS_REASON)


def _entries(scope: Scope, sql: Sql, cohort: bool) -> tuple[str, list[str]]:
    """FROM/WHERE of the stage entries counted: (sc, g its stage, i, c)."""
    p = scope.period
    joins = (
        "FROM stage_changes sc JOIN stages g ON g.id = sc.to_stage_id"
        " JOIN interests i ON i.id = sc.interest_id JOIN clients c ON c.id = i.client_id"
    )
    column = "i.created_at" if cohort else "sc.created_at"
    conditions = [f"{column} >= {sql.at(p.start)}", f"{column} < {sql.at(p.end)}"]
    return joins, conditions + scope.interest_conditions(sql)


def _advanced(sc: str = "sc", g: str = "g", i: str = "i") -> str:
    return (
        f"EXISTS (SELECT 1 FROM stage_changes s2 JOIN stages g2 ON g2.id = s2.to_stage_id"
        f" WHERE s2.interest_id = {i}.id AND s2.created_at > {sc}.created_at"
        f" AND g2.position > {g}.position)"
    )


def _kept_entries(scope: Scope, sql: Sql, cohort: bool, *, first: bool) -> str:
    """FROM/WHERE of the stage entries a funnel counts (`sc`, its interest `i`), read with
    the values crm.stage_moves keeps per move (settled rows only: a move recorded after
    the report's settle is left out, as if the report had run a moment earlier). Period
    mode: the moves in the period; `first`: only an interest's first entry of a stage in
    it (its previous entry of the stage, if any, before the period). Cohort mode: every
    move of the interests created in the period; `first`: an interest's first entry of
    each stage."""
    p = scope.period
    start, end = sql.at(p.start), sql.at(p.end)
    column = "i.created_at" if cohort else "sc.created_at"
    if not cohort and dialect() != "postgres":
        # SQLite would walk the moments' index over most of the table and look each row up
        # (1.1 s at 100,000 clients); without it (`+`) it reads the interests and each
        # one's moves along (interest_id, created_at): 0.14 s
        column = "+sc.created_at"
    conditions = [f"{column} >= {start}", f"{column} < {end}", "sc.advanced IS NOT NULL"]
    if first:
        conditions.append(
            "sc.entered_before IS NULL"
            if cohort
            else f"(sc.entered_before IS NULL OR sc.entered_before < {start})"
        )
    return (
        "FROM stage_changes sc JOIN interests i ON i.id = sc.interest_id"
        f"{scope.client_join('i.client_id')}"
        f" WHERE {where(conditions + scope.interest_conditions(sql))}"
    )


async def _stage_counts(scope: Scope, cohort: bool) -> dict[int, tuple[int, Decimal, int, int]]:
    """Per stage: the interests entering it (once each: their first entry counted), their
    amount, how many are won, how many moved on to a later stage after that first entry
    (the first has every later move after it, so it moved on if any entry did)."""
    sql = Sql()
    entries = _kept_entries(scope, sql, cohort, first=True)
    won = InterestStatus.WON.value
    rows = await report_rows(
        "SELECT sc.to_stage_id, COUNT(*), SUM(i.amount),"
        f" SUM(CASE WHEN i.status = '{won}' THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN sc.advanced THEN 1 ELSE 0 END) {entries} GROUP BY sc.to_stage_id",
        sql.params,
    )
    return {int(r[0]): (int(r[1]), money(r[2]), int(r[3] or 0), int(r[4] or 0)) for r in rows}


async def _times(scope: Scope, cohort: bool) -> dict[int, Spread]:
    """Seconds in each stage: from entering it to the next move, or to the close."""
    sql = Sql()
    entries = _kept_entries(scope, sql, cohort, first=False)
    left = "COALESCE(sc.left_at, i.closed_at)"
    inner = (
        f"SELECT sc.to_stage_id AS k1, {seconds('sc.created_at', left)} AS v {entries}"
        f" AND {left} IS NOT NULL"
    )
    found = await grouped_quantiles(inner, sql.params)
    return {int(key[0]): value for key, value in found.items()}


def _closed(scope: Scope, sql: Sql, cohort: bool) -> list[str]:
    p = scope.period
    column = "i.created_at" if cohort else "i.closed_at"
    statuses = f"('{InterestStatus.WON.value}', '{InterestStatus.LOST.value}')"
    return [
        f"i.status IN {statuses}",
        f"{column} >= {sql.at(p.start)}",
        f"{column} < {sql.at(p.end)}",
        *scope.interest_conditions(sql),
    ]


async def _outcomes(
    scope: Scope, cohort: bool
) -> list[tuple[int, str, int | None, str | None, int, Decimal]]:
    sql = Sql()
    conditions = _closed(scope, sql, cohort)
    rows = await query(
        "SELECT i.scenario_id, i.status, i.loss_reason_id, r.text, COUNT(*), SUM(i.amount)"
        f" FROM interests i{scope.client_join('i.client_id')}"
        " LEFT JOIN reasons r ON r.id = i.loss_reason_id"
        f" WHERE {where(conditions)} GROUP BY i.scenario_id, i.status, i.loss_reason_id, r.text",
        sql.params,
    )
    return [(int(r[0]), str(r[1]), r[2], r[3], int(r[4]), money(r[5])) for r in rows]


async def funnel(report_filter: ReportFilter, *, actor: User, cohort: bool = False) -> FunnelReport:
    """The funnel of every scenario (or the filter's one) as `actor` may see it."""
    scope = await scope_for(report_filter, actor)
    await stage_moves.settle()  # the moves recorded since the last report
    # three independent reads: on PostgreSQL each on a connection of its own, at once
    counts, times, outcomes = await gather(
        _stage_counts(scope, cohort), _times(scope, cohort), _outcomes(scope, cohort)
    )
    scenarios = Scenario.all().order_by("-is_default", "name")
    if report_filter.scenario_id is not None:
        scenarios = scenarios.filter(id=report_filter.scenario_id)
    stages = await Stage.all().order_by("position", "id")
    result = []
    for scenario in await scenarios:
        own = [s for s in stages if s.scenario_id == scenario.id]  # type: ignore[attr-defined]
        mine = [o for o in outcomes if o[0] == scenario.id]
        if not scenario.is_active and not mine and not any(s.id in counts for s in own):
            continue
        result.append(_scenario(scenario, own, counts, times, mine))
    return FunnelReport(scope.period, cohort, result)


def _scenario(
    scenario: Scenario,
    stages: list[Stage],
    counts: dict[int, tuple[int, Decimal, int, int]],
    times: dict[int, Spread],
    outcomes: list[tuple[int, str, int | None, str | None, int, Decimal]],
) -> ScenarioFunnel:
    figures = []
    for index, stage in enumerate(stages):
        entered, amount, won, advanced = counts.get(stage.id, (0, Decimal("0.00"), 0, 0))
        last = index == len(stages) - 1
        figures.append(
            StageFigures(
                stage.id,
                stage.name,
                entered,
                amount,
                advanced,
                won,
                None if last else share(advanced, entered),
                share(won, entered),
                times.get(stage.id, Spread()),
            )
        )
    won_rows = [o for o in outcomes if o[1] == InterestStatus.WON.value]
    lost_rows = [o for o in outcomes if o[1] == InterestStatus.LOST.value]
    won, lost = sum(o[4] for o in won_rows), sum(o[4] for o in lost_rows)
    reasons = [
        ReasonShare(o[2], o[3] or "", o[4], o[5], share(o[4], lost))
        for o in sorted(lost_rows, key=lambda o: (-o[4], o[3] or ""))
    ]
    return ScenarioFunnel(
        scenario.id,
        scenario.name,
        figures,
        won,
        sum((o[5] for o in won_rows), Decimal("0.00")),
        lost,
        sum((o[5] for o in lost_rows), Decimal("0.00")),
        share(won, won + lost),
        reasons,
    )


async def drill(
    report_filter: ReportFilter,
    *,
    actor: User,
    figure: str,
    key: int,
    cohort: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> DrillDown:
    """The interests behind a figure: ENTERED/ADVANCED/WON_FROM_STAGE of stage `key`,
    WON/LOST of scenario `key`, LOSS_REASON `key` (0: lost without a reason)."""
    scope, sql = await scope_for(report_filter, actor), Sql()
    if figure in (ENTERED, ADVANCED, WON_FROM_STAGE, TIME):
        joins, conditions = _entries(scope, sql, cohort)
        conditions.append(f"sc.to_stage_id = {sql(key)}")
        if figure == ADVANCED:
            conditions.append(_advanced())
        if figure == TIME:  # left the stage: moved on later, or closed in it
            conditions.append(
                "(i.closed_at IS NOT NULL OR EXISTS (SELECT 1 FROM stage_changes s3"
                " WHERE s3.interest_id = i.id AND (s3.created_at > sc.created_at"
                " OR (s3.created_at = sc.created_at AND s3.id > sc.id))))"
            )
        if figure == WON_FROM_STAGE:
            conditions.append(f"i.status = '{InterestStatus.WON.value}'")
        inner = f"SELECT sc.interest_id {joins} WHERE {where(conditions)}"
    elif figure in (WON, LOST, LOSS_REASON):
        conditions = _closed(scope, sql, cohort)
        status = InterestStatus.WON if figure == WON else InterestStatus.LOST
        conditions.append(f"i.status = '{status.value}'")
        if figure == LOSS_REASON:
            conditions.append(
                f"i.loss_reason_id = {sql(key)}" if key else "i.loss_reason_id IS NULL"
            )
        else:
            conditions.append(f"i.scenario_id = {sql(key)}")
        return await interests_page(sql, conditions, page=page, per_page=per_page)
    else:
        raise unknown_figure()
    return await page_of(
        RecordKind.INTERESTS,
        sql,
        f"FROM interests i WHERE i.id IN ({inner})",
        page=page,
        per_page=per_page,
    )

"""The pipeline now: the open interests by stage and manager, with their count, amount
and average age, and how many have no planned next step or an overdue one (a planned
interaction whose moment has passed). The period does not apply: it is today's picture;
the other filters do. One grouped read; `drill` lists the interests of a cell."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crm.models import InteractionState, InterestStatus, Scenario, Stage, User
from crm.reports.drill import DrillDown, interests_page, unknown_figure
from crm.reports.filters import ReportFilter
from crm.reports.scope import Scope, Sql, gather, report_rows, scope_for, seconds, where
from crm.reports.stats import money

OPEN, NO_NEXT_STEP, OVERDUE = "open", "no_next_step", "overdue"
FIGURES = (OPEN, NO_NEXT_STEP, OVERDUE)


@dataclass(frozen=True)
class PipelineCell:
    scenario_id: int
    scenario: str
    stage_id: int
    stage: str
    position: int
    manager_id: int | None
    manager: str
    count: int
    amount: Decimal
    average_age_days: float
    no_next_step: int
    overdue: int


@dataclass(frozen=True)
class PipelineReport:
    cells: list[PipelineCell]  # by scenario, stage position, manager

    def by_stage(self) -> list[tuple[int, str, int, Decimal]]:
        """(stage id, stage, count, amount) summed over the managers."""
        totals: dict[int, tuple[int, str, int, Decimal]] = {}
        for cell in self.cells:
            _, name, count, amount = totals.get(cell.stage_id, (0, cell.stage, 0, Decimal(0)))
            totals[cell.stage_id] = (cell.stage_id, name, count + cell.count, amount + cell.amount)
        return list(totals.values())


def _planned(x: str = "px") -> str:
    return (
        f"SELECT 1 FROM interactions {x} WHERE {x}.interest_id = i.id"
        f" AND {x}.state = '{InteractionState.PLANNED.value}'"
    )


def _open(scope: Scope, sql: Sql) -> list[str]:
    return [f"i.status = '{InterestStatus.OPEN.value}'", *scope.interest_conditions(sql)]


def _next_steps(now: str) -> str:
    """Per interest with a planned interaction: whether one of them is overdue (one
    grouped read along the planned interactions' partial index, instead of two look-ups
    per open interest)."""
    return (
        "SELECT px.interest_id, MAX(CASE WHEN px.planned_at < "
        f"{now} THEN 1 ELSE 0 END) AS overdue FROM interactions px"
        f" WHERE px.state = '{InteractionState.PLANNED.value}' AND px.interest_id IS NOT NULL"
        " GROUP BY px.interest_id"
    )


async def pipeline(report_filter: ReportFilter, *, actor: User) -> PipelineReport:
    scope, sql = await scope_for(report_filter, actor), Sql()
    now = sql.at(scope.now)
    age = seconds("i.created_at", now)
    rows = await report_rows(
        "SELECT i.scenario_id, i.stage_id, i.responsible_id,"
        f" COUNT(*), SUM(i.amount), AVG({age}),"
        " SUM(CASE WHEN n.interest_id IS NULL THEN 1 ELSE 0 END), SUM(n.overdue)"
        f" FROM interests i{scope.client_join('i.client_id')}"
        f" LEFT JOIN ({_next_steps(now)}) n ON n.interest_id = i.id"
        f" WHERE {where(_open(scope, sql))}"
        " GROUP BY i.scenario_id, i.stage_id, i.responsible_id",
        sql.params,
    )
    # the names of the few groups, after counting (joined before, they were carried
    # through every open interest's row)
    found_stages, found_scenarios, found_users = await gather(
        Stage.filter(id__in={r[1] for r in rows}),
        Scenario.filter(id__in={r[0] for r in rows}),
        User.filter(id__in={r[2] for r in rows if r[2]}),
    )
    stages = {g.id: g for g in found_stages}
    scenarios = {s.id: s for s in found_scenarios}
    users = {u.id: u for u in found_users}
    cells = [
        PipelineCell(
            int(r[0]),
            scenarios[r[0]].name,
            int(r[1]),
            stages[r[1]].name,
            stages[r[1]].position,
            r[2],
            users[r[2]].full_name if r[2] in users else "",
            int(r[3]),
            money(r[4]),
            float(r[5] or 0) / 86400,
            int(r[6] or 0),
            int(r[7] or 0),
        )
        for r in rows
    ]
    # as the report always read: by scenario name, stage position, manager's name
    cells.sort(
        key=lambda c: (
            c.scenario,
            c.scenario_id,
            c.position,
            c.stage_id,
            c.manager_id is None,
            c.manager,
            c.manager_id or 0,
        )
    )
    return PipelineReport(cells)


async def drill(
    report_filter: ReportFilter,
    *,
    actor: User,
    figure: str,
    stage_id: int | None = None,
    manager_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> DrillDown:
    """The open interests of a stage and/or manager (0: nobody's): all of them (OPEN),
    those without a planned step, or those with an overdue one."""
    if figure not in FIGURES:
        raise unknown_figure()
    scope, sql = await scope_for(report_filter, actor), Sql()
    conditions = _open(scope, sql)
    if stage_id is not None:
        conditions.append(f"i.stage_id = {sql(stage_id)}")
    if manager_id is not None:
        conditions.append(
            f"i.responsible_id = {sql(manager_id)}" if manager_id else "i.responsible_id IS NULL"
        )
    if figure == NO_NEXT_STEP:
        conditions.append(f"NOT EXISTS ({_planned()})")
    elif figure == OVERDUE:
        conditions.append(f"EXISTS ({_planned()} AND px.planned_at < {sql.at(scope.now)})")
    return await interests_page(sql, conditions, page=page, per_page=per_page)

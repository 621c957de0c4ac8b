"""The pipeline now: the open interests by stage and manager, with their count, amount
and average age, and how many have no planned next step or an overdue one (a planned
interaction whose moment has passed). The period does not apply: it is today's picture;
the other filters do. One grouped read; `drill` lists the interests of a cell."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crm.models import InteractionState, InterestStatus, User
from crm.reports.drill import DrillDown, interests_page, unknown_figure
from crm.reports.filters import ReportFilter
from crm.reports.scope import Scope, Sql, scope_for, seconds, where
from crm.reports.stats import money
from crm.rows import query

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


async def pipeline(report_filter: ReportFilter, *, actor: User) -> PipelineReport:
    scope, sql = await scope_for(report_filter, actor), Sql()
    now = sql.at(scope.now)
    age = seconds("i.created_at", now)
    rows = await query(
        "SELECT s.id, s.name, g.id, g.name, g.position, i.responsible_id, u.full_name,"
        f" COUNT(*), SUM(i.amount), AVG({age}),"
        f" SUM(CASE WHEN EXISTS ({_planned()}) THEN 0 ELSE 1 END),"
        f" SUM(CASE WHEN EXISTS ({_planned()} AND px.planned_at < {now}) THEN 1 ELSE 0 END)"
        " FROM interests i JOIN clients c ON c.id = i.client_id"
        " JOIN stages g ON g.id = i.stage_id JOIN scenarios s ON s.id = i.scenario_id"
        " LEFT JOIN users u ON u.id = i.responsible_id"
        f" WHERE {where(_open(scope, sql))}"
        " GROUP BY s.id, s.name, g.id, g.name, g.position, i.responsible_id, u.full_name"
        " ORDER BY s.name, s.id, g.position, g.id, u.full_name",
        sql.params,
    )
    return PipelineReport(
        [
            PipelineCell(
                int(r[0]),
                r[1],
                int(r[2]),
                r[3],
                int(r[4]),
                r[5],
                r[6] or "",
                int(r[7]),
                money(r[8]),
                float(r[9] or 0) / 86400,
                int(r[10] or 0),
                int(r[11] or 0),
            )
            for r in rows
        ]
    )


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

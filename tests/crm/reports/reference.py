"""The reports' figures as they were computed before bench.reports made them fast: one
correlated look-up per stage entry (funnel) and per open deal (pipeline), kept here as the
reference the fast SQL must equal (test_report_equivalence.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from crm.models import InteractionState, InterestStatus
from crm.reports import base
from crm.reports.scope import Scope, Sql, seconds, where
from crm.reports.stats import Spread, grouped_quantiles, money
from crm.rows import query


def _entries(scope: Scope, sql: Sql, cohort: bool) -> tuple[str, list[str]]:
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


async def stage_counts(scope: Scope, cohort: bool) -> dict[int, tuple[int, Decimal, int, int]]:
    sql = Sql()
    joins, conditions = _entries(scope, sql, cohort)
    won = InterestStatus.WON.value
    rows = await query(
        "SELECT k, COUNT(*), SUM(amount), SUM(won), SUM(adv) FROM ("
        f" SELECT sc.to_stage_id AS k, i.id AS id, MAX(i.amount) AS amount,"
        f" MAX(CASE WHEN i.status = '{won}' THEN 1 ELSE 0 END) AS won,"
        f" MAX(CASE WHEN {_advanced()} THEN 1 ELSE 0 END) AS adv"
        f" {joins} WHERE {where(conditions)} GROUP BY sc.to_stage_id, i.id) t GROUP BY k",
        sql.params,
    )
    return {int(r[0]): (int(r[1]), money(r[2]), int(r[3] or 0), int(r[4] or 0)) for r in rows}


async def times(scope: Scope, cohort: bool) -> dict[int, Spread]:
    """Seconds in each stage: from entering it to the next move, or to the close."""
    sql, p = Sql(), scope.period
    start, end = sql.at(p.start), sql.at(p.end)
    if cohort:
        moves_where = f"i2.created_at >= {start} AND i2.created_at < {end}"
        entered = "TRUE"
    else:
        moves_where = f"sc.created_at >= {start}"  # a move's next move is later still
        entered = f"m.entered_at < {end}"
    moves = (
        "SELECT sc.interest_id, sc.to_stage_id AS stage_id, sc.created_at AS entered_at,"
        " LEAD(sc.created_at) OVER (PARTITION BY sc.interest_id"
        " ORDER BY sc.created_at, sc.id) AS left_at"
        " FROM stage_changes sc JOIN interests i2 ON i2.id = sc.interest_id"
        f" WHERE {moves_where}"
    )
    left = "COALESCE(m.left_at, i.closed_at)"
    conditions = [entered, f"{left} IS NOT NULL", *scope.interest_conditions(sql)]
    inner = (
        f"SELECT m.stage_id AS k1, {seconds('m.entered_at', left)} AS v FROM ({moves}) m"
        " JOIN interests i ON i.id = m.interest_id JOIN clients c ON c.id = i.client_id"
        f" WHERE {where(conditions)}"
    )
    found = await grouped_quantiles(inner, sql.params)
    return {int(key[0]): value for key, value in found.items()}


async def pipeline(scope: Scope) -> list[tuple[Any, ...]]:
    """(stage, manager, count, amount, no next step, overdue) per cell."""
    sql = Sql()
    now = sql.at(scope.now)
    planned = (
        "SELECT 1 FROM interactions px WHERE px.interest_id = i.id"
        f" AND px.state = '{InteractionState.PLANNED.value}'"
    )
    rows = await query(
        "SELECT i.stage_id, i.responsible_id, COUNT(*), SUM(i.amount),"
        f" SUM(CASE WHEN EXISTS ({planned}) THEN 0 ELSE 1 END),"
        f" SUM(CASE WHEN EXISTS ({planned} AND px.planned_at < {now}) THEN 1 ELSE 0 END)"
        " FROM interests i JOIN clients c ON c.id = i.client_id"
        f" WHERE i.status = '{InterestStatus.OPEN.value}'"
        f" AND {where(scope.interest_conditions(sql))}"
        " GROUP BY i.stage_id, i.responsible_id",
        sql.params,
    )
    return sorted(
        (r[0], r[1], int(r[2]), money(r[3]), int(r[4] or 0), int(r[5] or 0)) for r in rows
    )


async def base_groups(scope: Scope, group_by: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """(keys..., clients, with open interests, won amount, last-contact buckets...)."""
    dims = [await base.dimension(name, n) for n, name in enumerate(group_by)]
    sql, p = Sql(), scope.period
    bounds = [sql.at(scope.now - timedelta(days=d)) for d in base.LAST_CONTACT]
    buckets = ", ".join(
        [
            f"COUNT(DISTINCT CASE WHEN li.last_at >= {bounds[0]} THEN c.id END)",
            *(
                f"COUNT(DISTINCT CASE WHEN li.last_at < {bounds[k]}"
                f" AND li.last_at >= {bounds[k + 1]} THEN c.id END)"
                for k in range(len(bounds) - 1)
            ),
            f"COUNT(DISTINCT CASE WHEN li.last_at < {bounds[-1]} THEN c.id END)",
            "COUNT(DISTINCT CASE WHEN li.last_at IS NULL THEN c.id END)",
        ]
    )
    keys = ", ".join(d.key for d in dims)
    rows = await query(
        f"SELECT {keys}, COUNT(DISTINCT c.id),"
        " COUNT(DISTINCT CASE WHEN oi.client_id IS NOT NULL THEN c.id END),"
        f" SUM(wi.amount), {buckets}"
        f" FROM clients c{''.join(d.joins for d in dims)}"
        " LEFT JOIN (SELECT client_id, MAX(sort_at) AS last_at FROM interactions"
        " WHERE state = 'done' GROUP BY client_id) li ON li.client_id = c.id"
        " LEFT JOIN (SELECT DISTINCT client_id FROM interests"
        " WHERE status = 'open') oi ON oi.client_id = c.id"
        " LEFT JOIN (SELECT client_id, SUM(amount) AS amount FROM interests"
        f" WHERE status = 'won' AND closed_at >= {sql.at(p.start)}"
        f" AND closed_at < {sql.at(p.end)} GROUP BY client_id) wi ON wi.client_id = c.id"
        f" WHERE {where(base._clients(scope, sql))} GROUP BY {keys}",
        sql.params,
    )
    n = len(dims)
    return sorted(
        (
            (tuple(r[:n]), int(r[n]), int(r[n + 1]), money(r[n + 2]), *(int(v) for v in r[n + 3 :]))
            for r in rows
        ),
        key=repr,
    )


async def base_quality(scope: Scope) -> tuple[int, ...]:
    """(clients, no contacts, no responsible, no interaction, duplicates), per client."""
    sql = Sql()
    sums = ", ".join(
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"
        for condition in base._quality_conditions().values()
    )
    rows = await query(
        f"SELECT COUNT(*), {sums} FROM clients c WHERE {where(base._clients(scope, sql))}",
        sql.params,
    )
    return tuple(int(v or 0) for v in rows[0])

"""What every stage move keeps for the funnel, and how it stays true.

The funnel (crm.reports.funnel) asks of each move in `stage_changes`: when was it left (the
interest's next move), was it the first entry of its stage since a moment (the interest's
previous entry of the same stage), and did the interest move on to a later stage (a higher
position) strictly later. Computed at read time these took a window pass over millions of
moves and a grouping of every (interest, stage) pair; they are kept on the row instead:

- `left_at`: the moment of the interest's next move in (created_at, id) order, None while
  it is the last one (a move at the same moment with a greater id leaves it at once);
- `entered_before`: the moment of the interest's previous move to the same stage in that
  order, None for the first;
- `advanced`: whether a move at a strictly later moment went to a higher position (moves
  at the same moment are not "later").

The promise: after `settle()`, every row of `stage_changes` that is not None in `advanced`
holds exactly what the window functions below give over the interest's moves (the SQL the
funnel used to run, kept in tests/crm/reports/reference.py). How:

- Writing a move costs nothing more: it is inserted with `advanced` None ("not settled"),
  which puts it in the small partial index `stage_changes_unsettled`. Nothing on the bot's
  or the robots' path waits for the figures.
- `settle()` recomputes every move of the interests with an unsettled move, in one
  statement (the window query restricted to them), writing only rows whose values
  differ. The funnel settles before it reads, and counts only settled rows, so a move
  committed between the two is left out as if the report had run a moment earlier.
- Positions change when an admin reorders a scenario's stages: `resettle_scenario` runs
  the same statement over every interest that moved through the scenario, in the
  reorder's transaction (adding a stage or deleting an unused one keeps the order of the
  others, so `advanced` cannot change). A deleted interest takes its moves with it
  (cascade); merging clients does not touch moves.
- Migration 0018 fills the columns of existing rows with the same statement over all
  moves (`settle_all`); the demo data settles once after writing its moves.

On PostgreSQL a settle holds a transaction-level advisory lock, so two reports starting at
once do not update the same rows in different orders."""

from __future__ import annotations

from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from crm.rows import for_driver

_LOCK = 0x5C_0018  # pg_advisory_xact_lock key of the settle
# the interests to settle: those with a move not settled yet (the partial index
# crm.sql_indexes.STAGE_CHANGES_UNSETTLED)
UNSETTLED = "sc.interest_id IN (SELECT u.interest_id FROM stage_changes u WHERE u.advanced IS NULL)"


def window_sql(which: str) -> str:
    """Per move of the interests `which` picks (a condition on `sc`): its id and the kept
    values as the window functions compute them (columns id, left_at, entered_before,
    advanced). All windows but the stage's order by the moment alone, so one sort serves
    them: `later` and `next_at` look at the moves strictly later (EXCLUDE GROUP leaves out
    those at the same moment), `last_id` is the last of the moves at the same moment."""
    strictly_later = "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP"
    return (
        "SELECT x.id, CASE WHEN x.last_id > x.id THEN x.created_at ELSE x.next_at END AS left_at,"
        " x.entered_before,"
        " CASE WHEN x.later > x.position THEN 1 ELSE 0 END AS advanced FROM ("
        "SELECT sc.id, sc.created_at, g.position,"
        f" MAX(g.position) OVER (w {strictly_later}) AS later,"
        f" MIN(sc.created_at) OVER (w {strictly_later}) AS next_at,"
        " MAX(sc.id) OVER (w RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS last_id,"
        " LAG(sc.created_at) OVER (PARTITION BY sc.interest_id, sc.to_stage_id"
        " ORDER BY sc.created_at, sc.id) AS entered_before"
        " FROM stage_changes sc JOIN stages g ON g.id = sc.to_stage_id"
        f" WHERE {which}"
        " WINDOW w AS (PARTITION BY sc.interest_id ORDER BY sc.created_at)) x"
    )


def _update_sql(which: str, postgres: bool) -> str:
    differs = "IS DISTINCT FROM" if postgres else "IS NOT"
    advanced = "(w.advanced = 1)" if postgres else "w.advanced"
    return (
        f"UPDATE stage_changes AS s SET left_at = w.left_at, entered_before = w.entered_before,"
        f" advanced = {advanced} FROM ({window_sql(which)}) w"
        f" WHERE s.id = w.id AND (s.advanced IS NULL OR s.advanced <> {advanced}"
        f" OR s.left_at {differs} w.left_at OR s.entered_before {differs} w.entered_before)"
    )


async def _run(conn: BaseDBAsyncClient, which: str, params: list[Any]) -> int:
    postgres = conn.capabilities.dialect == "postgres"
    if postgres:
        await conn.execute_query(f"SELECT pg_advisory_xact_lock({_LOCK})")
        # the window's sort of a backfill or a reorder in memory (inside the transaction)
        await conn.execute_script("SET LOCAL work_mem = '64MB'")
    sql = for_driver(_update_sql(which, postgres), conn.capabilities.dialect)
    count, _ = await conn.execute_query(sql, params)
    return int(count or 0)


async def settle(*, analyze: bool = False) -> int:
    """Keep the funnel's values of every move of the interests with an unsettled move
    (recorded since the last settle); the rows written. `analyze`: then refresh
    PostgreSQL's statistics of the table (after a bulk write: without them the planner
    takes the kept columns for empty and joins the funnel's moves row by row)."""
    async with in_transaction() as conn:
        count = await _run(conn, UNSETTLED, [])
    if analyze:
        await _analyze(connections.get("default"))
    return count


async def _analyze(conn: BaseDBAsyncClient) -> None:
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("ANALYZE stage_changes")


async def resettle_scenario(scenario_id: int) -> int:
    """Recompute the moves of every interest that moved through the scenario's stages
    (after its stages were reordered: `advanced` compares positions). Run it inside the
    reorder's transaction."""
    which = (
        "sc.interest_id IN (SELECT y.interest_id FROM stage_changes y"
        " JOIN stages gy ON gy.id = y.to_stage_id WHERE gy.scenario_id = $1)"
    )
    async with in_transaction() as conn:
        return await _run(conn, which, [scenario_id])


async def settle_all(conn: BaseDBAsyncClient | None = None) -> int:
    """Recompute every move (migration 0018's backfill), then refresh the statistics."""
    if conn is not None:
        count = await _run(conn, "TRUE", [])
        await _analyze(conn)
        return count
    async with in_transaction() as tx:
        count = await _run(tx, "TRUE", [])
    await _analyze(connections.get("default"))
    return count

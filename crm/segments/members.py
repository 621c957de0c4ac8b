"""A segment's members: recomputed from its rule, stored in `segment_members` with the
moment each client joined and left, so the composition report can tell who is in, since
when, and who left.

`recompute` runs under a lock of the segment row, so two recomputes of one segment never
both insert: on PostgreSQL the rule's members go into a temporary table first (a read that
may run in parallel, which a statement that also writes may not), then the leavers' UPDATE
and the joiners' INSERT are anti-joins against it; on SQLite the same in two
statements inside a transaction (PG_SETTINGS: how the PostgreSQL one is planned).
`recompute_due` is the nightly pass the worker's
scheduler ticks: ABC/XYZ classes first (rules may use them), then every segment not yet
computed since the company's local RECOMPUTE_HOUR, each claimed by an atomic UPDATE so
two workers never compute the same segment twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from crm import clock
from crm.company import get_company
from crm.errors import NotFound, PermissionDenied
from crm.models import Segment, SegmentMember, User
from crm.reports.scope import Sql, dialect
from crm.rows import for_driver, moment
from crm.segments.compile import compile_rule
from crm.segments.rules import parse_rule

# For the recompute's transaction on PostgreSQL: the statistics of segment_members lag behind
# a recompute that just added 100,000 rows, and a nested loop picked on a stale estimate
# walks every member per wanted client (minutes); hash joins take milliseconds whatever the
# estimate. JIT compiles the plan longer than the plan runs.
# work_mem holds the rule's hashed subqueries (crm.segments.compile).
# The members are read in parallel only when passing rows between the processes is
# costed as cheap as it is (0.1 a row by default made a plain scan look cheaper).
PG_SETTINGS = (
    "enable_nestloop = off",
    "jit = off",
    "work_mem = '256MB'",
    "parallel_tuple_cost = 0.001",
)
RECOMPUTE_HOUR = 3  # the company's local hour after which the nightly pass runs


@dataclass(frozen=True)
class Outcome:
    members: int
    joined: int
    left: int


async def recompute(segment: Segment, *, now: datetime | None = None) -> Outcome:
    """Store the segment's members as its rule finds them now; record who joined and left."""
    at = now or clock.now()
    rule = parse_rule(segment.rule)
    sql = Sql()
    wanted, _ = await compile_rule(rule, now=at, sql=sql)
    bound = len(sql.params)  # the rule's own parameters
    seg, when = sql(segment.id), sql.at(at)
    current = (
        f"SELECT 1 FROM segment_members m WHERE m.segment_id = {seg}"
        " AND m.client_id = w.id AND m.left_at IS NULL"
    )
    async with in_transaction() as conn:
        run = conn.execute_query
        postgres = dialect() == "postgres"
        if postgres:
            await run("SELECT id FROM segments WHERE id = $1 FOR UPDATE", [segment.id])
            for setting in PG_SETTINGS:
                await run(f"SET LOCAL {setting}")
            # the rule's members first, by a read PostgreSQL may run in parallel (a
            # statement that writes may not); then the leavers and the joiners are
            # anti-joins against them, kept in a temporary table
            _, rows = await run(wanted, sql.params[:bound])
            await run("CREATE TEMP TABLE segment_wanted (id INT NOT NULL) ON COMMIT DROP")
            await run("INSERT INTO segment_wanted SELECT unnest($1::int[])", [[r[0] for r in rows]])
            members, marks = len(rows), [segment.id, moment(at)]
            left, _ = await run(  # an UPDATE answers its row count
                "UPDATE segment_members m SET left_at = $2 WHERE m.segment_id = $1"
                " AND m.left_at IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM segment_wanted w WHERE w.id = m.client_id)",
                marks,
            )
            _, rows = await run(  # tortoise reads no count of an INSERT: counted here
                "WITH came AS (INSERT INTO segment_members (segment_id, client_id, joined_at)"
                " SELECT $1, w.id, $2 FROM segment_wanted w WHERE NOT EXISTS"
                " (SELECT 1 FROM segment_members m WHERE m.segment_id = $1"
                " AND m.client_id = w.id AND m.left_at IS NULL) RETURNING 1)"
                " SELECT COUNT(*) FROM came",
                marks,
            )
            joined = int(rows[0][0])
        else:
            params = sql.params
            _, rows = await run(
                for_driver(
                    f"UPDATE segment_members SET left_at = {when} WHERE segment_id = {seg}"
                    f" AND left_at IS NULL AND client_id NOT IN ({wanted})"
                    " RETURNING 1",
                    "sqlite",
                ),
                params,
            )
            left = len(rows)
            _, rows = await run(
                for_driver(
                    "INSERT INTO segment_members (segment_id, client_id, joined_at)"
                    f" SELECT {seg}, w.id, {when} FROM ({wanted}) w WHERE NOT EXISTS ({current})"
                    " RETURNING 1",
                    "sqlite",
                ),
                params,
            )
            joined = len(rows)
            _, rows = await run(
                "SELECT COUNT(*) FROM segment_members WHERE segment_id = ? AND left_at IS NULL",
                [segment.id],
            )
            members = int(rows[0][0])
        await (
            Segment.filter(id=segment.id)
            .using_db(conn)
            .update(computed_at=at, members_count=members)
        )
    segment.computed_at, segment.members_count = at, members
    return Outcome(members, joined, left)


async def recompute_now(segment_id: int, *, actor: User) -> Outcome:
    """A recompute asked for by a person: admins and heads of sales (who see every client)."""
    if not actor.sees_everything:
        raise PermissionDenied()
    segment = await Segment.filter(id=segment_id).first()
    if segment is None:
        raise NotFound()
    return await recompute(segment)


def night_start(now: datetime, timezone: str) -> datetime:
    """The latest local RECOMPUTE_HOUR at or before `now`."""
    local = now.astimezone(ZoneInfo(timezone))
    start = datetime.combine(local.date(), time(RECOMPUTE_HOUR), tzinfo=local.tzinfo)
    return start if start <= local else start - timedelta(days=1)


async def recompute_due(*, now: datetime | None = None) -> int:
    """The nightly pass (see the module's docstring); how many segments it computed."""
    from crm.segments.abcxyz import classify_due  # the classes first

    at = now or clock.now()
    await classify_due(now=at)
    since = night_start(at, (await get_company()).default_timezone)
    done = 0
    stale = Q(computed_at__isnull=True) | Q(computed_at__lt=since)
    for segment in await Segment.filter(stale).order_by("id"):
        # the claim: the first worker to move computed_at past `since` computes it
        claimed = await Segment.filter(stale, id=segment.id).update(computed_at=at)
        if claimed:
            await recompute(segment, now=at)
            done += 1
    return done


async def member_rows(
    segment_id: int, *, client_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """Membership rows (client, joined, left) of a segment, optionally for some clients."""
    query = SegmentMember.filter(segment_id=segment_id)
    if client_ids is not None:
        query = query.filter(client_id__in=client_ids)
    return await query.order_by("-joined_at").values("client_id", "joined_at", "left_at")

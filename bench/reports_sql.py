"""bench.reports' baselines: each report's figures computed by hand-written SQL straight
on asyncpg (PostgreSQL), for the same period and custom-field filter, with only the
arithmetic SQL cannot do (working minutes) in Python. Each returns a signature (a few
totals) that must equal the report's, so the two are known to compute the same figures."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from crm.reports.stats import spread
from crm.working_time import WorkCalendar, WorkClock


@dataclass(frozen=True)
class Frame:
    start: datetime
    end: datetime
    now: datetime
    field: tuple[int, int] | None  # (definition id, option id)
    calendar: WorkCalendar
    sla_minutes: int | None = None


def _field(frame: Frame, client: str, args: list[Any]) -> str:
    if frame.field is None:
        return ""
    args.extend(frame.field)
    n = len(args)
    return (
        f" AND EXISTS (SELECT 1 FROM field_values fv WHERE fv.client_id = {client}"
        f" AND fv.definition_id = ${n - 1} AND fv.value_option_id = ${n})"
    )


async def funnel(pool: Any, frame: Frame) -> tuple[int, ...]:
    args: list[Any] = [frame.start, frame.end]
    f = _field(frame, "i.client_id", args)
    entered = await pool.fetch(
        "SELECT k, COUNT(*), SUM(amount), SUM(won), SUM(adv) FROM ("
        " SELECT sc.to_stage_id AS k, i.id, MAX(i.amount) AS amount,"
        " MAX((i.status = 'won')::int) AS won, MAX((EXISTS (SELECT 1 FROM stage_changes s2"
        " JOIN stages g2 ON g2.id = s2.to_stage_id WHERE s2.interest_id = i.id"
        " AND s2.created_at > sc.created_at AND g2.position > g.position))::int) AS adv"
        " FROM stage_changes sc JOIN stages g ON g.id = sc.to_stage_id"
        " JOIN interests i ON i.id = sc.interest_id"
        f" WHERE sc.created_at >= $1 AND sc.created_at < $2{f} GROUP BY 1, 2) t GROUP BY k",
        *args,
    )
    times = await pool.fetch(
        "SELECT stage_id, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY v),"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM ("
        " SELECT m.stage_id, EXTRACT(EPOCH FROM COALESCE(m.left_at, i.closed_at) - m.entered_at)"
        " AS v FROM (SELECT interest_id, to_stage_id AS stage_id, created_at AS entered_at,"
        " LEAD(created_at) OVER (PARTITION BY interest_id ORDER BY created_at, id) AS left_at"
        " FROM stage_changes WHERE created_at >= $1) m JOIN interests i ON i.id = m.interest_id"
        f" WHERE m.entered_at < $2 AND COALESCE(m.left_at, i.closed_at) IS NOT NULL{f}) t"
        " GROUP BY stage_id",
        *args,
    )
    outcomes = await pool.fetch(
        "SELECT i.scenario_id, i.status, i.loss_reason_id, COUNT(*), SUM(i.amount)"
        " FROM interests i WHERE i.status IN ('won', 'lost') AND i.closed_at >= $1"
        f" AND i.closed_at < $2{f} GROUP BY 1, 2, 3",
        *args,
    )
    return (
        sum(r[1] for r in entered),
        sum(r[1] for r in times),
        sum(r[3] for r in outcomes),
    )


async def pipeline(pool: Any, frame: Frame) -> tuple[int, ...]:
    args: list[Any] = [frame.now]
    f = _field(frame, "i.client_id", args)
    rows = await pool.fetch(
        "SELECT i.stage_id, i.responsible_id, COUNT(*), SUM(i.amount),"
        " AVG(EXTRACT(EPOCH FROM $1 - i.created_at)),"
        " COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM interactions x"
        " WHERE x.interest_id = i.id AND x.state = 'planned')),"
        " COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM interactions x"
        " WHERE x.interest_id = i.id AND x.state = 'planned' AND x.planned_at < $1))"
        f" FROM interests i WHERE i.status = 'open'{f} GROUP BY 1, 2",
        *args,
    )
    return (sum(r[2] for r in rows), sum(r[5] for r in rows), sum(r[6] for r in rows))


def _clock(frame: Frame) -> WorkClock:
    zone = frame.calendar.zone
    return WorkClock(
        frame.calendar,
        frame.start.astimezone(zone).date() - timedelta(days=1),
        frame.now.astimezone(zone).date() + timedelta(days=1),
    )


async def _inquiry_rows(pool: Any, frame: Frame) -> list[Any]:
    args: list[Any] = [frame.start, frame.end]
    f = _field(frame, "q.client_id", args)
    return list(
        await pool.fetch(
            "SELECT q.id, q.channel_id, q.status, q.decided_by_id, q.first_message_at,"
            " q.decided_at, (SELECT m.created_at FROM messages m"
            " WHERE m.conversation_id = q.conversation_id AND m.direction = 'out'"
            " AND m.author_id IS NOT NULL AND m.created_at >= q.first_message_at"
            " ORDER BY m.created_at, m.id LIMIT 1), q.rejection_reason_id FROM inquiries q"
            f" WHERE q.first_message_at >= $1 AND q.first_message_at < $2{f} ORDER BY q.id",
            *args,
        )
    )


BUCKETS = (5, 15, 60, 240, 1440)


def _figures(rows: list[tuple[Any, ...]], sla: int | None) -> tuple[Any, ...]:
    """What the report gives a group of inquiries (status, reasons, accept and response
    spreads, response buckets, SLA met), from (status, reason, accept, response) rows."""
    statuses: dict[str, int] = defaultdict(int)
    reasons: dict[Any, int] = defaultdict(int)
    buckets = [0] * (len(BUCKETS) + 1)
    accept, answered, met = [], [], 0
    for status, reason, accepted, response in rows:
        statuses[status] += 1
        if status == "rejected":
            reasons[reason] += 1
        if accepted is not None:
            accept.append(accepted)
        if response is not None:
            answered.append(response)
            buckets[bisect_right(BUCKETS, response)] += 1
            met += sla is not None and response <= sla
    return (dict(statuses), dict(reasons), spread(accept), spread(answered), buckets, met)


async def inquiries(pool: Any, frame: Frame) -> tuple[int, ...]:
    """The inquiries report's figures: in total, per channel and per manager who decided."""
    clock = _clock(frame)
    rows: list[tuple[Any, ...]] = []
    channels: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    deciders: dict[int | None, list[tuple[Any, ...]]] = defaultdict(list)
    for r in await _inquiry_rows(pool, frame):
        accepted = clock.minutes(r[4], r[5]) if r[2] == "accepted" and r[5] else None
        response = None if r[6] is None else clock.minutes(r[4], r[6])
        row = (r[2], r[7], accepted, response)
        rows.append(row)
        channels[r[1]].append(row)
        deciders[r[3]].append(row)
    sla = frame.sla_minutes
    for group in (*channels.values(), *deciders.values()):
        _figures(group, sla)
    total = _figures(rows, sla)
    return (len(rows), total[3].count, round(total[3].median or 0))


async def managers(pool: Any, frame: Frame) -> tuple[int, ...]:
    clock = _clock(frame)
    responses: dict[int, list[float]] = defaultdict(list)
    for row in await _inquiry_rows(pool, frame):
        if row[3] is not None and row[6] is not None:
            responses[row[3]].append(clock.minutes(row[4], row[6]))
    for values in responses.values():
        spread(values)
    args: list[Any] = [frame.start, frame.end, frame.now, frame.now - timedelta(days=30)]
    fi, fx = _field(frame, "i.client_id", args), _field(frame, "x.client_id", [0, 0, 0, 0])
    fc = _field(frame, "c.id", [0, 0, 0, 0])
    rows = await pool.fetch(
        "SELECT 'opened', i.responsible_id, COUNT(*), NULL::numeric FROM interests i"
        f" WHERE i.created_at >= $1 AND i.created_at < $2{fi} GROUP BY 2"
        " UNION ALL SELECT i.status, i.responsible_id, COUNT(*), SUM(i.amount) FROM interests i"
        " WHERE i.status IN ('won', 'lost') AND i.closed_at >= $1 AND i.closed_at < $2"
        f"{fi} GROUP BY 1, 2"
        " UNION ALL SELECT 'no_next', i.responsible_id, COUNT(*), NULL FROM interests i"
        " WHERE i.status = 'open' AND NOT EXISTS (SELECT 1 FROM interactions px"
        f" WHERE px.interest_id = i.id AND px.state = 'planned'){fi} GROUP BY 2"
        " UNION ALL SELECT 'done', x.responsible_id, COUNT(*), NULL FROM interactions x"
        f" WHERE x.state = 'done' AND x.done_at >= $1 AND x.done_at < $2{fx} GROUP BY 2"
        " UNION ALL SELECT 'overdue', x.responsible_id, COUNT(*), NULL FROM interactions x"
        f" WHERE x.state = 'planned' AND x.planned_at < $3{fx} GROUP BY 2"
        " UNION ALL SELECT 'idle', c.responsible_id, COUNT(*), NULL FROM clients c"
        " WHERE c.merged_into_id IS NULL AND c.responsible_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM interactions lx WHERE lx.client_id = c.id"
        f" AND lx.state = 'done' AND lx.sort_at >= $4){fc} GROUP BY 2",
        *args,
    )
    await pool.fetch(
        "SELECT user_id, month, amount, wins FROM manager_plans WHERE month <= $1", frame.end.date()
    )
    figures: dict[str, int] = defaultdict(int)
    for kind, who, count, _ in rows:
        if who is not None:
            figures[kind] += count
    return (figures["opened"], figures["won"], figures["lost"], figures["done"])


async def sources(pool: Any, frame: Frame) -> tuple[int, ...]:
    args: list[Any] = [frame.start, frame.end]
    fa, fq = _field(frame, "a.client_id", args), _field(frame, "q.client_id", [0, 0])
    firsts = await pool.fetch(
        "SELECT a.channel_id, c.lead_source, COUNT(*) FROM conversations a"
        " JOIN clients c ON c.id = a.client_id"
        f" WHERE a.created_at >= $1 AND a.created_at < $2{fa} GROUP BY 1, 2",
        *args,
    )
    asked = await pool.fetch(
        "SELECT q.channel_id, c.lead_source, COUNT(*) FROM inquiries q"
        " JOIN clients c ON c.id = q.client_id"
        f" WHERE q.first_message_at >= $1 AND q.first_message_at < $2{fq} GROUP BY 1, 2",
        *args,
    )
    deals = await pool.fetch(
        "SELECT q.channel_id, c.lead_source, COUNT(DISTINCT i.id), SUM(i.amount),"
        " COUNT(*) FILTER (WHERE i.status = 'won'), SUM(i.amount) FILTER (WHERE i.status = 'won')"
        " FROM inquiries q JOIN interests i ON i.id = q.interest_id"
        " JOIN clients c ON c.id = q.client_id"
        f" WHERE q.first_message_at >= $1 AND q.first_message_at < $2{fq} GROUP BY 1, 2",
        *args,
    )
    return (sum(r[2] for r in firsts), sum(r[2] for r in asked), sum(r[2] for r in deals))


async def base(pool: Any, frame: Frame) -> tuple[int, ...]:
    args: list[Any] = [frame.start, frame.end]
    f = _field(frame, "c.id", args)
    groups = await pool.fetch(
        "SELECT c.kind, COUNT(*), COUNT(oi.client_id), SUM(wi.amount) FROM clients c"
        " LEFT JOIN (SELECT DISTINCT client_id FROM interests WHERE status = 'open') oi"
        " ON oi.client_id = c.id LEFT JOIN (SELECT client_id, SUM(amount) AS amount"
        " FROM interests WHERE status = 'won' AND closed_at >= $1 AND closed_at < $2"
        " GROUP BY client_id) wi ON wi.client_id = c.id"
        " LEFT JOIN (SELECT client_id, MAX(sort_at) AS last_at FROM interactions"
        " WHERE state = 'done' GROUP BY client_id) li ON li.client_id = c.id"
        f" WHERE c.merged_into_id IS NULL{f} GROUP BY c.kind",
        *args,
    )
    quality_args: list[Any] = []
    fq = _field(frame, "c.id", quality_args)
    quality = await pool.fetchrow(
        "SELECT COUNT(*),"
        " COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM client_contacts k"
        " WHERE k.client_id = c.id)),"
        " COUNT(*) FILTER (WHERE c.responsible_id IS NULL),"
        " COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM interactions x"
        " WHERE x.client_id = c.id)),"
        " COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM client_contacts k JOIN client_contacts k2"
        " ON k2.kind = k.kind AND k2.value = k.value AND k2.client_id <> k.client_id"
        " JOIN clients c2 ON c2.id = k2.client_id AND c2.merged_into_id IS NULL"
        " WHERE k.client_id = c.id) OR (c.inn IS NOT NULL AND EXISTS (SELECT 1 FROM clients c3"
        " WHERE c3.inn = c.inn AND c3.id <> c.id AND c3.merged_into_id IS NULL)))"
        f" FROM clients c WHERE c.merged_into_id IS NULL{fq}",
        *quality_args,
    )
    return (sum(r[1] for r in groups), quality[1], quality[4])


async def won(pool: Any, frame: Frame) -> tuple[int, ...]:
    """The dashboard's deals won in the frame by a manager: count and amount (whole)."""
    row = await pool.fetchrow(
        "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM interests WHERE status = 'won'"
        " AND closed_at >= $1 AND closed_at < $2 AND responsible_id IS NOT NULL",
        frame.start,
        frame.end,
    )
    return (row[0], int(row[1]))


async def plan(pool: Any, frame: Frame, month: date) -> tuple[int, ...]:
    """The dashboard's plan of a whole month: the active managers' and the winners'."""
    value = await pool.fetchval(
        "SELECT COALESCE(SUM(p.amount), 0) FROM manager_plans p WHERE p.month = $1"
        " AND (p.user_id IN (SELECT id FROM users WHERE is_active AND role = 'manager')"
        " OR p.user_id IN (SELECT responsible_id FROM interests WHERE status = 'won'"
        " AND closed_at >= $2 AND closed_at < $3))",
        month,
        frame.start,
        frame.end,
    )
    return (int(value),)

"""Inquiries and response times, per channel and per manager.

The inquiries whose first message came in the period: received, accepted, rejected (by
reason), still waiting; the time to accept (first message -> accepted) and the first
response time (first message -> the first reply a person wrote: an outgoing message with
an author, from the bot, the web or the API; a stage robot's message has none) in
working minutes of the company's calendar (crm.working_time), as median, p90 and the
distribution in BUCKETS, and the share answered within the SLA target.

Counting working minutes needs the calendar (hours, weekends, holidays, clock changes),
which SQL cannot do portably: one read returns a row per inquiry with its moments (the
first reply found by a correlated subquery along messages' (conversation_id, id) index),
and `WorkClock` turns each pair into minutes with two lookups. "Per manager" is who
decided the inquiry; the waiting ones are nobody's. The scenario filter does not apply
(an inquiry has no scenario until it is accepted)."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.i18n import N_
from crm.models import Direction, InquiryStatus, User
from crm.reports.drill import DrillDown, RecordKind, page_of_ids, unknown_figure
from crm.reports.filters import Period, ReportFilter
from crm.reports.next_response import NextResponse, next_response_of
from crm.reports.scope import Scope, Sql, scope_for, where
from crm.reports.stats import Spread, as_moment, share, spread
from crm.rows import query
from crm.working_time import WorkClock

BUCKETS = (5, 15, 60, 240, 1440)  # upper bounds in minutes: <5, 5-15, 15-60, 1-4 h, 4-24 h, >24 h
BUCKET_NAMES = (
    N_("< 5 min"),
    N_("5-15 min"),
    N_("15-60 min"),
    N_("1-4 h"),
    N_("4-24 h"),
    N_("> 24 h"),
)

RECEIVED, ACCEPTED, REJECTED, WAITING, REASON, BUCKET = (
    "received",
    "accepted",
    "rejected",
    "waiting",
    "reason",
    "bucket",
)
ANSWERED, SLA_MET, SLA_MISSED, UNANSWERED = "answered", "sla_met", "sla_missed", "unanswered"
FIGURES = (
    RECEIVED, ACCEPTED, REJECTED, WAITING, REASON, BUCKET, ANSWERED, SLA_MET, SLA_MISSED,
    UNANSWERED,
)  # fmt: skip


@dataclass(frozen=True)
class InquiryRow:
    """One inquiry as the report reads it (minutes are working minutes)."""

    id: int
    channel_id: int
    channel: str
    status: InquiryStatus
    manager_id: int | None
    manager: str
    reason_id: int | None
    reason: str
    accept_minutes: float | None
    first_response_minutes: float | None


@dataclass(frozen=True)
class ReasonCount:
    reason_id: int | None
    reason: str
    count: int


@dataclass(frozen=True)
class ResponseFigures:
    received: int
    accepted: int
    rejected: int
    waiting: int
    rejected_by_reason: list[ReasonCount]
    accept: Spread  # working minutes
    first_response: Spread  # working minutes
    buckets: tuple[int, ...]  # first responses per BUCKETS
    sla_met: int
    sla_share: float | None  # of the answered ones


@dataclass(frozen=True)
class InquiryGroup:
    key: int | None
    name: str
    figures: ResponseFigures


@dataclass(frozen=True)
class InquiriesReport:
    period: Period
    sla_minutes: int | None
    total: ResponseFigures
    channels: list[InquiryGroup]
    managers: list[InquiryGroup]
    next_response: NextResponse  # later customer messages (crm.reports.next_response)


def bucket_of(minutes: float) -> int:
    """The index of the first bound above `minutes` (len(BUCKETS) when none is)."""
    return bisect_right(BUCKETS, minutes)


def inquiry_conditions(scope: Scope, sql: Sql) -> list[str]:
    """The period's inquiries `q` (with client `c`) in the scope."""
    p, f = scope.period, scope.filter
    out = [f"q.first_message_at >= {sql.at(p.start)}", f"q.first_message_at < {sql.at(p.end)}"]
    if f.channel_id is not None:
        out.append(f"q.channel_id = {sql(f.channel_id)}")
    if scope.managers:
        managers = sql.ids(scope.managers)
        out.append(
            f"(q.decided_by_id IN {managers} OR (q.status = '{InquiryStatus.OPEN.value}'"
            f" AND c.responsible_id IN {managers}))"
        )
    return out + scope.client_conditions(sql, "c", "q.client_id")


def first_reply(column: str) -> str:
    """SQL for `column` of the first message a person sent in the inquiry's conversation
    since its first message."""
    return (
        f"(SELECT m.{column} FROM messages m WHERE m.conversation_id = q.conversation_id"
        f" AND m.direction = '{Direction.OUT.value}' AND m.author_id IS NOT NULL"
        " AND m.created_at >= q.first_message_at ORDER BY m.created_at, m.id LIMIT 1)"
    )


def _clients(scope: Scope) -> str:
    """The clients' join, where `inquiry_conditions` read their columns."""
    needed = scope.needs_clients or bool(scope.managers)
    return " JOIN clients c ON c.id = q.client_id" if needed else ""


async def read_rows(scope: Scope) -> list[InquiryRow]:
    """The period's inquiries in the scope, each with its working minutes."""
    sql = Sql()
    rows = await query(
        "SELECT q.id, q.channel_id, h.name, q.status, q.decided_by_id, u.full_name,"
        " q.rejection_reason_id, r.text, q.first_message_at, q.decided_at,"
        f" {first_reply('created_at')}"
        f" FROM inquiries q{_clients(scope)}"
        " JOIN channels h ON h.id = q.channel_id LEFT JOIN users u ON u.id = q.decided_by_id"
        " LEFT JOIN reasons r ON r.id = q.rejection_reason_id"
        f" WHERE {where(inquiry_conditions(scope, sql))} ORDER BY q.id",
        sql.params,
    )
    clock = WorkClock(
        scope.calendar,
        scope.period.first - timedelta(days=1),
        max(scope.now.astimezone(scope.calendar.zone).date(), scope.period.last)
        + timedelta(days=1),
    )

    def minutes(start: datetime | None, end: datetime | None) -> float | None:
        return None if start is None or end is None else clock.minutes(start, end)

    out = []
    for r in rows:
        first, decided, replied = as_moment(r[8]), as_moment(r[9]), as_moment(r[10])
        status = InquiryStatus(r[3])
        out.append(
            InquiryRow(
                int(r[0]),
                int(r[1]),
                r[2],
                status,
                r[4],
                r[5] or "",
                r[6],
                r[7] or "",
                minutes(first, decided) if status == InquiryStatus.ACCEPTED else None,
                minutes(first, replied),
            )
        )
    return out


def figures(rows: Iterable[InquiryRow], sla: int | None) -> ResponseFigures:
    rows = list(rows)
    by_status: dict[InquiryStatus, int] = defaultdict(int)
    reasons: dict[int | None, ReasonCount] = {}
    buckets = [0] * (len(BUCKETS) + 1)
    answered = [r.first_response_minutes for r in rows if r.first_response_minutes is not None]
    for row in rows:
        by_status[row.status] += 1
        if row.status == InquiryStatus.REJECTED:
            old = reasons.get(row.reason_id, ReasonCount(row.reason_id, row.reason, 0))
            reasons[row.reason_id] = ReasonCount(row.reason_id, row.reason, old.count + 1)
    for value in answered:
        buckets[bucket_of(value)] += 1
    met = sum(1 for value in answered if sla is not None and value <= sla)
    return ResponseFigures(
        received=len(rows),
        accepted=by_status[InquiryStatus.ACCEPTED],
        rejected=by_status[InquiryStatus.REJECTED],
        waiting=by_status[InquiryStatus.OPEN],
        rejected_by_reason=sorted(reasons.values(), key=lambda r: (-r.count, r.reason)),
        accept=spread([r.accept_minutes for r in rows if r.accept_minutes is not None]),
        first_response=spread(answered),
        buckets=tuple(buckets),
        sla_met=met,
        sla_share=share(met, len(answered)) if sla is not None else None,
    )


def _groups(rows: list[InquiryRow], key: str, name: str, sla: int | None) -> list[InquiryGroup]:
    grouped: dict[int | None, list[InquiryRow]] = defaultdict(list)
    names: dict[int | None, str] = {}
    for row in rows:
        grouped[getattr(row, key)].append(row)
        names[getattr(row, key)] = getattr(row, name)
    return sorted(
        (InquiryGroup(k, names[k], figures(v, sla)) for k, v in grouped.items()),
        key=lambda g: (g.key is None, g.name),
    )


async def inquiries(report_filter: ReportFilter, *, actor: User) -> InquiriesReport:
    scope = await scope_for(report_filter, actor)
    rows, sla = await read_rows(scope), scope.sla_minutes
    return InquiriesReport(
        scope.period,
        sla,
        figures(rows, sla),
        _groups(rows, "channel_id", "channel", sla),
        _groups(rows, "manager_id", "manager", sla),
        await next_response_of(scope),
    )


def _matches(row: InquiryRow, figure: str, key: int | None, sla: int | None) -> bool:
    if figure == RECEIVED:
        return True
    if figure in (ACCEPTED, REJECTED, WAITING):
        wanted = {
            ACCEPTED: InquiryStatus.ACCEPTED,
            REJECTED: InquiryStatus.REJECTED,
            WAITING: InquiryStatus.OPEN,
        }
        return row.status == wanted[figure]
    if figure == REASON:
        return row.status == InquiryStatus.REJECTED and row.reason_id == (key or None)
    if figure == UNANSWERED:
        return row.first_response_minutes is None
    minutes = row.first_response_minutes
    if minutes is None:
        return False
    if figure == BUCKET:
        return bucket_of(minutes) == key
    if figure == ANSWERED:  # the first responses counted in the medians
        return True
    if figure == SLA_MET:
        return sla is not None and minutes <= sla
    return sla is not None and minutes > sla  # SLA_MISSED


async def drill(
    report_filter: ReportFilter,
    *,
    actor: User,
    figure: str,
    key: int | None = None,
    channel_id: int | None = None,
    manager_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> DrillDown:
    """The inquiries behind a figure, of one channel and/or manager (0: nobody): REASON
    `key` (0: no reason), BUCKET `key` (an index of BUCKETS' ranges), SLA_MISSED, ..."""
    if figure not in FIGURES:
        raise unknown_figure()
    scope = await scope_for(report_filter, actor)
    ids = [
        row.id
        for row in await read_rows(scope)
        if (channel_id is None or row.channel_id == channel_id)
        and (manager_id is None or row.manager_id == (manager_id or None))
        and _matches(row, figure, key, scope.sla_minutes)
    ]
    return await page_of_ids(RecordKind.INQUIRIES, ids, page=page, per_page=per_page)

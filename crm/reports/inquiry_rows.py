"""The inquiries report the old way: a row per inquiry with its moments, the minutes
counted by `WorkClock` as it reads (`read_rows`), the figures made in Python. The report
reads so only while the kept figures (crm.reports.kept_minutes) are not settled, just after
a calendar change or the migration; the tests compare the two ways."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.models import InquiryStatus
from crm.reports.inquiries import (
    ACCEPTED,
    ANSWERED,
    BUCKET,
    BUCKETS,
    REASON,
    RECEIVED,
    REJECTED,
    SLA_MET,
    UNANSWERED,
    WAITING,
    InquiryGroup,
    ManagerFigures,
    ReasonCount,
    ResponseFigures,
    bucket_of,
    clients_join,
    inquiry_conditions,
)
from crm.reports.kept_minutes import first_reply
from crm.reports.scope import Scope, Sql, where
from crm.reports.stats import as_moment, share, spread
from crm.rows import query
from crm.working_time import WorkClock


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


async def read_rows(scope: Scope) -> list[InquiryRow]:
    """The period's inquiries in the scope, each with its working minutes."""
    sql = Sql()
    rows = await query(
        "SELECT q.id, q.channel_id, h.name, q.status, q.decided_by_id, u.full_name,"
        " q.rejection_reason_id, r.text, q.first_message_at, q.decided_at,"
        f" {first_reply('created_at')}"
        f" FROM inquiries q{clients_join(scope)}"
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


def grouped(rows: list[InquiryRow], key: str) -> dict[int | None, list[InquiryRow]]:
    grouped: dict[int | None, list[InquiryRow]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def groups(rows: list[InquiryRow], key: str, name: str, sla: int | None) -> list[InquiryGroup]:
    names = {getattr(row, key): getattr(row, name) for row in rows}
    return sorted(
        (InquiryGroup(k, names[k], figures(v, sla)) for k, v in grouped(rows, key).items()),
        key=lambda g: (g.key is None, g.name),
    )


def by_manager(rows: list[InquiryRow]) -> dict[int, ManagerFigures]:
    out = {}
    for manager_id, group in grouped(rows, "manager_id").items():
        if manager_id is None:
            continue
        answered = [r.first_response_minutes for r in group if r.first_response_minutes is not None]
        out[manager_id] = ManagerFigures(
            sum(1 for r in group if r.status == InquiryStatus.ACCEPTED),
            sum(1 for r in group if r.status == InquiryStatus.REJECTED),
            spread(answered),
        )
    return out


def matches(row: InquiryRow, figure: str, key: int | None, sla: int | None) -> bool:
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

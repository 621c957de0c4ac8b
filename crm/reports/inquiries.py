"""Inquiries and response times, per channel and per manager.

The inquiries whose first message came in the period: received, accepted, rejected (by
reason), still waiting; the time to accept (first message -> accepted) and the first
response time (first message -> the first reply a person wrote: an outgoing message with
an author, from the bot, the web or the API; a stage robot's message has none) in
working minutes of the company's calendar (crm.working_time), as median, p90 and the
distribution in BUCKETS, and the share answered within the SLA target.

Counting working minutes needs the calendar (hours, weekends, holidays, clock changes),
which SQL cannot do portably, so each inquiry keeps its figures, counted off the write
paths (crm.reports.kept_minutes). Once `kept_minutes.ready()` has settled the few rows
not yet counted, the report is grouped SQL over them: one grouped count (status, reason,
bucket by CASE, SLA met) and the medians and p90s by `grouped_quantiles`; the drill-downs
are SQL conditions on the same columns. While more rows wait to be counted (right after a
calendar change or the migration) it counts the old way (crm.reports.inquiry_rows): one
read returns a row per inquiry with its moments and `WorkClock` turns each pair into
minutes. "Per manager" is who decided the inquiry; the waiting ones are nobody's. The scenario
filter does not apply (an inquiry has no scenario until it is accepted)."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field

from crm.i18n import N_
from crm.models import InquiryStatus, User
from crm.reports import kept_minutes
from crm.reports.drill import DrillDown, RecordKind, page_of, page_of_ids, unknown_figure
from crm.reports.filters import Period, ReportFilter
from crm.reports.next_response import NextResponse, next_response_of
from crm.reports.scope import Scope, Sql, dialect, gather, report_rows, scope_for, where
from crm.reports.stats import Spread, grouped_quantiles, share, spread
from crm.rows import query

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
class InquiryFigures:
    """The report without its next-response section (the dashboard's figures)."""

    period: Period
    sla_minutes: int | None
    total: ResponseFigures
    channels: list[InquiryGroup]
    managers: list[InquiryGroup]


@dataclass(frozen=True)
class InquiriesReport(InquiryFigures):
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


def clients_join(scope: Scope) -> str:
    """The clients' join, where `inquiry_conditions` read their columns."""
    needed = scope.needs_clients or bool(scope.managers)
    return " JOIN clients c ON c.id = q.client_id" if needed else ""


@dataclass
class _Tally:
    """A group's counts from the grouped read."""

    name: str = ""
    received: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reasons: dict[int | None, int] = field(default_factory=lambda: defaultdict(int))
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    answered: int = 0
    met: int = 0

    def add(self, status: str, reason: int | None, bucket: int | None, n: int, met: int) -> None:
        self.received += n
        self.statuses[status] += n
        if status == InquiryStatus.REJECTED.value:
            self.reasons[reason] += n
        if bucket is not None:
            self.buckets[bucket] += n
            self.answered += n
            self.met += met

    def figures(
        self, names: dict[int, str], accept: Spread, first: Spread, sla: int | None
    ) -> ResponseFigures:
        reasons = [
            ReasonCount(k, names.get(k, "") if k else "", n) for k, n in self.reasons.items()
        ]
        return ResponseFigures(
            received=self.received,
            accepted=self.statuses[InquiryStatus.ACCEPTED.value],
            rejected=self.statuses[InquiryStatus.REJECTED.value],
            waiting=self.statuses[InquiryStatus.OPEN.value],
            rejected_by_reason=sorted(reasons, key=lambda r: (-r.count, r.reason)),
            accept=accept,
            first_response=first,
            buckets=tuple(self.buckets),
            sla_met=self.met if sla is not None else 0,
            sla_share=share(self.met, self.answered) if sla is not None else None,
        )


def bucket_sql(column: str) -> str:
    """SQL for `bucket_of(column)` (NULL for NULL)."""
    whens = " ".join(f"WHEN {column} < {bound} THEN {i}" for i, bound in enumerate(BUCKETS))
    return f"CASE WHEN {column} IS NULL THEN NULL {whens} ELSE {len(BUCKETS)} END"


def _met(sql: Sql, sla: int | None) -> str:
    if sla is None:
        return "0"
    return f"CASE WHEN q.first_reply_minutes <= {sql(float(sla))} THEN 1 ELSE 0 END"


async def _counts(scope: Scope) -> list[tuple]:  # type: ignore[type-arg]
    sql = Sql()
    rows = await query(
        "SELECT q.channel_id, q.decided_by_id, q.status, q.rejection_reason_id,"
        f" {bucket_sql('q.first_reply_minutes')}, COUNT(*), SUM({_met(sql, scope.sla_minutes)})"
        f" FROM inquiries q{clients_join(scope)} WHERE {where(inquiry_conditions(scope, sql))}"
        " GROUP BY q.channel_id, q.decided_by_id, q.status, q.rejection_reason_id,"
        f" {bucket_sql('q.first_reply_minutes')}",
        sql.params,
    )
    return [tuple(r) for r in rows]


Spreads = dict[tuple[int, int | None], Spread]
SPREAD_COLUMNS = ("accept_minutes", "first_reply_minutes")


async def _spreads(scope: Scope, column: str) -> Spreads:
    """PostgreSQL: median and p90 of a kept column in one pass, in total (0, 0), per
    channel (1, id) and per manager (2, id or None)."""
    sql = Sql()
    conditions = [*inquiry_conditions(scope, sql), f"q.{column} IS NOT NULL"]
    rows = await report_rows(  # a year's values sorted: in memory (work_mem), not on disk
        "SELECT GROUPING(q.channel_id), GROUPING(q.decided_by_id), q.channel_id,"
        f" q.decided_by_id, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY q.{column}),"
        f" percentile_cont(0.9) WITHIN GROUP (ORDER BY q.{column})"
        f" FROM inquiries q{clients_join(scope)} WHERE {where(conditions)}"
        " GROUP BY GROUPING SETS ((), (q.channel_id), (q.decided_by_id))",
        sql.params,
    )
    out: Spreads = {}
    for no_channel, no_manager, channel, manager, n, median, p90 in rows:
        if not n:  # the total of no rows
            continue
        key = (0, 0) if no_channel and no_manager else (2, manager) if no_channel else (1, channel)
        out[key] = Spread(int(n), float(median), float(p90))
    return out


async def _both_spreads(scope: Scope) -> list[Spreads]:
    """`_spreads` of SPREAD_COLUMNS; on SQLite (no percentile function) from one read of
    the values, grouped three ways here (interpolated as percentile_cont: crm.reports.stats)."""
    if dialect() == "postgres":
        return await gather(*(_spreads(scope, column) for column in SPREAD_COLUMNS))
    sql = Sql()
    values = ", ".join(f"q.{column}" for column in SPREAD_COLUMNS)
    nulls = " OR ".join(f"q.{column} IS NOT NULL" for column in SPREAD_COLUMNS)
    rows = await query(
        f"SELECT q.channel_id, q.decided_by_id, {values} FROM inquiries q{clients_join(scope)}"
        f" WHERE {where([*inquiry_conditions(scope, sql), f'({nulls})'])}",
        sql.params,
    )
    out = []
    for index in range(len(SPREAD_COLUMNS)):
        groups: dict[tuple[int, int | None], list[float]] = defaultdict(list)
        for row in rows:
            value = row[2 + index]
            if value is not None:
                groups[(0, 0)].append(value)
                groups[(1, row[0])].append(value)
                groups[(2, row[1])].append(value)
        out.append({key: spread(group) for key, group in groups.items()})
    return out


async def _names(table: str, column: str, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    sql = Sql()
    rows = await query(
        f"SELECT id, {column} FROM {table} WHERE id IN {sql.ids(tuple(ids))}", sql.params
    )
    return {int(r[0]): r[1] or "" for r in rows}


async def _kept_figures(
    scope: Scope,
) -> tuple[ResponseFigures, list[InquiryGroup], list[InquiryGroup]]:
    """The report's figures grouped in SQL over the kept minutes."""
    counts, (accept, first) = await gather(_counts(scope), _both_spreads(scope))
    total, channels = _Tally(), defaultdict[int, _Tally](_Tally)
    managers: dict[int | None, _Tally] = defaultdict(_Tally)
    for channel_id, manager_id, status, reason, bucket, n, met in counts:
        for tally in (total, channels[int(channel_id)], managers[manager_id]):
            tally.add(
                status, reason, None if bucket is None else int(bucket), int(n), int(met or 0)
            )
    reasons = {r for t in managers.values() for r in t.reasons if r is not None}
    channel_names, manager_names, reason_names = await gather(
        _names("channels", "name", set(channels)),
        _names("users", "full_name", {m for m in managers if m is not None}),
        _names("reasons", "text", reasons),
    )
    sla = scope.sla_minutes

    def group(kind: int, key: int | None, tally: _Tally, name: str) -> InquiryGroup:
        a, f = accept.get((kind, key), Spread()), first.get((kind, key), Spread())
        return InquiryGroup(key, name, tally.figures(reason_names, a, f, sla))

    by_channel = [group(1, k, t, channel_names.get(k, "")) for k, t in channels.items()]
    by_manager = [
        group(2, k, t, "" if k is None else manager_names.get(k, "")) for k, t in managers.items()
    ]

    def order(g: InquiryGroup) -> tuple[bool, str]:
        return (g.key is None, g.name)

    totals = total.figures(
        reason_names, accept.get((0, 0), Spread()), first.get((0, 0), Spread()), sla
    )
    return totals, sorted(by_channel, key=order), sorted(by_manager, key=order)


async def _figures(scope: Scope) -> InquiryFigures:
    sla = scope.sla_minutes
    if await kept_minutes.ready(scope.calendar):
        total, channels, managers = await _kept_figures(scope)
    else:  # the old way, from every row, until the worker has counted them
        from crm.reports import inquiry_rows  # it uses this module

        rows = await inquiry_rows.read_rows(scope)
        total = inquiry_rows.figures(rows, sla)
        channels = inquiry_rows.groups(rows, "channel_id", "channel", sla)
        managers = inquiry_rows.groups(rows, "manager_id", "manager", sla)
    return InquiryFigures(scope.period, sla, total, channels, managers)


async def inquiry_figures(report_filter: ReportFilter, *, actor: User) -> InquiryFigures:
    """The report's figures without the next-response section."""
    return await _figures(await scope_for(report_filter, actor))


async def inquiries(report_filter: ReportFilter, *, actor: User) -> InquiriesReport:
    scope = await scope_for(report_filter, actor)
    # at once on PostgreSQL: the later messages' waits take the longer
    found, later = await gather(_figures(scope), next_response_of(scope))
    return InquiriesReport(**vars(found), next_response=later)


@dataclass(frozen=True)
class ManagerFigures:
    accepted: int
    rejected: int
    first_response: Spread


async def by_manager(scope: Scope) -> dict[int, ManagerFigures]:
    """Each deciding manager's accepted and rejected inquiries and first responses (for
    crm.reports.managers)."""
    if not await kept_minutes.ready(scope.calendar):
        from crm.reports import inquiry_rows  # it uses this module

        return inquiry_rows.by_manager(await inquiry_rows.read_rows(scope))
    sql = Sql()
    conditions = [*inquiry_conditions(scope, sql), "q.decided_by_id IS NOT NULL"]
    source = f"FROM inquiries q{clients_join(scope)} WHERE {where(conditions)}"
    rows, spreads = await gather(
        query(f"SELECT q.decided_by_id, q.status, COUNT(*) {source} GROUP BY 1, 2", sql.params),
        grouped_quantiles(
            f"SELECT q.decided_by_id AS k1, q.first_reply_minutes AS v {source}"
            " AND q.first_reply_minutes IS NOT NULL",
            sql.params,
        ),
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for manager_id, status, n in rows:
        counts[int(manager_id)][status] = int(n)
    return {
        m: ManagerFigures(
            c[InquiryStatus.ACCEPTED.value],
            c[InquiryStatus.REJECTED.value],
            spreads.get((m,), Spread()),
        )
        for m, c in counts.items()
    }


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
    if not await kept_minutes.ready(scope.calendar):  # the old way
        from crm.reports import inquiry_rows  # it uses this module

        ids = [
            row.id
            for row in await inquiry_rows.read_rows(scope)
            if (channel_id is None or row.channel_id == channel_id)
            and (manager_id is None or row.manager_id == (manager_id or None))
            and inquiry_rows.matches(row, figure, key, scope.sla_minutes)
        ]
        return await page_of_ids(RecordKind.INQUIRIES, ids, page=page, per_page=per_page)
    sql = Sql()
    conditions = inquiry_conditions(scope, sql)
    if channel_id is not None:
        conditions.append(f"q.channel_id = {sql(channel_id)}")
    if manager_id is not None:
        conditions.append(
            f"q.decided_by_id = {sql(manager_id)}" if manager_id else "q.decided_by_id IS NULL"
        )
    conditions += _figure_conditions(sql, figure, key, scope.sla_minutes)
    inner = f"SELECT q.id FROM inquiries q{clients_join(scope)} WHERE {where(conditions)}"
    return await page_of(
        RecordKind.INQUIRIES,
        sql,
        f"FROM inquiries q WHERE q.id IN ({inner})",
        page=page,
        per_page=per_page,
    )


def _figure_conditions(sql: Sql, figure: str, key: int | None, sla: int | None) -> list[str]:
    """`inquiry_rows.matches` as SQL conditions on the kept columns."""
    minutes = "q.first_reply_minutes"
    if figure == RECEIVED:
        return []
    statuses = {
        ACCEPTED: InquiryStatus.ACCEPTED,
        REJECTED: InquiryStatus.REJECTED,
        WAITING: InquiryStatus.OPEN,
    }
    if figure in statuses:
        return [f"q.status = '{statuses[figure].value}'"]
    if figure == REASON:
        reason = f"q.rejection_reason_id = {sql(key)}" if key else "q.rejection_reason_id IS NULL"
        return [f"q.status = '{InquiryStatus.REJECTED.value}'", reason]
    if figure == UNANSWERED:
        return [f"{minutes} IS NULL"]
    if figure == ANSWERED:
        return [f"{minutes} IS NOT NULL"]
    if figure == BUCKET:
        return [f"{bucket_sql(minutes)} = {sql(key if key is not None else -1)}"]
    if sla is None:
        return ["1 = 0"]
    return [f"{minutes} {'<=' if figure == SLA_MET else '>'} {sql(float(sla))}"]

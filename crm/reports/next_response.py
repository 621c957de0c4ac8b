"""Next-response time: how long a customer waits for an answer to a later message.

After the first reply of an inquiry (first-response time, crm.reports.inquiries), each
later customer message that waits for an answer is one *wait*: an incoming message whose
previous message in the conversation was a person's reply (later incoming messages before
the answer only make the customer wait longer, they do not start new waits). The wait
ends at the next reply a person sent (an outgoing message with an author: from the bot,
the web or the API; a stage robot's message has none and is skipped both ways), and lasts
the working minutes between (crm.working_time), shown as median, 90th percentile and the
first response's buckets. A wait with no reply yet is "still waiting".

The waits counted are those of the report's inquiries (first message in the period, the
filter's channel and client conditions, `inquiries.inquiry_conditions`), from the
inquiry's first message until the next inquiry of the same conversation. "Per manager" is
who answered the wait; one not answered yet belongs to whoever decided the inquiry. A
manager's scope holds the waits they answered and the unanswered ones of their inquiries.

One read: the inquiries' non-robot messages numbered in order per inquiry (LAG), the
incoming ones that follow a reply kept (messages in the order they were stored, their
`created_at`), each with its next reply found along messages' (conversation_id, id) index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from crm.i18n import N_
from crm.models import Direction, User
from crm.reports.drill import DrillDown, RecordKind, page_of_ids, unknown_figure
from crm.reports.filters import ReportFilter
from crm.reports.scope import Scope, Sql, scope_for, where
from crm.reports.stats import Spread, as_moment, spread
from crm.rows import query
from crm.working_time import WorkClock

WAITED, ANSWERED, WAITING, BUCKET = "next_waited", "next_answered", "next_waiting", "next_bucket"
FIGURES = (WAITED, ANSWERED, WAITING, BUCKET)
MINUTES_COLUMN = N_("Answered in, working min")


@dataclass(frozen=True)
class Wait:
    """A later customer message waiting for an answer (minutes: working minutes)."""

    message_id: int
    inquiry_id: int
    channel_id: int
    channel: str
    manager_id: int | None  # who answered (not answered: who decided the inquiry)
    manager: str
    received_at: datetime
    answered_at: datetime | None
    minutes: float | None


@dataclass(frozen=True)
class NextResponseFigures:
    waits: int  # later customer messages that waited for an answer
    answered: int
    waiting: int  # no answer yet
    next_response: Spread  # working minutes
    buckets: tuple[int, ...]  # per inquiries.BUCKETS


@dataclass(frozen=True)
class NextResponseGroup:
    key: int | None
    name: str
    figures: NextResponseFigures


@dataclass(frozen=True)
class NextResponse:
    total: NextResponseFigures
    channels: list[NextResponseGroup]
    managers: list[NextResponseGroup]


def _reply_id() -> str:
    """SQL for the id of the first reply a person sent after the wait's message `t`."""
    return (
        "(SELECT r.id FROM messages r WHERE r.conversation_id = t.conversation_id"
        " AND (r.created_at > t.created_at OR (r.created_at = t.created_at AND r.id > t.id))"
        f" AND r.direction = '{Direction.OUT.value}' AND r.author_id IS NOT NULL"
        " ORDER BY r.created_at, r.id LIMIT 1)"
    )


async def read_waits(scope: Scope) -> list[Wait]:
    """The waits of the scope's inquiries, in message order."""
    from crm.reports.inquiries import inquiry_conditions  # inquiries uses this module

    sql = Sql()
    out_, in_ = Direction.OUT.value, Direction.IN.value
    conditions = where(inquiry_conditions(scope, sql))
    # the clients only when the filter or the scope asks about them (a read of every client
    # otherwise); a later inquiry of the conversation began in the period too (its index)
    clients = " JOIN clients c ON c.id = q.client_id" if "c." in conditions else ""
    rows = await query(
        "SELECT t.id, t.qid, t.channel_id, t.channel, t.created_at, t.decided_by_id,"
        " r.created_at, r.author_id, COALESCE(ru.full_name, du.full_name)"
        " FROM (SELECT m.id, m.conversation_id, m.direction, m.created_at, q.id AS qid,"
        " q.channel_id, h.name AS channel, q.decided_by_id,"
        " LAG(m.direction) OVER (PARTITION BY q.id ORDER BY m.created_at, m.id) AS prev"
        f" FROM inquiries q{clients} JOIN channels h ON h.id = q.channel_id"
        " JOIN messages m ON m.conversation_id = q.conversation_id"
        " AND m.created_at >= q.first_message_at"
        f" WHERE {conditions}"
        f" AND (m.direction = '{in_}' OR m.author_id IS NOT NULL)"
        " AND NOT EXISTS (SELECT 1 FROM inquiries q2 WHERE q2.conversation_id = q.conversation_id"
        " AND q2.first_message_at > q.first_message_at AND q2.first_message_at <= m.created_at"
        f" AND q2.first_message_at >= {sql.at(scope.period.start)})"
        ") t"
        f" LEFT JOIN messages r ON r.id = {_reply_id()}"
        " LEFT JOIN users ru ON ru.id = r.author_id"
        " LEFT JOIN users du ON du.id = t.decided_by_id"
        f" WHERE t.direction = '{in_}' AND t.prev = '{out_}' ORDER BY t.created_at, t.id",
        sql.params,
    )
    clock = WorkClock(
        scope.calendar,
        scope.period.first - timedelta(days=1),
        max(scope.now.astimezone(scope.calendar.zone).date(), scope.period.last)
        + timedelta(days=1),
    )
    waits = []
    for r in rows:
        received, answered = as_moment(r[4]), as_moment(r[6])
        assert received is not None
        manager_id = r[7] if answered is not None else r[5]
        if scope.managers and manager_id is not None and manager_id not in scope.managers:
            continue  # a colleague answered it: their work, not in this scope
        waits.append(
            Wait(
                int(r[0]),
                int(r[1]),
                int(r[2]),
                r[3],
                manager_id,
                r[8] or "",
                received,
                answered,
                None if answered is None else clock.minutes(received, answered),
            )
        )
    return waits


def figures_of(waits: Iterable[Wait]) -> NextResponseFigures:
    from crm.reports.inquiries import BUCKETS, bucket_of

    waits = list(waits)
    minutes = [w.minutes for w in waits if w.minutes is not None]
    buckets = [0] * (len(BUCKETS) + 1)
    for value in minutes:
        buckets[bucket_of(value)] += 1
    return NextResponseFigures(
        waits=len(waits),
        answered=len(minutes),
        waiting=len(waits) - len(minutes),
        next_response=spread(minutes),
        buckets=tuple(buckets),
    )


def _groups(waits: list[Wait], key: str, name: str) -> list[NextResponseGroup]:
    grouped: dict[int | None, list[Wait]] = defaultdict(list)
    names: dict[int | None, str] = {}
    for wait in waits:
        grouped[getattr(wait, key)].append(wait)
        names[getattr(wait, key)] = getattr(wait, name)
    return sorted(
        (NextResponseGroup(k, names[k], figures_of(v)) for k, v in grouped.items()),
        key=lambda g: (g.key is None, g.name),
    )


async def next_response_of(scope: Scope) -> NextResponse:
    """The scope's next-response figures: total, per channel, per manager."""
    waits = await read_waits(scope)
    return NextResponse(
        figures_of(waits),
        _groups(waits, "channel_id", "channel"),
        _groups(waits, "manager_id", "manager"),
    )


async def next_response(report_filter: ReportFilter, *, actor: User) -> NextResponse:
    return await next_response_of(await scope_for(report_filter, actor))


def _matches(wait: Wait, figure: str, key: int | None) -> bool:
    from crm.reports.inquiries import bucket_of

    if figure == WAITED:
        return True
    if figure == WAITING:
        return wait.minutes is None
    if wait.minutes is None:
        return False
    return figure == ANSWERED or bucket_of(wait.minutes) == key  # BUCKET


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
    """The customer messages behind a figure, of one channel and/or manager (0: nobody):
    BUCKET `key` is an index of inquiries.BUCKETS' ranges. Each row ends with when it
    was answered, by whom and in how many working minutes."""
    if figure not in FIGURES:
        raise unknown_figure()
    scope = await scope_for(report_filter, actor)
    chosen = {
        w.message_id: w
        for w in await read_waits(scope)
        if (channel_id is None or w.channel_id == channel_id)
        and (manager_id is None or w.manager_id == (manager_id or None))
        and _matches(w, figure, key)
    }
    found = await page_of_ids(RecordKind.MESSAGES, list(chosen), page=page, per_page=per_page)
    rows = []
    for row in found.rows:
        wait = chosen[int(row[0])]
        answered_by = wait.manager if wait.answered_at is not None else ""
        minutes = None if wait.minutes is None else round(wait.minutes, 1)
        rows.append((*row, wait.answered_at, answered_by, minutes))
    columns = (*found.columns, N_("Answered"), N_("Answered by"), MINUTES_COLUMN)
    return replace(found, columns=columns, rows=rows)

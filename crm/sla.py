"""The first-reply SLA as it happens: which customers have waited past the company's
target (`Company.sla_first_reply_minutes`, working minutes of `crm.working_time`) for a
first reply, and who should hear of it.

A waiting inquiry is an open or accepted one whose first message came in the last
LOOKBACK days and that no person has answered since (an outgoing message with an author,
from the bot, the web or the API, as `crm.reports.inquiries` counts a first reply; a
stage robot's message does not count). Its manager is the deal's responsible, else who
accepted it, else the client's responsible; an open inquiry of a client nobody is
responsible for has none (the heads hear of it at twice the SLA). Nothing is due outside
working time: the minutes do not grow then, and nobody is woken up at night.

One read along `inquiries (first_message_at)`, the first reply looked up per inquiry on
`messages (conversation_id, id)`; inquiries the heads already heard of are left out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.company import get_company, work_calendar
from crm.models import InquiryStatus, NoticeKind, Role, User
from crm.reports.kept_minutes import first_reply
from crm.reports.scope import Sql
from crm.reports.stats import as_moment
from crm.rows import query
from crm.working_time import WorkCalendar, WorkClock

LOOKBACK = timedelta(days=14)


@dataclass(frozen=True)
class Waiting:
    """A customer waiting for a first reply, past the SLA."""

    inquiry_id: int
    status: InquiryStatus
    client_id: int
    client: str
    channel: str
    since: datetime
    minutes: float  # working minutes waited so far
    manager_id: int | None  # who should answer
    interest_id: int | None
    conversation_id: int
    escalate: bool  # past twice the SLA: the heads too


def in_working_time(moment: datetime, calendar: WorkCalendar) -> bool:
    day = moment.astimezone(calendar.zone).date()
    if not calendar.is_working_day(day):
        return False
    opens, closes = calendar.window(day)
    return opens <= moment < closes


async def waiting_past_sla(now: datetime) -> tuple[int | None, list[Waiting]]:
    """(the SLA in working minutes, the customers waiting past it now); nothing when no
    target is set or it is not working time."""
    company = await get_company()
    sla = company.sla_first_reply_minutes
    calendar = work_calendar(company)
    if not sla or sla <= 0 or not in_working_time(now, calendar):
        return sla, []
    sql = Sql()
    since = now - LOOKBACK
    rows = await query(
        "SELECT q.id, q.status, q.client_id, c.name, h.name, q.first_message_at,"
        " COALESCE(i.responsible_id, q.decided_by_id, c.responsible_id), q.interest_id,"
        " q.conversation_id"
        " FROM inquiries q JOIN clients c ON c.id = q.client_id"
        " JOIN channels h ON h.id = q.channel_id"
        " LEFT JOIN interests i ON i.id = q.interest_id"
        f" WHERE q.first_message_at >= {sql.at(since)} AND q.first_message_at < {sql.at(now)}"
        f" AND q.status IN ('{InquiryStatus.OPEN.value}', '{InquiryStatus.ACCEPTED.value}')"
        f" AND {first_reply('id')} IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM notices_sent n WHERE n.kind ="
        f" '{NoticeKind.SLA_HEADS.value}' AND n.subject = q.id)"
        " ORDER BY q.first_message_at, q.id",
        sql.params,
    )
    if not rows:
        return sla, []
    today = now.astimezone(calendar.zone).date()
    clock = WorkClock(calendar, today - LOOKBACK - timedelta(days=2), today + timedelta(days=1))
    out = []
    for r in rows:
        first = as_moment(r[5])
        if first is None:
            continue
        minutes = clock.minutes(first, now)
        if minutes < sla:
            continue
        out.append(
            Waiting(
                inquiry_id=int(r[0]),
                status=InquiryStatus(r[1]),
                client_id=int(r[2]),
                client=r[3] or "",
                channel=r[4] or "",
                since=first,
                minutes=minutes,
                manager_id=int(r[6]) if r[6] is not None else None,
                interest_id=int(r[7]) if r[7] is not None else None,
                conversation_id=int(r[8]),
                escalate=minutes >= 2 * sla,
            )
        )
    return sla, out


async def heads_to_tell() -> list[User]:
    """Who hears of a customer waiting twice the SLA: the active heads of sales bound to
    the bot; a company without one: its admins bound to the bot."""
    reachable = User.filter(is_active=True, telegram_user_id__isnull=False, telegram_blocked=False)
    heads = await reachable.filter(role=Role.HEAD).order_by("id")
    return heads or await reachable.filter(role=Role.ADMIN).order_by("id")

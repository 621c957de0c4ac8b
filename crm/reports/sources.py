"""Lead sources and channels: first messages -> inquiries -> interests -> won, per
channel and per lead source (a client's deep-link parameter, Viber context or VK ref,
crm.clients.lead_source; "" when none is known).

First messages are the conversations begun in the period (a client's first message on a
channel); inquiries those whose first message came in the period; interests the ones
opened from those inquiries, with their amount; won those of them won by now, with the
won amount. Each count is grouped by channel and lead source in the database, then
summed up both ways here (the groups are few)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crm.models import InterestStatus, User
from crm.reports.drill import DrillDown, RecordKind, page_of, unknown_figure
from crm.reports.filters import Period, ReportFilter
from crm.reports.inquiries import inquiry_conditions
from crm.reports.scope import Scope, Sql, gather, report_rows, scope_for, where
from crm.reports.stats import money, share

FIRST_MESSAGES, INQUIRIES, INTERESTS, WON = "first_messages", "inquiries", "interests", "won"
FIGURES = (FIRST_MESSAGES, INQUIRIES, INTERESTS, WON)


@dataclass
class SourceRow:
    key: int | str
    name: str
    first_messages: int = 0
    inquiries: int = 0
    interests: int = 0
    interests_amount: Decimal = Decimal("0.00")
    won: int = 0
    won_amount: Decimal = Decimal("0.00")
    conversion: float | None = None  # won / first messages


@dataclass(frozen=True)
class SourcesReport:
    period: Period
    channels: list[SourceRow]
    lead_sources: list[SourceRow]
    total: SourceRow


def _conversations(scope: Scope, sql: Sql) -> list[str]:
    p, f = scope.period, scope.filter
    out = [f"a.created_at >= {sql.at(p.start)}", f"a.created_at < {sql.at(p.end)}"]
    if f.channel_id is not None:
        out.append(f"a.channel_id = {sql(f.channel_id)}")
    return out + scope.manager_condition(sql, "c.responsible_id") + scope.client_conditions(sql)


def _interests(scope: Scope, sql: Sql) -> list[str]:
    out = inquiry_conditions(scope, sql)
    if scope.filter.scenario_id is not None:
        out.append(f"i.scenario_id = {sql(scope.filter.scenario_id)}")
    return out + scope.manager_condition(sql, "i.responsible_id")


async def sources(report_filter: ReportFilter, *, actor: User) -> SourcesReport:
    scope = await scope_for(report_filter, actor)
    cells: dict[tuple[int, str], SourceRow] = {}
    names: dict[int, str] = {}

    def cell(channel_id: int, name: str, lead_source: str) -> SourceRow:
        names[channel_id] = name
        return cells.setdefault((channel_id, lead_source), SourceRow(channel_id, name))

    # three independent reads: on PostgreSQL at once, each on a connection of its own
    first_sql, inquiries_sql, interests_sql, won = Sql(), Sql(), Sql(), InterestStatus.WON.value
    first_rows, inquiry_rows, interest_rows = await gather(
        report_rows(
            "SELECT a.channel_id, h.name, c.lead_source, COUNT(*) FROM conversations a"
            " JOIN clients c ON c.id = a.client_id JOIN channels h ON h.id = a.channel_id"
            f" WHERE {where(_conversations(scope, first_sql))}"
            " GROUP BY a.channel_id, h.name, c.lead_source",
            first_sql.params,
        ),
        report_rows(
            "SELECT q.channel_id, h.name, c.lead_source, COUNT(*) FROM inquiries q"
            " JOIN clients c ON c.id = q.client_id JOIN channels h ON h.id = q.channel_id"
            f" WHERE {where(inquiry_conditions(scope, inquiries_sql))}"
            " GROUP BY q.channel_id, h.name, c.lead_source",
            inquiries_sql.params,
        ),
        report_rows(
            "SELECT q.channel_id, h.name, c.lead_source, COUNT(DISTINCT i.id), SUM(i.amount),"
            f" SUM(CASE WHEN i.status = '{won}' THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN i.status = '{won}' THEN i.amount END)"
            " FROM inquiries q JOIN interests i ON i.id = q.interest_id"
            " JOIN clients c ON c.id = q.client_id JOIN channels h ON h.id = q.channel_id"
            f" WHERE {where(_interests(scope, interests_sql))}"
            " GROUP BY q.channel_id, h.name, c.lead_source",
            interests_sql.params,
        ),
    )
    for channel_id, name, lead, count in first_rows:
        cell(channel_id, name, lead).first_messages = int(count)
    for channel_id, name, lead, count in inquiry_rows:
        cell(channel_id, name, lead).inquiries = int(count)
    for channel_id, name, lead, count, amount, wins, won_amount in interest_rows:
        target = cell(channel_id, name, lead)
        target.interests, target.interests_amount = int(count), money(amount)
        target.won, target.won_amount = int(wins or 0), money(won_amount)
    by_channel: dict[int | str, SourceRow] = {}
    by_lead: dict[int | str, SourceRow] = {}
    total = SourceRow("", "")
    for (channel_id, lead), row in cells.items():
        for target in (
            by_channel.setdefault(channel_id, SourceRow(channel_id, names[channel_id])),
            by_lead.setdefault(lead, SourceRow(lead, lead)),
            total,
        ):
            _add(target, row)
    for row in (*by_channel.values(), *by_lead.values(), total):
        row.conversion = share(row.won, row.first_messages)
    return SourcesReport(
        scope.period,
        sorted(by_channel.values(), key=lambda r: r.name),
        sorted(by_lead.values(), key=lambda r: (r.name == "", r.name)),
        total,
    )


def _add(target: SourceRow, row: SourceRow) -> None:
    target.first_messages += row.first_messages
    target.inquiries += row.inquiries
    target.interests += row.interests
    target.interests_amount += row.interests_amount
    target.won += row.won
    target.won_amount += row.won_amount


async def drill(
    report_filter: ReportFilter,
    *,
    actor: User,
    figure: str,
    channel_id: int | None = None,
    lead_source: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> DrillDown:
    """FIRST_MESSAGES: the clients; INQUIRIES: the inquiries; INTERESTS and WON: the
    interests; of one channel and/or lead source ("" = none)."""
    if figure not in FIGURES:
        raise unknown_figure()
    scope, sql = await scope_for(report_filter, actor), Sql()
    extra = []
    if lead_source == "":  # the row of clients without a lead source
        extra.append("(c.lead_source IS NULL OR c.lead_source = '')")
    elif lead_source is not None:
        extra.append(f"c.lead_source = {sql(lead_source)}")
    channel = "a.channel_id" if figure == FIRST_MESSAGES else "q.channel_id"
    if channel_id is not None:
        extra.append(f"{channel} = {sql(channel_id)}")
    if figure == FIRST_MESSAGES:
        inner = (
            "SELECT a.client_id FROM conversations a JOIN clients c ON c.id = a.client_id"
            f" WHERE {where(_conversations(scope, sql) + extra)}"
        )
        kind, from_where = RecordKind.CLIENTS, f"FROM clients c WHERE c.id IN ({inner})"
    elif figure == INQUIRIES:
        inner = (
            "SELECT q.id FROM inquiries q JOIN clients c ON c.id = q.client_id"
            f" WHERE {where(inquiry_conditions(scope, sql) + extra)}"
        )
        kind, from_where = RecordKind.INQUIRIES, f"FROM inquiries q WHERE q.id IN ({inner})"
    else:
        conditions = _interests(scope, sql) + extra
        if figure == WON:
            conditions.append(f"i.status = '{InterestStatus.WON.value}'")
        inner = (
            "SELECT i.id FROM inquiries q JOIN interests i ON i.id = q.interest_id"
            f" JOIN clients c ON c.id = q.client_id WHERE {where(conditions)}"
        )
        kind, from_where = RecordKind.INTERESTS, f"FROM interests i WHERE i.id IN ({inner})"
    return await page_of(kind, sql, from_where, page=page, per_page=per_page)

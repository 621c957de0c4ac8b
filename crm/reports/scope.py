"""Whose figures a report counts and the SQL conditions of its filter.

`scope_for(filter, actor)` is where the rights are decided, once per report: an admin or a
head of sales counts everyone's work (or the managers the filter names); a manager counts
only their own, and naming anyone else is refused with PermissionDenied (not quietly
narrowed: an API client asking for a colleague's figures learns it may not). Every report
and drill-down builds its SQL from a `Scope`, so no read can skip the rule.

"Own work" per record: an interest whose responsible the manager is, an inquiry they
decided (or a waiting one of their client), an interaction they are responsible for, a
client they are responsible for, a reply they wrote.

`Sql` collects the bound values of one statement, written with $1.. marks (crm.rows.query
turns them into SQLite's ?1..)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from crm import clock
from crm.company import get_company, work_calendar
from crm.errors import PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.models import FieldDefinition, FieldOption, FieldType, User
from crm.reports.filters import Period, ReportFilter
from crm.rows import moment, query
from crm.working_time import WorkCalendar


def dialect() -> str:
    return str(connections.get("default").capabilities.dialect)


async def gather(*reads: Awaitable[Any]) -> list[Any]:
    """Independent reads of one report: on PostgreSQL at once, each on a connection of the
    pool; one after another on SQLite (one connection) and inside a transaction (which
    holds one connection)."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres" and not isinstance(conn, TransactionalDBClient):
        return list(await asyncio.gather(*reads))
    return [await read for read in reads]


REPORT_WORK_MEM = "64MB"  # a report's groupings and sorts of a year's rows, in memory


async def report_rows(sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """`crm.rows.query` for a report's big reads: on PostgreSQL in a transaction of its own
    with `work_mem` raised for it alone (SET LOCAL), so grouping and sorting millions of
    rows stay in memory rather than spilling to disk at the server's default 4 MB; inside
    a caller's transaction, on SQLite, as `query`."""
    conn = connections.get("default")
    if conn.capabilities.dialect != "postgres" or isinstance(conn, TransactionalDBClient):
        return await query(sql, params)
    async with in_transaction() as tx:
        await tx.execute_script(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        _, rows = await tx.execute_query(sql, list(params))
        return list(rows)


class Sql:
    """The bound values of one statement: `sql(value)` binds a value and gives its mark."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def at(self, value: datetime) -> str:
        """A moment, bound as the database stores moments."""
        return self(moment(value))

    def day(self, value: date) -> str:
        return self(value if dialect() == "postgres" else value.isoformat())

    def ids(self, values: tuple[int, ...]) -> str:
        return "(" + ", ".join(self(v) for v in values) + ")"


def seconds(start: str, end: str) -> str:
    """SQL for the seconds from the moment `start` to `end` (column expressions)."""
    if dialect() == "postgres":
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@dataclass(frozen=True)
class FieldCondition:
    definition_id: int
    column: str
    value: Any


@dataclass(frozen=True)
class Scope:
    filter: ReportFilter
    period: Period
    managers: tuple[int, ...]  # () = everyone's work
    own: bool  # a manager's own work only
    calendar: WorkCalendar
    sla_minutes: int | None
    now: datetime
    field: FieldCondition | None

    @property
    def needs_clients(self) -> bool:
        """Whether the filter reads columns of `clients` (the tag and custom-field
        conditions need only the client's id, which the other tables hold)."""
        f = self.filter
        return any(v is not None for v in (f.lead_source, f.client_kind, f.relation_type))

    def client_join(self, client_id: str, c: str = "c") -> str:
        """` JOIN clients c ON ...` when the filter needs the client's row, else nothing:
        joining a million clients for nothing was most of some reports' time."""
        return f" JOIN clients {c} ON {c}.id = {client_id}" if self.needs_clients else ""

    def client_conditions(self, sql: Sql, c: str = "c", client_id: str | None = None) -> list[str]:
        """The filter's conditions on a `clients` row named `c` (`client_id`: the column
        holding its id, where the row itself is not joined; see `client_join`)."""
        f, out = self.filter, []
        key = client_id or f"{c}.id"
        if f.lead_source is not None:
            out.append(f"{c}.lead_source = {sql(f.lead_source)}")
        if f.tag_id is not None:
            out.append(
                f"EXISTS (SELECT 1 FROM client_tags ct WHERE ct.clients_id = {key}"
                f" AND ct.tag_id = {sql(f.tag_id)})"
            )
        if f.client_kind is not None:
            out.append(f"{c}.kind = {sql(f.client_kind.value)}")
        if f.relation_type is not None:
            out.append(f"{c}.relation_type = {sql(f.relation_type.value)}")
        if f.segment_id is not None:
            out.append(
                f"EXISTS (SELECT 1 FROM segment_members sm WHERE sm.client_id = {key}"
                f" AND sm.segment_id = {sql(f.segment_id)} AND sm.left_at IS NULL)"
            )
        if self.field is not None:
            fc = self.field
            out.append(
                f"EXISTS (SELECT 1 FROM field_values fv WHERE fv.client_id = {key}"
                f" AND fv.definition_id = {sql(fc.definition_id)}"
                f" AND {fc.column} = {sql(fc.value)})"
            )
        return out

    def manager_condition(self, sql: Sql, column: str) -> list[str]:
        return [f"{column} IN {sql.ids(self.managers)}"] if self.managers else []

    def channel_of_interest(self, sql: Sql, i: str = "i") -> list[str]:
        if self.filter.channel_id is None:
            return []
        return [
            f"EXISTS (SELECT 1 FROM inquiries cq WHERE cq.interest_id = {i}.id"
            f" AND cq.channel_id = {sql(self.filter.channel_id)})"
        ]

    def interest_conditions(self, sql: Sql, i: str = "i", c: str = "c") -> list[str]:
        """The filter's conditions on an `interests` row `i` and its client `c` (joined
        with `client_join(f"{i}.client_id")`)."""
        out = []
        if self.filter.scenario_id is not None:
            out.append(f"{i}.scenario_id = {sql(self.filter.scenario_id)}")
        out += self.manager_condition(sql, f"{i}.responsible_id")
        out += self.channel_of_interest(sql, i)
        return out + self.client_conditions(sql, c, f"{i}.client_id")


def where(conditions: list[str]) -> str:
    return " AND ".join(conditions) if conditions else "TRUE"


async def _field_condition(match: Any) -> FieldCondition | None:
    if match is None:
        return None
    definition = await FieldDefinition.filter(id=match.field_id).first()
    if definition is None:
        raise ValidationFailed.field("field", N_("Unknown field"))
    raw, postgres = match.value, dialect() == "postgres"
    bad = ValidationFailed.field("field_value", N_("Not a value of this field"))
    if definition.type == FieldType.LIST:
        option = await FieldOption.filter(definition_id=definition.id, value=raw).first()
        if option is None and raw.isascii() and raw.isdigit():
            option = await FieldOption.filter(definition_id=definition.id, id=int(raw)).first()
        if option is None:
            raise bad
        return FieldCondition(definition.id, "fv.value_option_id", option.id)
    if definition.type == FieldType.FLAG:
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise bad
        return FieldCondition(definition.id, "fv.value_flag", raw.lower() in ("true", "1", "yes"))
    if definition.type == FieldType.NUMBER:
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise bad from None
        if postgres:
            return FieldCondition(definition.id, "fv.value_number", number)
        return FieldCondition(definition.id, "CAST(fv.value_number AS REAL)", float(number))
    if definition.type == FieldType.DATE:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise bad from None
        return FieldCondition(definition.id, "fv.value_date", day if postgres else day.isoformat())
    return FieldCondition(definition.id, "LOWER(fv.value_string)", raw.lower())


async def scope_for(report_filter: ReportFilter, actor: User) -> Scope:
    """The scope of `actor`'s report: refused when a manager names anyone but themselves."""
    if actor.sees_everything:
        managers, own = report_filter.manager_ids, False
    else:
        if any(m != actor.id for m in report_filter.manager_ids):
            raise PermissionDenied()
        managers, own = (actor.id,), True
    company = await get_company()
    now = clock.now()
    calendar = work_calendar(company)
    today = now.astimezone(calendar.zone).date()
    return Scope(
        filter=report_filter,
        period=report_filter.period(company.default_timezone, today),
        managers=managers,
        own=own,
        calendar=calendar,
        sla_minutes=company.sla_first_reply_minutes,
        now=now,
        field=await _field_condition(report_filter.field),
    )

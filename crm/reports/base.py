"""The client base: clients grouped by one or two fields (kind, relation type, region,
responsible, tag, lead source, or any custom field: "field:<id>", list values by their
text), each group with its clients, those with an open interest, the amount won in the
period, and the days since the last done interaction in LAST_CONTACT buckets; and its
quality: clients without a phone or email, without a responsible, without any
interaction, and possible duplicates (sharing a phone, an email or an INN with another
client). Every figure is one grouped read; `drill` lists the clients of a line.

Merged-away clients are not counted. A client with two tags is in both tags' groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import FieldDefinition, FieldType, InteractionState, InterestStatus, User
from crm.reports.drill import DrillDown, RecordKind, interests_page, page_of, unknown_figure
from crm.reports.filters import Period, ReportFilter
from crm.reports.scope import Scope, Sql, dialect, gather, report_rows, scope_for, where
from crm.reports.stats import money
from crm.rows import query

DIMENSIONS = ("kind", "relation", "region", "responsible", "tag", "lead_source")
LAST_CONTACT = (30, 90, 365)  # days: < 30, 30-90, 90-365, > 365, and never
NO_CONTACTS, NO_RESPONSIBLE, NO_INTERACTION, DUPLICATES = (
    "no_contacts",
    "no_responsible",
    "no_interaction",
    "duplicates",
)
GROUP, WITH_OPEN_INTERESTS, LAST_CONTACT_BUCKET = "group", "with_open_interests", "last_contact"
WON, CLIENTS = "won", "clients"  # a group's deals won in the period; every client counted
FIGURES = (
    GROUP, WITH_OPEN_INTERESTS, LAST_CONTACT_BUCKET, NO_CONTACTS, NO_RESPONSIBLE, NO_INTERACTION,
    DUPLICATES, WON, CLIENTS,
)  # fmt: skip


@dataclass(frozen=True)
class Dimension:
    name: str
    joins: str  # LEFT JOINs from clients c
    key: str  # SQL of the group's key
    label: str  # SQL of its label
    flag: bool = False  # a flag field: SQLite says 1/0, PostgreSQL true/false
    value: str = "text"  # what a key is: text, id, flag, number, date

    def coerce(self, key: Any) -> Any:
        """A key from a query string (or the report) as the column compares it."""
        text = str(key)
        try:
            if self.value == "id":
                return int(text)
            if self.value == "flag":
                return text.lower() in ("1", "true")
            if self.value == "number":
                return Decimal(text) if dialect() == "postgres" else float(text)
            if self.value == "date":
                day = date.fromisoformat(text)
                return day if dialect() == "postgres" else day.isoformat()
        except (ValueError, ArithmeticError):
            raise ValidationFailed.field("keys", N_("Not a value of this field")) from None
        return text


@dataclass
class BaseGroup:
    keys: tuple[Any, ...]
    labels: tuple[str, ...]
    clients: int = 0
    with_open_interests: int = 0
    won_amount: Decimal = Decimal("0.00")
    last_contact: tuple[int, ...] = field(default_factory=tuple)  # per LAST_CONTACT, never


@dataclass(frozen=True)
class BaseQuality:
    clients: int
    no_contacts: int
    no_responsible: int
    no_interaction: int
    duplicates: int


@dataclass(frozen=True)
class BaseReport:
    period: Period
    group_by: tuple[str, ...]
    groups: list[BaseGroup]
    quality: BaseQuality


async def dimension(name: str, n: int) -> Dimension:
    """The SQL of grouping by `name` (the n-th grouping of the report, for its aliases)."""
    simple = {
        "kind": ("c.kind", "c.kind"),
        "relation": ("c.relation_type", "c.relation_type"),
        "region": ("c.region", "c.region"),
        "lead_source": ("c.lead_source", "c.lead_source"),
    }
    if name in simple:
        return Dimension(name, "", *simple[name])
    if name == "responsible":
        return Dimension(
            name,
            f" LEFT JOIN users u{n} ON u{n}.id = c.responsible_id",
            "c.responsible_id",
            f"u{n}.full_name",
            value="id",
        )
    if name == "tag":
        return Dimension(
            name,
            f" LEFT JOIN client_tags ct{n} ON ct{n}.clients_id = c.id"
            f" LEFT JOIN tags t{n} ON t{n}.id = ct{n}.tag_id",
            f"t{n}.id",
            f"t{n}.name",
            value="id",
        )
    field_id = name.removeprefix("field:")
    definition = (
        await FieldDefinition.filter(id=int(field_id)).first()
        if name.startswith("field:") and field_id.isascii() and field_id.isdigit()
        else None
    )
    if definition is None:
        raise ValidationFailed.field("group_by", N_("Unknown field"))
    joins = (
        f" LEFT JOIN field_values fv{n} ON fv{n}.client_id = c.id"
        f" AND fv{n}.definition_id = {definition.id}"
    )
    column = {
        FieldType.LIST: f"fo{n}.value",
        FieldType.STRING: f"fv{n}.value_string",
        FieldType.NUMBER: f"fv{n}.value_number",
        FieldType.FLAG: f"fv{n}.value_flag",
        FieldType.DATE: f"fv{n}.value_date",
    }[definition.type]
    if definition.type == FieldType.LIST:
        joins += f" LEFT JOIN field_options fo{n} ON fo{n}.id = fv{n}.value_option_id"
        return Dimension(name, joins, f"fo{n}.id", column, value="id")
    if definition.type == FieldType.NUMBER and dialect() != "postgres":
        column = f"CAST({column} AS REAL)"
    value = {FieldType.FLAG: "flag", FieldType.NUMBER: "number", FieldType.DATE: "date"}
    return Dimension(
        name,
        joins,
        column,
        column,
        flag=definition.type == FieldType.FLAG,
        value=value.get(definition.type, "text"),
    )


def _clients(scope: Scope, sql: Sql) -> list[str]:
    return [
        "c.merged_into_id IS NULL",
        *scope.manager_condition(sql, "c.responsible_id"),
        *scope.client_conditions(sql),
    ]


def _label(value: Any, dim: Dimension) -> str:
    if value is None:
        return ""
    if dim.flag:
        return "true" if value in (True, 1, "1", "true") else "false"
    return str(value)


async def base(
    report_filter: ReportFilter, *, actor: User, group_by: tuple[str, ...] = ("kind",)
) -> BaseReport:
    if not 1 <= len(group_by) <= 2:
        raise ValidationFailed.field("group_by", N_("Group by one or two fields"))
    for name in group_by:
        if name not in DIMENSIONS and not name.startswith("field:"):
            raise ValidationFailed.field("group_by", N_("Unknown field"))
    scope = await scope_for(report_filter, actor)
    dims = [await dimension(name, n) for n, name in enumerate(group_by)]
    sql, p = Sql(), scope.period
    now = scope.now
    won, done = InterestStatus.WON.value, InteractionState.DONE.value
    bounds = [sql.at(now - timedelta(days=d)) for d in LAST_CONTACT]
    # A client is one row of its group (one value per dimension; a tag or a custom field
    # joins one row per client and value), so plain sums count clients, without the
    # sorting COUNT(DISTINCT ...) did.
    buckets = ", ".join(
        [
            f"SUM(CASE WHEN li.last_at >= {bounds[0]} THEN 1 ELSE 0 END)",
            *(
                f"SUM(CASE WHEN li.last_at < {bounds[k]}"
                f" AND li.last_at >= {bounds[k + 1]} THEN 1 ELSE 0 END)"
                for k in range(len(bounds) - 1)
            ),
            f"SUM(CASE WHEN li.last_at < {bounds[-1]} THEN 1 ELSE 0 END)",
            "SUM(CASE WHEN li.last_at IS NULL THEN 1 ELSE 0 END)",
        ]
    )
    keys = ", ".join(f"{d.key}, {d.label}" for d in dims)
    groups_read = report_rows(
        f"SELECT {keys}, COUNT(*),"
        " SUM(CASE WHEN oi.client_id IS NOT NULL THEN 1 ELSE 0 END),"
        f" SUM(wi.amount), {buckets}"
        f" FROM clients c{''.join(d.joins for d in dims)}"
        " LEFT JOIN (SELECT client_id, MAX(sort_at) AS last_at FROM interactions"
        f" WHERE state = '{done}' GROUP BY client_id) li ON li.client_id = c.id"
        " LEFT JOIN (SELECT DISTINCT client_id FROM interests"
        f" WHERE status = '{InterestStatus.OPEN.value}') oi ON oi.client_id = c.id"
        " LEFT JOIN (SELECT client_id, SUM(amount) AS amount FROM interests"
        f" WHERE status = '{won}' AND closed_at >= {sql.at(p.start)}"
        f" AND closed_at < {sql.at(p.end)} GROUP BY client_id) wi ON wi.client_id = c.id"
        f" WHERE {where(_clients(scope, sql))} GROUP BY {keys}",
        sql.params,
    )
    # the groups and the quality are independent: at once on PostgreSQL
    rows, quality = await gather(groups_read, _quality(scope))
    width = 2 * len(dims)
    groups = [
        BaseGroup(
            keys=tuple(r[2 * k] for k in range(len(dims))),
            labels=tuple(_label(r[2 * k + 1], d) for k, d in enumerate(dims)),
            clients=int(r[width]),
            with_open_interests=int(r[width + 1]),
            won_amount=money(r[width + 2]),
            last_contact=tuple(int(v) for v in r[width + 3 :]),
        )
        for r in rows
    ]
    groups.sort(key=lambda g: (-g.clients, g.labels))
    return BaseReport(scope.period, tuple(group_by), groups, quality)


def _last_contact(scope: Scope, sql: Sql, bucket: int | None) -> str:
    if bucket is None or not 0 <= bucket <= len(LAST_CONTACT) + 1:
        raise ValidationFailed.field("bucket", N_("Unknown figure"))
    last = (
        "(SELECT MAX(lx.sort_at) FROM interactions lx WHERE lx.client_id = c.id"
        f" AND lx.state = '{InteractionState.DONE.value}')"
    )
    if bucket == len(LAST_CONTACT) + 1:
        return f"{last} IS NULL"

    def bound(index: int) -> str:  # bound only the moments used: every mark must be
        return sql.at(scope.now - timedelta(days=LAST_CONTACT[index]))

    if bucket == 0:
        return f"{last} >= {bound(0)}"
    if bucket == len(LAST_CONTACT):
        return f"{last} < {bound(-1)}"
    return f"{last} < {bound(bucket - 1)} AND {last} >= {bound(bucket)}"


def _quality_conditions() -> dict[str, str]:
    return {
        NO_CONTACTS: "NOT EXISTS (SELECT 1 FROM client_contacts k WHERE k.client_id = c.id)",
        NO_RESPONSIBLE: "c.responsible_id IS NULL",
        NO_INTERACTION: "NOT EXISTS (SELECT 1 FROM interactions x WHERE x.client_id = c.id)",
        DUPLICATES: "(EXISTS (SELECT 1 FROM client_contacts k JOIN client_contacts k2"
        " ON k2.kind = k.kind AND k2.value = k.value AND k2.client_id <> k.client_id"
        " JOIN clients c2 ON c2.id = k2.client_id AND c2.merged_into_id IS NULL"
        " WHERE k.client_id = c.id) OR (c.inn IS NOT NULL AND EXISTS (SELECT 1 FROM clients c3"
        " WHERE c3.inn = c.inn AND c3.id <> c.id AND c3.merged_into_id IS NULL)))",
    }


async def _quality(scope: Scope) -> BaseQuality:
    """The quality figures in one pass over the clients. On PostgreSQL each is a join to a
    set computed once (who has contacts, who has interactions, the contacts and INNs
    shared by live clients): `_quality_conditions`' look-ups per client took 88 s for a
    million there. SQLite looks up in its own process for next to nothing and reads only
    the filtered clients' rows that way (4x less than the sets for a custom-field filter
    at 100,000 clients), so it keeps the look-ups."""
    sql = Sql()
    if dialect() != "postgres":
        sums = ", ".join(
            f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"
            for condition in _quality_conditions().values()
        )
        found = await query(
            f"SELECT COUNT(*), {sums} FROM clients c WHERE {where(_clients(scope, sql))}",
            sql.params,
        )
        return BaseQuality(*[int(v or 0) for v in found[0]])
    rows = await report_rows(
        "SELECT COUNT(*), SUM(CASE WHEN hk.client_id IS NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN c.responsible_id IS NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN hx.client_id IS NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN dk.client_id IS NOT NULL OR di.inn IS NOT NULL THEN 1 ELSE 0 END)"
        " FROM clients c"
        " LEFT JOIN (SELECT DISTINCT client_id FROM client_contacts) hk ON hk.client_id = c.id"
        " LEFT JOIN (SELECT DISTINCT client_id FROM interactions) hx ON hx.client_id = c.id"
        # a contact (kind, value) of two live clients or more: all of them are duplicates
        # (a client holds a kind and value once: client_contacts is unique on them; the
        # merged-away holders drop out in the WHERE). The values held twice at all are
        # found first, along the (kind, value) index; only their holders are looked up.
        " LEFT JOIN (SELECT DISTINCT k.client_id FROM client_contacts k"
        " JOIN (SELECT k3.kind, k3.value FROM client_contacts k3"
        " JOIN (SELECT kind, value FROM client_contacts GROUP BY kind, value"
        " HAVING COUNT(*) > 1) twice ON twice.kind = k3.kind AND twice.value = k3.value"
        " JOIN clients c3 ON c3.id = k3.client_id AND c3.merged_into_id IS NULL"
        " GROUP BY k3.kind, k3.value HAVING COUNT(*) > 1) s"
        " ON s.kind = k.kind AND s.value = k.value) dk ON dk.client_id = c.id"
        " LEFT JOIN (SELECT inn FROM clients WHERE merged_into_id IS NULL AND inn IS NOT NULL"
        " GROUP BY inn HAVING COUNT(*) > 1) di ON di.inn = c.inn"
        f" WHERE {where(_clients(scope, sql))}",
        sql.params,
    )
    values = [int(v or 0) for v in rows[0]]
    return BaseQuality(*values)


async def drill(
    report_filter: ReportFilter,
    *,
    actor: User,
    figure: str,
    group_by: tuple[str, ...] = (),
    keys: tuple[Any, ...] = (),
    bucket: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> DrillDown:
    """The clients of a GROUP (`keys` as the report gives them, None for "not set"), those
    of it WITH_OPEN_INTERESTS or in LAST_CONTACT_BUCKET `bucket` (an index of the report's
    `last_contact`: LAST_CONTACT's ranges, then "never"), or of a quality figure (CLIENTS:
    all of them); WON: the deals of a group's clients won in the period."""
    if figure not in FIGURES:
        raise unknown_figure()
    scope, sql = await scope_for(report_filter, actor), Sql()
    conditions = _clients(scope, sql)
    joins = ""
    if figure in (GROUP, WITH_OPEN_INTERESTS, LAST_CONTACT_BUCKET, WON):
        if len(keys) != len(group_by) or not 1 <= len(group_by) <= 2:
            raise ValidationFailed.field("keys", N_("Give a value for each grouping"))
        for n, (name, key) in enumerate(zip(group_by, keys, strict=True)):
            dim = await dimension(name, n)
            joins += dim.joins
            conditions.append(
                f"{dim.key} IS NULL" if key is None else f"{dim.key} = {sql(dim.coerce(key))}"
            )
        if figure == WITH_OPEN_INTERESTS:
            conditions.append(
                "EXISTS (SELECT 1 FROM interests oi WHERE oi.client_id = c.id"
                f" AND oi.status = '{InterestStatus.OPEN.value}')"
            )
        if figure == LAST_CONTACT_BUCKET:
            conditions.append(_last_contact(scope, sql, bucket))
    elif figure != CLIENTS:
        conditions.append(_quality_conditions()[figure])
    inner = f"SELECT c.id FROM clients c{joins} WHERE {where(conditions)}"
    if figure == WON:
        p = scope.period
        won = [
            f"i.status = '{InterestStatus.WON.value}'",
            f"i.closed_at >= {sql.at(p.start)}",
            f"i.closed_at < {sql.at(p.end)}",
            f"c.id IN ({inner})",
        ]
        return await interests_page(sql, won, page=page, per_page=per_page)
    return await page_of(
        RecordKind.CLIENTS,
        sql,
        f"FROM clients c WHERE c.id IN ({inner})",
        page=page,
        per_page=per_page,
    )

"""A rule (crm.segments.rules) as one SQL query: `SELECT c.id FROM clients c WHERE ...`,
written with $1.. marks for crm.rows.query, valid on SQLite and PostgreSQL.

Each condition is a predicate on the `clients` row `c`, written `c.id [NOT] IN (SELECT
client_id FROM ... WHERE ...)` with a subquery that does not refer to `c`: PostgreSQL reads
each such subquery once into a hash (a "hashed SubPlan", also under OR and NOT, where a
correlated EXISTS would be probed once per client: seconds on a million clients) or joins
it; SQLite builds an index of it once. The client ids collected are NOT NULL everywhere,
so NOT IN means what it says. crm.segments.members runs the query with work_mem to hold
those hashes.

Moments: "for N days" counts back from now; a period preset is read in the company's time
zone (a deal won at 23:30 Moscow time on the 31st is won in that month); revenue is counted
by payment dates and days overdue from the company's today. Merged-away clients are never
members. References to rows that do not exist (a tag, a user, a field, an option, a
scenario, a stage) are refused with ValidationFailed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from crm import clock
from crm.company import get_company
from crm.errors import ValidationFailed
from crm.i18n import N_, Text
from crm.models import FieldDefinition, FieldType, Scenario, Stage, Tag, User
from crm.reports.filters import Period, preset_days
from crm.reports.scope import Sql, dialect
from crm.segments.rules import Condition, Group, Rule, number

TRUE, FALSE = "1 = 1", "1 = 0"
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass(frozen=True)
class Context:
    now: datetime
    today: date  # the company's
    timezone: str
    postgres: bool
    fields: dict[int, FieldDefinition]


def _num(column: str, ctx: Context) -> str:
    """A decimal column as a number (SQLite keeps decimals as text, compared as text)."""
    return column if ctx.postgres else f"CAST({column} AS REAL)"


def _bind_number(sql: Sql, value: Decimal, ctx: Context) -> str:
    return sql(value if ctx.postgres else float(value))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ids(values: list[str], where: str) -> list[int]:
    out = []
    for raw in values:
        value = raw.split(":", 1)[-1]
        if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 2**31:
            raise ValidationFailed.field(where, N_("Unknown choice"))
        out.append(int(value))
    return out


def _text(sql: Sql, column: str, cond: Condition) -> str:
    """A text column (region, lead source) compared case-insensitively."""
    if cond.op == "empty":
        return f"{column} = ''"
    if cond.op == "not_empty":
        return f"{column} <> ''"
    if cond.op == "contains":
        return f"LOWER({column}) LIKE {sql(_like(cond.value))} ESCAPE '\\'"
    if cond.op == "in":
        return f"LOWER({column}) IN ({', '.join(sql(v.lower()) for v in cond.values)})"
    equal = f"LOWER({column}) = {sql(cond.value.lower())}"
    return f"NOT ({equal})" if cond.op == "ne" else equal


def _period(cond: Condition, ctx: Context) -> Period:
    if cond.period is not None:
        first, last = preset_days(cond.period, ctx.today)
    else:
        last = ctx.today
        first = last - timedelta(days=(cond.days or 1) - 1)
    return Period.of_days(first, last, ctx.timezone)


def _custom(sql: Sql, cond: Condition, ctx: Context, where: str) -> str:
    definition = ctx.fields.get(cond.field_id or 0)
    if definition is None:
        raise ValidationFailed.field(where, N_("Unknown field"))
    head = (
        "c.id IN (SELECT fv.client_id FROM field_values fv"
        f" WHERE fv.definition_id = {sql(definition.id)}"
    )
    kind, op = definition.type, cond.op
    column = {
        FieldType.STRING: "fv.value_string",
        FieldType.NUMBER: "fv.value_number",
        FieldType.DATE: "fv.value_date",
        FieldType.FLAG: "fv.value_flag",
        FieldType.LIST: "fv.value_option_id",
    }[kind]
    if op in ("empty", "not_empty"):
        filled = f"{column} IS NOT NULL" + (f" AND {column} <> ''" if kind == "string" else "")
        found = f"{head} AND {filled})"
        return found if op == "not_empty" else f"NOT {found}"
    negate = op in ("ne", "not_in")
    if kind == FieldType.STRING:
        if op == "contains":
            test = f"LOWER({column}) LIKE {sql(_like(cond.value))} ESCAPE '\\'"
        elif op in ("in", "not_in"):
            test = f"LOWER({column}) IN ({', '.join(sql(v.lower()) for v in cond.values)})"
        elif op in ("eq", "ne"):
            test = f"LOWER({column}) = {sql(cond.value.lower())}"
        else:
            raise ValidationFailed.field(where, N_("Unknown comparison"))
    elif kind == FieldType.LIST:
        chosen = cond.values if op in ("in", "not_in") else [cond.value]
        if op not in ("in", "not_in", "eq", "ne"):
            raise ValidationFailed.field(where, N_("Unknown comparison"))
        options = {o.id for o in definition.options}
        ids = _ids(chosen, where)
        if not set(ids) <= options:
            raise ValidationFailed.field(where, N_("Unknown choice"))
        test = f"{column} IN ({', '.join(sql(i) for i in ids)})"
    elif kind == FieldType.FLAG:
        if op not in ("eq", "ne") or cond.value.lower() not in ("1", "0", "true", "false"):
            raise ValidationFailed.field(where, N_("Unknown choice"))
        test = f"{column} = {sql(cond.value.lower() in ('1', 'true'))}"
    else:
        if op not in ("eq", "ne", *_COMPARE):
            raise ValidationFailed.field(where, N_("Unknown comparison"))
        if kind == FieldType.NUMBER:
            value = number(cond.value)
            if value is None:
                raise ValidationFailed.field(where, N_("A number expected"))
            left, right = _num(column, ctx), _bind_number(sql, value, ctx)
        else:
            try:
                day = date.fromisoformat(cond.value)
            except ValueError:
                raise ValidationFailed.field(where, N_("A date as YYYY-MM-DD expected")) from None
            left, right = column, sql.day(day)
        test = f"{left} {_COMPARE.get(op, '=')} {right}"
    found = f"{head} AND {test})"
    return f"NOT {found}" if negate else found


def _overdue(sql: Sql, cond: Condition, ctx: Context, where: str) -> str:
    """Days overdue (today - the earliest due date of an invoice still owed and past due)
    compared with X, as IN over the invoices: max(days) > X iff some owed invoice is
    due before today - X."""
    value = number(cond.value)
    if value is None or value < 0 or value != int(value) or value > 100_000:
        raise ValidationFailed.field(where, N_("A whole number of days expected"))
    days = int(value)
    owed = (
        "c.id IN (SELECT v.client_id FROM invoices v"
        f" WHERE {_num('v.amount', ctx)} > {_num('v.paid', ctx)} AND v.due_on"
    )
    if cond.op == "gt":
        return f"{owed} < {sql.day(ctx.today - timedelta(days=days))})"
    if cond.op == "gte":
        return TRUE if days == 0 else f"{owed} <= {sql.day(ctx.today - timedelta(days=days))})"
    if cond.op == "lt":
        return FALSE if days == 0 else f"NOT {owed} <= {sql.day(ctx.today - timedelta(days=days))})"
    return f"NOT {owed} < {sql.day(ctx.today - timedelta(days=days))})"


def _total(sql: Sql, cond: Condition, ctx: Context) -> str:
    """A client's total (won amount, revenue in a period, receivables) compared with X.

    A client with no rows totals 0: when 0 passes the comparison, the members are the
    clients NOT among those whose total fails it, else those among the ones whose total
    passes; either way one grouped read, not a sum per client."""
    value = number(cond.value)
    assert value is not None  # the rule's model checked it
    if cond.field == "won_amount":
        period = _period(cond, ctx)
        rows = (
            f"SELECT i.client_id FROM interests i WHERE i.status = 'won'"
            f" AND i.closed_at >= {sql.at(period.start)} AND i.closed_at < {sql.at(period.end)}"
            f" GROUP BY i.client_id HAVING SUM({_num('i.amount', ctx)})"
        )
    elif cond.field == "revenue":
        period = _period(cond, ctx)
        rows = (
            "SELECT p.client_id FROM payments p"
            f" WHERE p.paid_on >= {sql.day(period.first)} AND p.paid_on <= {sql.day(period.last)}"
            f" GROUP BY p.client_id HAVING SUM({_num('p.amount', ctx)})"
        )
    else:
        owed = f"{_num('v.amount', ctx)} - {_num('v.paid', ctx)}"
        rows = (
            f"SELECT v.client_id FROM invoices v WHERE {owed} > 0"
            f" GROUP BY v.client_id HAVING SUM({owed})"
        )
    compare, bound = _COMPARE[cond.op], _bind_number(sql, value, ctx)
    if _holds(Decimal(0), cond.op, value):
        return f"c.id NOT IN ({rows} {_NEGATED[cond.op]} {bound})"
    return f"c.id IN ({rows} {compare} {bound})"


_NEGATED = {"gt": "<=", "gte": "<", "lt": ">=", "lte": ">"}


def _holds(left: Decimal, op: str, right: Decimal) -> bool:
    return {
        "gt": left > right,
        "gte": left >= right,
        "lt": left < right,
        "lte": left <= right,
    }[op]


def _condition(sql: Sql, cond: Condition, ctx: Context, where: str) -> str:
    f, op = cond.field, cond.op
    if f == "kind":
        return f"c.kind {'=' if op == 'eq' else '<>'} {sql(cond.value)}"
    if f == "relation_type":
        listed = f"c.relation_type IN ({', '.join(sql(v) for v in cond.values)})"
        return listed if op == "in" else f"NOT ({listed})"
    if f in ("region", "lead_source"):
        return _text(sql, f"c.{f}", cond)
    if f == "responsible":
        if op in ("empty", "not_empty"):
            return f"c.responsible_id IS {'' if op == 'empty' else 'NOT '}NULL"
        listed = f"c.responsible_id IN ({', '.join(sql(i) for i in _ids(cond.values, where))})"
        return listed if op == "in" else f"(c.responsible_id IS NULL OR NOT ({listed}))"
    if f == "tag":
        ids = _ids(cond.values, where)
        tagged = "c.id IN (SELECT ct.clients_id FROM client_tags ct WHERE ct.tag_id"
        if op == "all":
            return "(" + " AND ".join(f"{tagged} = {sql(i)})" for i in ids) + ")"
        found = f"{tagged} IN ({', '.join(sql(i) for i in ids)}))"
        return found if op == "any" else f"NOT {found}"
    if f == "custom":
        return _custom(sql, cond, ctx, where)
    if f in ("no_won_days", "no_interaction_days", "no_incoming_days"):
        since = sql.at(ctx.now - timedelta(days=cond.days or 0))
        return (
            "c.id NOT IN ("
            + {
                "no_won_days": "SELECT i.client_id FROM interests i"
                f" WHERE i.status = 'won' AND i.closed_at >= {since}",
                "no_interaction_days": "SELECT x.client_id FROM interactions x"
                f" WHERE x.state = 'done' AND x.sort_at >= {since}",
                "no_incoming_days": "SELECT cv.client_id FROM conversations cv JOIN messages m"
                " ON m.conversation_id = cv.id"
                f" WHERE m.direction = 'in' AND m.created_at >= {since}",
            }[f]
            + ")"
        )
    if f in ("won_amount", "revenue", "receivables"):
        return _total(sql, cond, ctx)
    if f == "days_overdue":
        return _overdue(sql, cond, ctx, where)
    if f == "open_interest":
        scenarios = _ids([v for v in cond.values if v.startswith("scenario:")], where)
        stages = _ids([v for v in cond.values if v.startswith("stage:")], where)
        if len(scenarios) + len(stages) != len(cond.values):
            raise ValidationFailed.field(where, N_("Unknown choice"))
        parts = [f"i.scenario_id = {sql(s)}" for s in scenarios]
        parts += [f"i.stage_id = {sql(s)}" for s in stages]
        found = (
            "c.id IN (SELECT i.client_id FROM interests i WHERE i.status = 'open'"
            f" AND ({' OR '.join(parts)}))"
        )
        return found if op == "any" else f"NOT {found}"
    if f == "birthday_month":
        months = sorted({int(m) for m in cond.values})
        ranges = [f"c.birthday_md BETWEEN {m * 100 + 1} AND {m * 100 + 31}" for m in months]
        return "(" + " OR ".join(ranges) + ")"
    if f == "channel":
        found = (
            "c.id IN (SELECT ci.client_id FROM channel_identities ci JOIN channels ch"
            " ON ch.id = ci.channel_id"
            f" WHERE ci.subscribed = {sql(True)}"
            f" AND ch.kind IN ({', '.join(sql(v) for v in cond.values)}))"
        )
        return found if op == "any" else f"NOT {found}"
    if f == "has_email":
        found = "c.id IN (SELECT cc.client_id FROM client_contacts cc WHERE cc.kind = 'email')"
        return found if op == "yes" else f"NOT {found}"
    # abc, xyz
    found = (
        f"c.id IN (SELECT k.client_id FROM client_classes k"
        f" WHERE k.{f} IN ({', '.join(sql(v) for v in cond.values)}))"
    )
    return found if op == "in" else f"NOT {found}"


def _group(sql: Sql, group: Group, ctx: Context, where: str) -> str:
    parts = []
    for n, item in enumerate(group.items):
        path = f"{where}.items.{n}"
        if isinstance(item, Condition):
            parts.append(_condition(sql, item, ctx, path))
        elif item.conditions():
            parts.append(_group(sql, item, ctx, path))
    if not parts:
        return TRUE if group.op == "and" else FALSE
    return "(" + f" {group.op.upper()} ".join(parts) + ")"


async def _check_references(rule: Rule) -> dict[int, FieldDefinition]:
    """Every row the rule names exists; the custom fields' definitions (with options)."""
    wanted: dict[str, set[int]] = {"tag": set(), "responsible": set(), "custom": set()}
    scenarios: set[int] = set()
    stages: set[int] = set()
    for cond in rule.conditions():
        if cond.field in ("tag", "responsible"):
            wanted[cond.field] |= set(_ids(cond.values, "rule"))
        elif cond.field == "custom" and cond.field_id is not None:
            wanted["custom"].add(cond.field_id)
        elif cond.field == "open_interest":
            scenarios |= set(_ids([v for v in cond.values if v.startswith("scenario:")], "rule"))
            stages |= set(_ids([v for v in cond.values if v.startswith("stage:")], "rule"))
    problems: dict[str, str | Text] = {}
    for model, ids, name in (
        (Tag, wanted["tag"], "tag"),
        (User, wanted["responsible"], "responsible"),
        (Scenario, scenarios, "open_interest"),
        (Stage, stages, "open_interest"),
    ):
        if ids and await model.filter(id__in=ids).count() != len(ids):
            problems[f"rule.{name}"] = N_("Unknown choice")
    definitions = await FieldDefinition.filter(id__in=wanted["custom"]).prefetch_related("options")
    if len(definitions) != len(wanted["custom"]):
        problems["rule.custom"] = N_("Unknown field")
    if problems:
        raise ValidationFailed(fields=problems)
    return {d.id: d for d in definitions}


async def context(rule: Rule, now: datetime | None = None) -> Context:
    company = await get_company()
    moment = now or clock.now()
    zone = company.default_timezone
    return Context(
        now=moment,
        today=moment.astimezone(ZoneInfo(zone)).date(),
        timezone=zone,
        postgres=dialect() == "postgres",
        fields=await _check_references(rule),
    )


async def compile_rule(
    rule: Rule, *, now: datetime | None = None, sql: Sql | None = None
) -> tuple[str, list[Any]]:
    """The rule's members as `SELECT c.id FROM clients c WHERE ...` and its parameters
    (bound into `sql` when given, so that a caller can bind more after them)."""
    ctx = await context(rule, now)
    sql = sql or Sql()
    condition = _group(sql, rule, ctx, "rule")
    return f"SELECT c.id FROM clients c WHERE c.merged_into_id IS NULL AND {condition}", sql.params

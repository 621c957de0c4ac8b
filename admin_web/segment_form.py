"""The rule builder's form: a rule (crm.segments.rules) as rows of form fields and back.

The page edits two levels: the rule's groups joined by AND or OR (`op`), each group's
conditions joined by its own AND or OR (`g0_op`). A condition's fields are named
`g0_c1_field`, `_op`, `_value`, `_values` (several), `_period`, `_days`; a custom field is
chosen as the field `custom:ID`. The buttons post `action`: save, refresh (the field of a
row changed: its operators and value widget follow), add a condition to a group, add a
group, remove a condition. A condition at the rule's top level shows as a group of its own.

The choices offered for each field (tags, people, options, scenarios and stages, months,
classes) are read once per page by `choices_for`."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

from babel.dates import get_month_names

from crm import labels
from crm.i18n import N_
from crm.models import FieldDefinition, FieldType, Scenario, Tag, User
from crm.reports.filters import Preset
from crm.segments.rules import SPECS

MAX_GROUPS = 10
MAX_ROWS = 20

FIELD_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        N_("Client"),
        [
            ("kind", N_("Kind")),
            ("relation_type", N_("Relation")),
            ("region", N_("Region")),
            ("responsible", N_("Responsible")),
            ("tag", N_("Tags")),
            ("lead_source", N_("Lead source")),
        ],
    ),
    (
        N_("Activity"),
        [
            ("no_won_days", N_("No won deal for N days")),
            ("no_interaction_days", N_("No interaction for N days")),
            ("no_incoming_days", N_("No incoming message for N days")),
            ("won_amount", N_("Won amount in a period")),
            ("revenue", N_("Revenue in a period")),
            ("receivables", N_("Receivables")),
            ("days_overdue", N_("Days overdue")),
            ("open_interest", N_("Open deal in a scenario or stage")),
            ("birthday_month", N_("Birthday in a month")),
        ],
    ),
    (
        N_("Channels and classes"),
        [
            ("channel", N_("Subscribed in a messenger")),
            ("has_email", N_("Has an email")),
            ("abc", N_("ABC class")),
            ("xyz", N_("XYZ class")),
        ],
    ),
]
OP_LABELS = {
    "eq": N_("equals"),
    "ne": N_("does not equal"),
    "contains": N_("contains"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "empty": N_("is empty"),
    "not_empty": N_("is filled in"),
    "any": N_("has any of"),
    "all": N_("has all of"),
    "none": N_("has none of"),
    "yes": N_("yes"),
    "no": N_("no"),
}
PERIOD_LABELS = {
    Preset.THIS_WEEK: N_("This week"),
    Preset.LAST_WEEK: N_("Last week"),
    Preset.THIS_MONTH: N_("This month"),
    Preset.LAST_MONTH: N_("Last month"),
    Preset.THIS_QUARTER: N_("This quarter"),
    Preset.LAST_QUARTER: N_("Last quarter"),
    Preset.THIS_YEAR: N_("This year"),
    Preset.LAST_YEAR: N_("Last year"),
}
CUSTOM_OPS = {
    FieldType.STRING: ("eq", "ne", "contains", "in", "not_in", "empty", "not_empty"),
    FieldType.NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"),
    FieldType.DATE: ("eq", "gt", "gte", "lt", "lte", "empty", "not_empty"),
    FieldType.FLAG: ("eq", "empty", "not_empty"),
    FieldType.LIST: ("in", "not_in", "empty", "not_empty"),
}


@dataclass
class Row:
    field: str = "tag"  # "custom:ID" for a custom field
    op: str = ""
    value: str = ""
    values: list[str] = default(default_factory=list)
    period: str = ""
    days: str = ""


@dataclass
class GroupRows:
    op: str = "and"
    rows: list[Row] = default(default_factory=list)


@dataclass
class Builder:
    op: str = "and"
    groups: list[GroupRows] = default(default_factory=list)

    def rule(self) -> dict[str, Any]:
        """The rule as JSON's shape (the model checks it)."""
        items = []
        for group in self.groups:
            conditions = [_condition(row) for row in group.rows]
            items.append({"kind": "group", "op": group.op, "items": conditions})
        return {"op": self.op, "items": items}


def _condition(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"field": row.field, "op": row.op}
    if row.field.startswith("custom:"):
        raw = row.field.split(":", 1)[1]
        out["field"] = "custom"
        out["field_id"] = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0
    if row.value:
        out["value"] = row.value
    if row.values:
        out["values"] = row.values
    if row.period:
        out["period"] = row.period
    if row.days:
        out["days"] = row.days
    return out


def from_rule(rule: dict[str, Any]) -> Builder:
    """The builder's rows of a saved rule (deeper groups are flattened into their group)."""
    builder = Builder(op=str(rule.get("op", "and")))
    for item in rule.get("items", []):
        if item.get("kind") == "group" or "items" in item:
            group = GroupRows(op=str(item.get("op", "and")))
            group.rows = [_row(c) for c in _flatten(item)]
        else:
            group = GroupRows(rows=[_row(item)])
        builder.groups.append(group)
    return builder


def _flatten(group: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in group.get("items", []):
        out += _flatten(item) if "items" in item else [item]
    return out


def _row(cond: dict[str, Any]) -> Row:
    name = str(cond.get("field", ""))
    if name == "custom":
        name = f"custom:{cond.get('field_id', '')}"
    return Row(
        field=name,
        op=str(cond.get("op", "")),
        value=str(cond.get("value", "")),
        values=[str(v) for v in cond.get("values", [])],
        period=str(cond.get("period") or ""),
        days=str(cond.get("days") or ""),
    )


def from_form(form: Any) -> Builder:
    """The builder as posted; a row whose field changed gets its new field's first
    operator (`ops_for` decides them when the page is drawn)."""
    builder = Builder(op="or" if form.get("op") == "or" else "and")
    for g in range(min(_count(form, "groups"), MAX_GROUPS)):
        group = GroupRows(op="or" if form.get(f"g{g}_op") == "or" else "and")
        for c in range(min(_count(form, f"g{g}_n"), MAX_ROWS)):
            key = f"g{g}_c{c}_"
            group.rows.append(
                Row(
                    field=str(form.get(key + "field", "")),
                    op=str(form.get(key + "op", "")),
                    value=str(form.get(key + "value", "")).strip(),
                    values=_values(form, key),
                    period=str(form.get(key + "period", "")),
                    days=str(form.get(key + "days", "")).strip(),
                )
            )
        builder.groups.append(group)
    return builder


def _values(form: Any, key: str) -> list[str]:
    """Chosen values (a multiple select) or typed ones (a textarea, one per line)."""
    chosen = [str(v).strip() for v in form.getall(key + "values", []) if str(v).strip()]
    typed = str(form.get(key + "values_text", "")).splitlines()
    return chosen + [line.strip() for line in typed if line.strip()]


def _count(form: Any, name: str) -> int:
    raw = str(form.get(name, "0"))
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else 0


def apply_action(builder: Builder, action: str) -> None:
    """Add or remove rows as a button asked (save and refresh change nothing)."""
    parts = action.split(":")
    if parts[0] == "add_group" and len(builder.groups) < MAX_GROUPS:
        builder.groups.append(GroupRows(rows=[Row()]))
    elif parts[0] == "add_condition" and len(parts) == 2 and parts[1].isdigit():
        g = int(parts[1])
        if g < len(builder.groups) and len(builder.groups[g].rows) < MAX_ROWS:
            builder.groups[g].rows.append(Row())
    elif parts[0] == "remove" and len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        g, c = int(parts[1]), int(parts[2])
        if g < len(builder.groups) and c < len(builder.groups[g].rows):
            del builder.groups[g].rows[c]
            if not builder.groups[g].rows:
                del builder.groups[g]
    if not builder.groups:
        builder.groups.append(GroupRows(rows=[Row()]))


@dataclass
class Choices:
    """What a page offers per field: (value, label) pairs."""

    by_field: dict[str, list[tuple[str, str]]]
    definitions: dict[str, FieldDefinition]


async def choices_for(locale: str) -> Choices:
    months = get_month_names("wide", context="stand-alone", locale=locale)
    people = await User.filter(is_active=True).order_by("full_name")
    tags = await Tag.all().order_by("name")
    stages: list[tuple[str, str]] = []
    for scenario in await Scenario.all().order_by("name").prefetch_related("stages"):
        stages.append((f"scenario:{scenario.id}", scenario.name))
        for stage in sorted(scenario.stages, key=lambda s: s.position):
            stages.append((f"stage:{stage.id}", f"{scenario.name} → {stage.name}"))
    definitions = await FieldDefinition.filter(is_active=True).order_by("position", "id")
    await FieldDefinition.fetch_for_list(definitions, "options")
    text = labels.text
    by_field = {
        "kind": [(str(k), text(n, locale)) for k, n in labels.CLIENT_KIND.items()],
        "relation_type": [(str(r), text(n, locale)) for r, n in labels.RELATION_TYPE.items()],
        "responsible": [(str(p.id), p.full_name) for p in people],
        "tag": [(str(t.id), t.name) for t in tags],
        "open_interest": stages,
        "birthday_month": [(str(m), months[m]) for m in range(1, 13)],
        "channel": [("telegram", "Telegram"), ("vk", "VK"), ("viber", "Viber")],
        "abc": [(k, k) for k in "ABC"],
        "xyz": [(k, k) for k in "XYZ"],
    }
    for d in definitions:
        if d.type == FieldType.LIST:
            options = sorted(d.options, key=lambda o: o.position)
            by_field[f"custom:{d.id}"] = [(str(o.id), o.value) for o in options]
    return Choices(by_field, {f"custom:{d.id}": d for d in definitions})


def ops_for(row: Row, choices: Choices) -> tuple[str, ...]:
    definition = choices.definitions.get(row.field)
    if definition is not None:
        return CUSTOM_OPS[definition.type]
    spec = SPECS.get(row.field)
    return spec.ops if spec else ()


def widget_for(row: Row, choices: Choices) -> str:
    """Which value input the row shows: none, text, days, amount (with a period), number,
    choice (one of the choices), choices (several), flag, date."""
    if row.op in ("empty", "not_empty", "yes", "no"):
        return "none"
    definition = choices.definitions.get(row.field)
    if definition is not None:
        return {
            FieldType.LIST: "choices",
            FieldType.FLAG: "flag",
            FieldType.DATE: "date",
            FieldType.NUMBER: "number",
        }.get(definition.type, "choices_text" if row.op in ("in", "not_in") else "text")
    spec = SPECS.get(row.field)
    if spec is None:
        return "none"
    if spec.period:
        return "amount"
    if spec.value == "any":
        return "choices_text" if row.op == "in" else "text"
    return {"choice": "choice", "choices": "choices", "days": "days", "number": "number"}.get(
        spec.value, "text"
    )


def normalize(builder: Builder, choices: Choices) -> None:
    """Each row's operator one its field has (a changed field takes its first)."""
    for group in builder.groups:
        for row in group.rows:
            ops = ops_for(row, choices)
            if ops and row.op not in ops:
                row.op = ops[0]

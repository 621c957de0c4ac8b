"""A segment's rule: a tree of AND/OR groups whose leaves are conditions on a client.

A `Condition` names what it looks at (`field`), how (`op`) and against what (`value`, or
`values` for a list); activity conditions over a period take `period` (a preset of
crm.reports.filters, read in the company's time zone) or `days` (the last N days). The
model checks the shape of each condition against `SPECS`; references to rows (tags, users,
custom fields, options, scenarios, stages) are checked when the rule is compiled
(crm.segments.compile), which knows the database.

Fields:
- client fields: kind, relation_type, region, responsible, tag, lead_source, and custom
  fields (`custom` with `field_id`; the operators depend on the field's type);
- activity: no_won_days, no_interaction_days, no_incoming_days (nothing of it for N
  days), won_amount and revenue (in a period, compared with an amount), receivables and
  days_overdue (compared with a number), open_interest (in a scenario or a stage: values
  "scenario:ID" / "stage:ID"), birthday_month (values: month numbers);
- channels: channel (a subscribed identity on telegram / vk / viber), has_email;
- classes: abc (A/B/C), xyz (X/Y/Z)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crm.errors import ValidationFailed
from crm.i18n import N_, Text
from crm.reports.filters import Preset

MAX_CONDITIONS = 50
MAX_DEPTH = 3
MAX_DAYS = 3660
MAX_VALUES = 200
MAX_TEXT = 200


class RuleError(ValueError):
    """What is wrong with a condition or group, as a translatable message."""

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.text = Text(msgid, **params)


@dataclass(frozen=True)
class Spec:
    ops: tuple[str, ...]
    value: str  # "text", "number", "days", "choice", "choices", "none", "any"
    choices: tuple[str, ...] = ()
    period: bool = False


KINDS = ("legal", "individual")
RELATIONS = ("buyer", "supplier", "competitor", "government", "founder", "other")
CHANNELS = ("telegram", "vk", "viber")
COMPARE = ("gt", "gte", "lt", "lte")
MONTHS = tuple(str(m) for m in range(1, 13))

SPECS: dict[str, Spec] = {
    "kind": Spec(("eq", "ne"), "choice", KINDS),
    "relation_type": Spec(("in", "not_in"), "choices", RELATIONS),
    "region": Spec(("eq", "ne", "contains", "in", "empty", "not_empty"), "any"),
    "responsible": Spec(("in", "not_in", "empty", "not_empty"), "choices"),
    "tag": Spec(("any", "all", "none"), "choices"),
    "lead_source": Spec(("eq", "ne", "contains", "empty", "not_empty"), "any"),
    "custom": Spec(("eq", "ne", "contains", "in", "not_in", *COMPARE, "empty", "not_empty"), "any"),
    "no_won_days": Spec(("eq",), "days"),
    "no_interaction_days": Spec(("eq",), "days"),
    "no_incoming_days": Spec(("eq",), "days"),
    "won_amount": Spec(COMPARE, "number", period=True),
    "revenue": Spec(COMPARE, "number", period=True),
    "receivables": Spec(COMPARE, "number"),
    "days_overdue": Spec(COMPARE, "number"),
    "open_interest": Spec(("any", "none"), "choices"),
    "birthday_month": Spec(("in",), "choices", MONTHS),
    "channel": Spec(("any", "none"), "choices", CHANNELS),
    "has_email": Spec(("yes", "no"), "none"),
    "abc": Spec(("in", "not_in"), "choices", ("A", "B", "C")),
    "xyz": Spec(("in", "not_in"), "choices", ("X", "Y", "Z")),
}
VALUELESS_OPS = ("empty", "not_empty", "yes", "no")


def number(raw: str) -> Decimal | None:
    """A number typed with a point or a comma, spaces allowed; None when it is none."""
    try:
        value = Decimal(raw.replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < Decimal("1e14") else None


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["condition"] = "condition"
    field: str
    op: str
    value: str = Field(default="", max_length=MAX_TEXT)
    values: list[str] = Field(default_factory=list, max_length=MAX_VALUES)
    field_id: int | None = Field(default=None, gt=0, lt=2**31)
    period: Preset | None = None
    days: int | None = Field(default=None, ge=1, le=MAX_DAYS)

    @model_validator(mode="after")
    def _check(self) -> Condition:
        spec = SPECS.get(self.field)
        if spec is None:
            raise RuleError(N_("Unknown condition"))
        if self.op not in spec.ops:
            raise RuleError(N_("Unknown comparison"))
        if (self.field == "custom") != (self.field_id is not None):
            raise RuleError(N_("Unknown field"))
        self.value = self.value.strip()
        self.values = [v.strip() for v in self.values if v.strip()]
        if any(len(v) > MAX_TEXT or "\x00" in v for v in self.values) or "\x00" in self.value:
            raise RuleError(N_("The text contains invalid characters"))
        if self.op in VALUELESS_OPS:
            return self
        if spec.period and (self.period is None) == (self.days is None):
            raise RuleError(N_("Give a period or a number of days"))
        if spec.value == "days":
            if self.days is None:
                raise RuleError(N_("Give a number of days"))
        elif spec.value == "number":
            if number(self.value) is None:
                raise RuleError(N_("A number expected"))
        elif spec.value == "choice":
            if self.value not in spec.choices:
                raise RuleError(N_("Unknown choice"))
        elif spec.value == "choices":
            if not self.values:
                raise RuleError(N_("Choose at least one value"))
            if spec.choices and any(v not in spec.choices for v in self.values):
                raise RuleError(N_("Unknown choice"))
        elif self.op in ("in", "not_in"):
            if not self.values:
                raise RuleError(N_("Choose at least one value"))
        elif not self.value:
            raise RuleError(N_("Required"))
        return self


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["group"] = "group"
    op: Literal["and", "or"] = "and"
    items: list[Condition | Group] = Field(default_factory=list, max_length=MAX_CONDITIONS)

    def conditions(self) -> list[Condition]:
        out: list[Condition] = []
        for item in self.items:
            out += [item] if isinstance(item, Condition) else item.conditions()
        return out

    def depth(self) -> int:
        return 1 + max((i.depth() for i in self.items if isinstance(i, Group)), default=0)


class Rule(Group):
    """The whole rule: a group, at most MAX_DEPTH deep and MAX_CONDITIONS conditions."""

    @model_validator(mode="after")
    def _limits(self) -> Rule:
        if self.depth() > MAX_DEPTH:
            raise RuleError(N_("Groups nest at most {n} deep"), n=MAX_DEPTH)
        if len(self.conditions()) > MAX_CONDITIONS:
            raise RuleError(N_("At most {n} conditions"), n=MAX_CONDITIONS)
        return self


def parse_rule(data: object) -> Rule:
    """The rule in `data` (JSON's shape), or ValidationFailed naming each bad part by its
    path ("rule.items.0.items.1"): nothing is saved from a half-understood rule."""
    try:
        return Rule.model_validate(data)
    except ValidationError as error:
        problems: dict[str, str | Text] = {}
        for item in error.errors():
            path = ".".join(str(p) for p in item["loc"] if p not in ("Condition", "Group"))
            cause = (item.get("ctx") or {}).get("error")
            text = cause.text if isinstance(cause, RuleError) else Text(N_("Not a valid rule"))
            problems.setdefault(("rule." + path).rstrip(".")[:200], text)
        raise ValidationFailed(fields=problems) from None

"""What every report takes: a period and filters (`ReportFilter`), read from a query
string by `parse_filter`, which refuses bad input whole (one `ValidationFailed` naming
every offending field) so that no report runs on a half-understood filter.

A period is a preset (this/last week, month, quarter, year) or a from-to pair of dates,
both read in the company's time zone: "this month" in Vladivostok begins at local
midnight of the first, which is the previous day in UTC. `Period.start` is included,
`Period.end` is not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from crm.errors import ValidationFailed
from crm.i18n import N_, Text
from crm.models import ClientKind, RelationType
from crm.normalize import storable, whole_number

MAX_DAYS = 3 * 366  # a custom period spans at most about three years
MAX_MANAGERS = 100


class Preset(StrEnum):
    THIS_WEEK = "this_week"
    LAST_WEEK = "last_week"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    THIS_QUARTER = "this_quarter"
    LAST_QUARTER = "last_quarter"
    THIS_YEAR = "this_year"
    LAST_YEAR = "last_year"


@dataclass(frozen=True)
class Period:
    """Local days `first`..`last` (inclusive) as the moments [start, end) in UTC."""

    first: date
    last: date
    start: datetime
    end: datetime
    timezone: str

    @classmethod
    def of_days(cls, first: date, last: date, timezone: str) -> Period:
        zone = ZoneInfo(timezone)
        start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        return cls(first, last, start, end, timezone)


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def preset_days(preset: Preset, today: date) -> tuple[date, date]:
    """The first and last local day of `preset` as seen on `today`."""
    if preset in (Preset.THIS_WEEK, Preset.LAST_WEEK):
        monday = today - timedelta(days=today.weekday())
        if preset == Preset.LAST_WEEK:
            monday -= timedelta(days=7)
        return monday, monday + timedelta(days=6)
    if preset in (Preset.THIS_MONTH, Preset.LAST_MONTH):
        first = _month_start(today, 1 if preset == Preset.LAST_MONTH else 0)
        return first, _month_start(first, -1) - timedelta(days=1)
    if preset in (Preset.THIS_QUARTER, Preset.LAST_QUARTER):
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        if preset == Preset.LAST_QUARTER:
            first = _month_start(first, 3)
        return first, _month_start(first, -3) - timedelta(days=1)
    year = today.year - (1 if preset == Preset.LAST_YEAR else 0)
    return date(year, 1, 1), date(year, 12, 31)


@dataclass(frozen=True)
class FieldMatch:
    """Clients whose custom field `field_id` holds `value` (a list field: the option's id
    or its text; a flag: true/false; a date: YYYY-MM-DD; text: case-insensitive equal)."""

    field_id: int
    value: str


@dataclass(frozen=True)
class ReportFilter:
    preset: Preset | None = Preset.THIS_MONTH
    date_from: date | None = None
    date_to: date | None = None
    scenario_id: int | None = None
    manager_ids: tuple[int, ...] = ()
    channel_id: int | None = None
    lead_source: str | None = None
    tag_id: int | None = None
    client_kind: ClientKind | None = None
    relation_type: RelationType | None = None
    field: FieldMatch | None = None
    segment_id: int | None = None  # clients in a segment now (crm.segments)

    def period(self, timezone: str, today: date) -> Period:
        if self.preset is None and self.date_from and self.date_to:
            return Period.of_days(self.date_from, self.date_to, timezone)
        first, last = preset_days(self.preset or Preset.THIS_MONTH, today)
        return Period.of_days(first, last, timezone)


# The query-string names of the filter (the API's and the web's).
KEYS = (
    "period",
    "from",
    "to",
    "scenario",
    "managers",
    "channel",
    "lead_source",
    "tag",
    "kind",
    "relation",
    "field",
    "field_value",
    "segment",
)


def _id(raw: str, name: str, errors: dict[str, str | Text]) -> int | None:
    if not raw:
        return None
    value = whole_number(raw)
    if value is None or not 0 < value < 2**31:
        errors[name] = N_("A positive whole number expected")
        return None
    return value


def _day(raw: str, name: str, errors: dict[str, str | Text]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = N_("A date as YYYY-MM-DD expected")
        return None


E = TypeVar("E", bound=StrEnum)


def _choice(raw: str, kind: type[E], name: str, errors: dict[str, str | Text]) -> E | None:
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        errors[name] = Text(N_("One of: {choices}"), choices=", ".join(m.value for m in kind))
        return None


def parse_filter(query: Mapping[str, str], *, extra: tuple[str, ...] = ()) -> ReportFilter:
    """The filter in a query string; unknown names (besides `extra`, a report's own
    parameters) and bad values are refused together."""
    errors: dict[str, str | Text] = {}
    for key in query:
        if key not in KEYS and key not in extra:
            errors[str(key)[:100]] = N_("Unknown field")
    raw = {key: str(query.get(key, "")).strip() for key in KEYS}
    date_from, date_to = _day(raw["from"], "from", errors), _day(raw["to"], "to", errors)
    preset = _choice(raw["period"], Preset, "period", errors)
    if date_from or date_to or raw["from"] or raw["to"]:
        if preset is not None:
            errors["period"] = N_("Give a preset or dates, not both")
        elif not (date_from and date_to):
            errors.setdefault("to" if date_from else "from", N_("Give both dates"))
        elif date_to < date_from:
            errors["to"] = N_("The period must end after it starts")
        elif (date_to - date_from).days > MAX_DAYS:
            errors["to"] = N_("The period is too long")
    elif preset is None:
        preset = Preset.THIS_MONTH
    managers: list[int] = []
    for part in filter(None, (p.strip() for p in raw["managers"].split(","))):
        manager = _id(part, "managers", errors)
        if manager is not None and manager not in managers:
            managers.append(manager)
    if len(managers) > MAX_MANAGERS:
        errors["managers"] = N_("Too many managers")
    field_id = _id(raw["field"], "field", errors)
    if field_id is not None and not raw["field_value"]:
        errors["field_value"] = N_("Required")
    if raw["field_value"] and field_id is None and "field" not in errors:
        errors["field"] = N_("Required")
    for name in ("lead_source", "field_value"):
        if len(raw[name]) > 200:
            errors[name] = Text(N_("Text of at most {n} characters expected"), n=200)
        elif not storable(raw[name]):
            errors[name] = N_("The text contains invalid characters")
    result = ReportFilter(
        preset=None if date_from and date_to else preset,
        date_from=date_from,
        date_to=date_to,
        scenario_id=_id(raw["scenario"], "scenario", errors),
        manager_ids=tuple(managers),
        channel_id=_id(raw["channel"], "channel", errors),
        lead_source=raw["lead_source"] or None,
        tag_id=_id(raw["tag"], "tag", errors),
        client_kind=_choice(raw["kind"], ClientKind, "kind", errors),
        relation_type=_choice(raw["relation"], RelationType, "relation", errors),
        field=FieldMatch(field_id, raw["field_value"]) if field_id else None,
        segment_id=_id(raw["segment"], "segment", errors),
    )
    if errors:
        raise ValidationFailed(fields=errors)
    return result

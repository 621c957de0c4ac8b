"""One door to every report's drill-down, for the web, the API and the bot alike.

A figure of a report is named in a query string by the report's filter (`filters.KEYS`)
and the figure's own place (`PLACE_KEYS`): `figure` (the report's figure name) and, where
the report has rows or columns, `key`, `stage`, `manager`, `in_channel`, `in_source`, or
`group_by` and `keys` (see `Place`). The web's links and the API's drill parameters are
the same names. `parse_place` refuses what it cannot read (one `ValidationFailed` naming every
field) and `records` calls the report's own `drill`, which builds the list from the same
scope as the figure: a drill-down never shows what the reader may not see, because the
report's scope decides it, not this module."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crm.errors import ValidationFailed
from crm.i18n import N_, Text
from crm.models import User
from crm.normalize import whole_number
from crm.reports import base, funnel, inquiries, managers, next_response, pipeline, sources
from crm.reports.drill import MAX_PER_PAGE, PER_PAGE, DrillDown
from crm.reports.filters import ReportFilter

REPORTS = ("funnel", "pipeline", "managers", "inquiries", "sources", "base")
# the query-string names of a figure's place, beside the filter's own (the API's too)
PLACE_KEYS = (
    "figure",
    "key",
    "stage",
    "manager",
    "in_channel",
    "in_source",
    "group_by",
    "keys",
    "cohort",
    "idle_days",
    "page",
    "per_page",
)


@dataclass(frozen=True)
class Place:
    """Where a figure sits in its report. `key`: the funnel's stage (entered, advanced,
    won_from_stage), scenario (won, lost) or loss reason (0: none); the inquiries' rejection
    reason (0: none) or response-time bucket; the base's last-contact bucket. `manager` 0
    is nobody (managers: none given is every manager). `keys`: a base
    group's values in `group_by`'s order, "" (None) for "not set"."""

    figure: str
    key: int | None = None
    stage: int | None = None
    manager: int | None = None
    in_channel: int | None = None
    in_source: str | None = None
    group_by: tuple[str, ...] = ()
    keys: tuple[str | None, ...] = ()
    cohort: bool = False
    idle_days: int = managers.IDLE_DAYS
    page: int = 1
    per_page: int = PER_PAGE


def _number(raw: str, name: str, errors: dict[str, str | Text], *, zero: bool = True) -> int | None:
    if not raw:
        return None
    value = whole_number(raw)
    if value is None or not (0 if zero else 1) <= value < 2**31:
        errors[name] = N_("A positive whole number expected")
        return None
    return value


def parse_place(query: Mapping[str, str]) -> Place:
    """A figure's place in a query string; bad values refused together."""
    errors: dict[str, str | Text] = {}
    raw = {key: str(query.get(key, "")).strip() for key in PLACE_KEYS}
    if not raw["figure"]:
        errors["figure"] = N_("Required")
    page = _number(raw["page"], "page", errors, zero=False) or 1
    per_page = _number(raw["per_page"], "per_page", errors, zero=False) or PER_PAGE
    if per_page > MAX_PER_PAGE:
        errors["per_page"] = Text(N_("At most {n}"), n=MAX_PER_PAGE)
    idle_days = _number(raw["idle_days"], "idle_days", errors, zero=False) or managers.IDLE_DAYS
    if raw["cohort"] not in ("", "0", "1", "true", "false"):
        errors["cohort"] = N_("true or false expected")
    if len(raw["in_source"]) > 200:
        errors["in_source"] = Text(N_("Text of at most {n} characters expected"), n=200)
    group_by = tuple(p.strip() for p in raw["group_by"].split(",")[:2] if p.strip())
    keys = tuple(k or None for k in raw["keys"].split(",")) if "keys" in query else ()
    place = Place(
        figure=raw["figure"][:50],
        key=_number(raw["key"], "key", errors),
        stage=_number(raw["stage"], "stage", errors, zero=False),
        manager=_number(raw["manager"], "manager", errors),
        in_channel=_number(raw["in_channel"], "in_channel", errors, zero=False),
        in_source=raw["in_source"] if "in_source" in query else None,  # "": not set
        group_by=group_by,
        keys=keys,
        cohort=raw["cohort"] in ("1", "true"),
        idle_days=idle_days,
        page=page,
        per_page=per_page,
    )
    if errors:
        raise ValidationFailed(fields=errors)
    return place


def _need(value: int | None, name: str) -> int:
    if value is None:
        raise ValidationFailed.field(name, N_("Required"))
    return value


async def records(
    report: str, report_filter: ReportFilter, place: Place, *, actor: User
) -> DrillDown:
    """The records behind the figure at `place` of `report`, one page of them."""
    paging = {"page": place.page, "per_page": place.per_page}
    figure = place.figure
    if report == "funnel":
        return await funnel.drill(
            report_filter,
            actor=actor,
            figure=figure,
            key=_need(place.key, "key"),
            cohort=place.cohort,
            **paging,
        )
    if report == "pipeline":
        return await pipeline.drill(
            report_filter,
            actor=actor,
            figure=figure,
            stage_id=place.stage,
            manager_id=place.manager,
            **paging,
        )
    if report == "managers":
        return await managers.drill(
            report_filter,
            actor=actor,
            figure=figure,
            manager_id=place.manager,  # none: every manager of the scope (the dashboard's)
            idle_days=place.idle_days,
            **paging,
        )
    if report == "inquiries":
        later = figure in next_response.FIGURES  # next-response time: customers' messages
        return await (next_response.drill if later else inquiries.drill)(
            report_filter,
            actor=actor,
            figure=figure,
            key=place.key,
            channel_id=place.in_channel,
            manager_id=place.manager,
            **paging,
        )
    if report == "sources":
        return await sources.drill(
            report_filter,
            actor=actor,
            figure=figure,
            channel_id=place.in_channel,
            lead_source=place.in_source,
            **paging,
        )
    if report == "base":
        return await base.drill(
            report_filter,
            actor=actor,
            figure=figure,
            group_by=place.group_by,
            keys=place.keys,
            bucket=place.key,
            **paging,
        )
    raise ValidationFailed.field("report", N_("Unknown report"))

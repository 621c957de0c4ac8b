"""One door to every report's drill-down, for the web, the API and the bot alike.

A figure of a report is named in a query string by the report's filter (`filters.KEYS`)
and the figure's own place: `figure` (the report's figure name), and where the report has
rows or columns, `stage`, `scenario`, `reason` (funnel), `row_manager`, `row_channel`,
`row_source`, `bucket` (inquiries, managers, sources, pipeline) or `group_by` and `keys`
(base). `parse_place` refuses what it cannot read (one `ValidationFailed` naming every
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
from crm.reports import base, funnel, inquiries, managers, pipeline, sources
from crm.reports.drill import MAX_PER_PAGE, PER_PAGE, DrillDown
from crm.reports.filters import ReportFilter

REPORTS = ("funnel", "pipeline", "managers", "inquiries", "sources", "base")
NOT_SET = "~"  # a base group's key that is not set (None), as written in a link
# the query-string names of a figure's place, beside the filter's own
PLACE_KEYS = (
    "figure",
    "stage",
    "scenario",
    "reason",
    "row_manager",
    "row_channel",
    "row_source",
    "bucket",
    "group_by",
    "keys",
    "cohort",
    "page",
    "per_page",
)


@dataclass(frozen=True)
class Place:
    """Where a figure sits in its report."""

    figure: str
    stage: int | None = None
    scenario: int | None = None
    reason: int | None = None  # 0: lost or rejected without a reason
    row_manager: int | None = None  # 0: nobody
    row_channel: int | None = None
    row_source: str | None = None
    bucket: int | None = None
    group_by: tuple[str, ...] = ()
    keys: tuple[str | None, ...] = ()
    cohort: bool = False
    page: int = 1
    per_page: int = PER_PAGE


def _number(
    raw: str, name: str, errors: dict[str, str | Text], *, zero: bool = False
) -> int | None:
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
    page = _number(raw["page"], "page", errors) or 1
    per_page = _number(raw["per_page"], "per_page", errors) or PER_PAGE
    if per_page > MAX_PER_PAGE:
        errors["per_page"] = Text(N_("At most {n}"), n=MAX_PER_PAGE)
    group_by = tuple(p for p in raw["group_by"].split(",") if p)
    keys = tuple(None if k == NOT_SET else k for k in raw["keys"].split(",")) if raw["keys"] else ()
    if len(raw["row_source"]) > 200:
        errors["row_source"] = Text(N_("Text of at most {n} characters expected"), n=200)
    place = Place(
        figure=raw["figure"][:50],
        stage=_number(raw["stage"], "stage", errors),
        scenario=_number(raw["scenario"], "scenario", errors),
        reason=_number(raw["reason"], "reason", errors, zero=True),
        row_manager=_number(raw["row_manager"], "row_manager", errors, zero=True),
        row_channel=_number(raw["row_channel"], "row_channel", errors),
        row_source=raw["row_source"] or None,
        bucket=_number(raw["bucket"], "bucket", errors, zero=True),
        group_by=group_by,
        keys=keys,
        cohort=raw["cohort"] in ("1", "true", "on"),
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
        if figure == funnel.LOSS_REASON:
            key = _need(place.reason, "reason")
        elif figure in (funnel.WON, funnel.LOST):
            key = _need(place.scenario, "scenario")
        else:
            key = _need(place.stage, "stage")
        return await funnel.drill(
            report_filter, actor=actor, figure=figure, key=key, cohort=place.cohort, **paging
        )
    if report == "pipeline":
        return await pipeline.drill(
            report_filter,
            actor=actor,
            figure=figure,
            stage_id=place.stage,
            manager_id=place.row_manager,
            **paging,
        )
    if report == "managers":
        return await managers.drill(
            report_filter,
            actor=actor,
            figure=figure,
            manager_id=_need(place.row_manager, "row_manager"),
            **paging,
        )
    if report == "inquiries":
        return await inquiries.drill(
            report_filter,
            actor=actor,
            figure=figure,
            key=place.reason if figure == inquiries.REASON else place.bucket,
            channel_id=place.row_channel,
            manager_id=place.row_manager,
            **paging,
        )
    if report == "sources":
        return await sources.drill(
            report_filter,
            actor=actor,
            figure=figure,
            channel_id=place.row_channel,
            lead_source=place.row_source,
            **paging,
        )
    if report == "base":
        return await base.drill(
            report_filter,
            actor=actor,
            figure=figure,
            group_by=place.group_by,
            keys=place.keys,
            **paging,
        )
    raise ValidationFailed.field("report", N_("Unknown report"))

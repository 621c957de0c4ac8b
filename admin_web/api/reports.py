"""/api/v1/reports/{funnel|pipeline|managers|inquiries|sources|base} and
/api/v1/reports/<report>/drill: the crm.reports results as JSON (or `format=csv|xlsx`
files), for the key's user: a manager's key gets their own figures only, and naming
another manager is refused (403). The filter is crm.reports.filters' query string, read
whole by `parse_filter` (422 naming every offending parameter); a drill-down's place is
crm.reports.records' (the web's records pages name a figure with the same parameters).

Each endpoint is declared through `admin_web.api.declare` with a query model per report,
so the document states every parameter and the answer's schema comes from the report's
own dataclass (pydantic); JSON answers are those dataclasses dumped by pydantic too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import Field, TypeAdapter, create_model

from admin_web.api.declare import Api, Call
from admin_web.api.types import Id, Page, Query, text_of
from crm.models import ClientKind, RelationType, User
from crm.reports import base, export, funnel, inquiries, managers, next_response, pipeline, sources
from crm.reports.drill import MAX_PER_PAGE, DrillDown
from crm.reports.filters import KEYS, Preset, ReportFilter, parse_filter
from crm.reports.records import PLACE_KEYS, parse_place, records

api = Api("reports")

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Format = Literal["json", "csv", "xlsx"]
Flag = Literal["0", "1", "true", "false"]
Text200 = Annotated[str, text_of(200)]


class ReportQuery(Query):
    """The filter every report takes (crm.reports.filters)."""

    period: Preset | None = Field(None, description="a preset; or give `from` and `to`")
    from_: date | None = Field(None, alias="from", description="first local day")
    to: date | None = Field(None, description="last local day (included)")
    scenario: Id | None = None
    managers: Annotated[str, Field(max_length=1200, pattern=r"^[0-9, ]*$")] | None = Field(
        None, description="manager ids, comma-separated"
    )
    channel: Id | None = None
    lead_source: Text200 | None = None
    tag: Id | None = None
    kind: ClientKind | None = None
    relation: RelationType | None = None
    field: Id | None = Field(None, description="a custom field; with `field_value`")
    field_value: Text200 | None = None
    segment: Id | None = Field(None, description="the current members of a segment")
    format: Format = "json"


OWN: dict[str, dict[str, Any]] = {  # a report's own parameters
    "funnel": {"cohort": (Flag | None, Field(None, description="follow the period's deals"))},
    "managers": {"idle_days": (Annotated[int, Field(ge=1, le=3650)] | None, None)},
    "base": {
        "group_by": (
            Annotated[str, Field(max_length=200)] | None,
            Field(
                None,
                description="one or two of kind, relation, region, responsible, "
                "tag, lead_source, field:<id>, comma-separated",
            ),
        )
    },
}
FIGURES = {
    "funnel": funnel.FIGURES,
    "pipeline": pipeline.FIGURES,
    "managers": managers.FIGURES_WITH_MONEY,
    "inquiries": inquiries.FIGURES + next_response.FIGURES,
    "sources": sources.FIGURES,
    "base": base.FIGURES,
}
RESULTS: dict[str, tuple[type, str]] = {
    "funnel": (funnel.FunnelReport, "The sales funnel per scenario"),
    "pipeline": (pipeline.PipelineReport, "Open deals by stage and manager, now"),
    "managers": (managers.ManagersReport, "Each manager's work, with plan vs actual"),
    "inquiries": (inquiries.InquiriesReport, "Inquiries and response times (working minutes)"),
    "sources": (sources.SourcesReport, "First messages -> inquiries -> deals -> won"),
    "base": (base.BaseReport, "The client base grouped, and its quality"),
}
Runner = Callable[[ReportFilter, User, Mapping[str, str]], Awaitable[Any]]


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "") in ("1", "true")


def _group_by(query: Mapping[str, str]) -> tuple[str, ...]:
    raw = query.get("group_by", "") or "kind"
    return tuple(part.strip() for part in raw.split(",")[:3] if part.strip())


RUN: dict[str, Runner] = {
    "funnel": lambda f, u, q: funnel.funnel(f, actor=u, cohort=_flag(q, "cohort")),
    "pipeline": lambda f, u, q: pipeline.pipeline(f, actor=u),
    "managers": lambda f, u, q: managers.managers(
        f, actor=u, idle_days=int(q.get("idle_days") or managers.IDLE_DAYS)
    ),
    "inquiries": lambda f, u, q: inquiries.inquiries(f, actor=u),
    "sources": lambda f, u, q: sources.sources(f, actor=u),
    "base": lambda f, u, q: base.base(f, actor=u, group_by=_group_by(q)),
}


async def _respond(call: Call[Any, Any], result: Any, kind: Any, name: str) -> web.StreamResponse:
    fmt = call.request.query.get("format", "json") or "json"
    if fmt == "json":
        return web.json_response(TypeAdapter(kind).dump_python(result, mode="json"))
    tables = export.tables_of(result, call.user.locale)
    write = export.to_csv if fmt == "csv" else export.to_xlsx
    return web.Response(
        body=write(tables, timezone=call.user.timezone),
        content_type=FORMATS[fmt],
        charset="utf-8" if fmt == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def _filter_of(query: Mapping[str, str]) -> ReportFilter:
    """The filter's own parameters (others are ignored, as everywhere in the API)."""
    return parse_filter({k: v for k, v in query.items() if k in KEYS})


def _declare(name: str) -> None:
    result, summary = RESULTS[name]
    own = OWN.get(name, {})
    model = create_model(f"{name.title()}Query", __base__=ReportQuery, **own)
    drill_model = create_model(
        f"{name.title()}DrillQuery",
        __base__=ReportQuery,
        figure=(Literal[tuple(FIGURES[name])], Field(description="the figure's name")),
        key=(
            Annotated[int, Field(ge=0, le=2**31 - 1)] | None,
            Field(
                None,
                description=(
                    "funnel: the stage (entered, advanced, won_from_stage), the scenario (won, "
                    "lost) or the loss reason (0: none); inquiries: the rejection reason (0: "
                    "none) or the response-time bucket (bucket, next_bucket)"
                ),
            ),
        ),
        stage=(Id | None, None),
        manager=(
            Annotated[int, Field(ge=0, le=2**31 - 1)] | None,
            Field(None, description="0: nobody"),
        ),
        in_channel=(Id | None, None),
        in_source=(Text200 | None, None),
        group_by=(Annotated[str, Field(max_length=200)] | None, None),
        keys=(
            Annotated[str, Field(max_length=1000)] | None,
            Field(
                None,
                description=(
                    "a base group's values in group_by's order, comma-separated; empty: not set"
                ),
            ),
        ),
        cohort=(Flag | None, None),
        idle_days=(Annotated[int, Field(ge=1, le=3650)] | None, None),
        page=(Page, 1),
        per_page=(Annotated[int, Field(ge=1, le=MAX_PER_PAGE)], 50),
    )

    async def report(call: Call[None, Any]) -> web.StreamResponse:
        query = call.request.query
        report_filter = _filter_of(query)
        return await _respond(call, await RUN[name](report_filter, call.user, query), result, name)

    async def drill(call: Call[None, Any]) -> web.StreamResponse:
        query = call.request.query
        report_filter = _filter_of(query)
        place = parse_place({k: v for k, v in query.items() if k in PLACE_KEYS})
        found = await records(name, report_filter, place, actor=call.user)
        return await _respond(call, found, DrillDown, f"{name}-{place.figure}")

    report.__name__ = f"{name}_report"
    drill.__name__ = f"{name}_drill"
    api.get(f"/reports/{name}", summary, query=model, answers={200: result}, errors=(403,))(report)
    api.get(
        f"/reports/{name}/drill",
        f"The records behind a figure of the {name} report",
        query=drill_model,
        answers={200: DrillDown},
        errors=(403,),
    )(drill)


for _name in RESULTS:
    _declare(_name)

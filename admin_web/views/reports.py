"""The Reports section: one page per report of `crm.reports`, each with its filter, its
chart (inline SVG whose bars open their records) and its table beside it, every figure a
link to the records behind it (`/reports/<report>/records`), and every page exportable
as CSV or XLSX (`?format=csv|xlsx`, cells formula-safe).

Rights are the reports' own: `crm.reports.scope.scope_for` counts a manager's own work
only and refuses a filter naming a colleague; the pages add nothing to that rule and
take nothing from it. A filter the reports refuse is shown on the page beside its fields,
with no figures, rather than as an error page."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from admin_web.auth import require_user
from admin_web.render import locale_of, render
from admin_web.views.clients import kind_choices, relation_choices
from crm import labels
from crm.errors import ValidationFailed
from crm.i18n import N_, format_datetime, format_money
from crm.models import (
    Channel,
    FieldDefinition,
    FieldType,
    Inquiry,
    Message,
    Role,
    Scenario,
    Segment,
    Tag,
    User,
)
from crm.reports import base, export, funnel, inquiries, managers, pipeline, sources
from crm.reports import charts as report_charts
from crm.reports.base import DIMENSIONS
from crm.reports.drill import MAX_PER_PAGE, DrillDown, RecordKind
from crm.reports.filters import KEYS, Preset, ReportFilter, parse_filter
from crm.reports.records import PLACE_KEYS, REPORTS, Place, parse_place, records
from crm.reports.words import WORDS

routes = web.RouteTableDef()
FORMATS = ("csv", "xlsx")
EXPORT_MAX = 100_000  # records in one drill-down export
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
OWN_KEYS = {  # a report's own parameters besides the filter
    "funnel": ("cohort",),
    "managers": ("idle_days",),
    "base": ("group_by", "group_by2"),
}

Runner = Callable[[ReportFilter, User, dict[str, str]], Awaitable[Any]]


async def _funnel(flt: ReportFilter, actor: User, own: dict[str, str]) -> Any:
    return await funnel.funnel(flt, actor=actor, cohort=own.get("cohort") == "1")


async def _pipeline(flt: ReportFilter, actor: User, own: dict[str, str]) -> Any:
    return await pipeline.pipeline(flt, actor=actor)


async def _managers(flt: ReportFilter, actor: User, own: dict[str, str]) -> Any:
    days = own.get("idle_days", "")
    idle = int(days) if days.isdigit() and 0 < int(days) <= 3650 else managers.IDLE_DAYS
    return await managers.managers(flt, actor=actor, idle_days=idle)


async def _inquiries(flt: ReportFilter, actor: User, own: dict[str, str]) -> Any:
    return await inquiries.inquiries(flt, actor=actor)


async def _sources(flt: ReportFilter, actor: User, own: dict[str, str]) -> Any:
    return await sources.sources(flt, actor=actor)


def group_by_of(own: dict[str, str]) -> tuple[str, ...]:
    first = own.get("group_by") or "kind"
    second = own.get("group_by2") or ""
    return (first, second) if second and second != first else (first,)


async def _base(flt: ReportFilter, actor: User, own: dict[str, str]) -> Any:
    return await base.base(flt, actor=actor, group_by=group_by_of(own))


RUNNERS: dict[str, Runner] = {
    "funnel": _funnel,
    "pipeline": _pipeline,
    "managers": _managers,
    "inquiries": _inquiries,
    "sources": _sources,
    "base": _base,
}
CHARTS: dict[str, Callable[..., Any]] = {
    "pipeline": report_charts.pipeline_chart,
    "managers": report_charts.managers_chart,
    "inquiries": report_charts.inquiries_chart,
    "sources": report_charts.sources_chart,
    "base": report_charts.base_chart,
}


def draw(
    name: str, result: Any, locale: str, link: Callable[..., str | None]
) -> list[Markup | None]:
    """A report's charts as inline SVG (drawn in a worker thread: matplotlib takes tens of
    milliseconds a chart, which the event loop does not wait for)."""
    drawn = (
        [report_charts.funnel_chart(sc, locale, link, titled=False) for sc in result.scenarios]
        if name == "funnel"
        else [CHARTS[name](result, locale, link)]
    )
    return [None if chart is None else Markup(chart.svg()) for chart in drawn]


def query_of(request: web.Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The request's query as one value a name (several managers joined by commas), the
    empty values and `format` dropped; names outside `allowed` kept for the filter to refuse."""
    found: dict[str, str] = {}
    for key in dict.fromkeys(request.query.keys()):
        if key == "format":
            continue
        values = [v.strip() for v in request.query.getall(key) if v.strip()]
        if values:
            found[key] = ",".join(values) if key == "managers" else values[-1]
    return found


def linker(report: str, query: dict[str, str]) -> Callable[..., str | None]:
    """A figure's address: its report's records page under the same filter."""
    own = {"funnel": ("cohort",), "managers": ("idle_days",)}.get(report, ())
    kept = {k: v for k, v in query.items() if k in KEYS or k in own}

    def link(figure: str, **place: object) -> str | None:
        params = {**kept, "figure": figure}
        params.update({k: str(v) for k, v in place.items() if v is not None})
        return f"/reports/{report}/records?" + urlencode(params)

    return link


def group_keys(keys: tuple[Any, ...]) -> str:
    """A base group's keys as its records link writes them."""
    return ",".join("" if k is None else str(k) for k in keys)


def record_link(kind: str, record_id: object) -> str | None:
    """The page of a drill-down's record, where the panel has one."""
    if kind == RecordKind.CLIENTS:
        return f"/clients/{record_id}"
    return f"/deals/{record_id}" if kind == RecordKind.INTERESTS else None


async def record_links(drill: DrillDown) -> Callable[[str, object], str | None]:
    """`record_link`, and an inquiry or a customer's message opens its conversation."""
    if drill.kind not in (RecordKind.MESSAGES, RecordKind.INQUIRIES):
        return record_link
    model = Message if drill.kind == RecordKind.MESSAGES else Inquiry
    found = await model.filter(id__in=drill.ids).values_list("id", "conversation_id")
    conversations = {int(m): int(c) for m, c in found}

    def link(kind: str, record_id: object) -> str | None:
        conversation = conversations.get(int(str(record_id)))
        return None if conversation is None else f"/inbox/{conversation}"

    return link


def cell_of(request: web.Request, user: User, kind: str) -> Callable[[Any, str], str]:
    """A drill-down cell as the reader reads it: moments in their zone, money, words."""
    locale = locale_of(request)

    def cell(value: Any, column: str) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, locale, user.timezone, "short")
        if isinstance(value, Decimal):
            return format_money(value, "RUB", locale)
        table = WORDS.get((kind, column))
        return labels.label(str(value), locale, table) if table else str(value)

    return cell


def group_label_of(request: web.Request) -> Callable[[str, Any], str]:
    locale = locale_of(request)
    return lambda dimension, text: report_charts.group_label(dimension, text, locale)


async def choices(request: web.Request, actor: User) -> dict[str, Any]:
    """What the filter form offers the reader."""
    people = (
        await User.filter(is_active=True, role__in=[Role.MANAGER, Role.HEAD])
        .order_by("full_name")
        .values_list("id", "full_name")
        if actor.sees_everything
        else []
    )
    return {
        "relations": relation_choices(request),
        "kinds": kind_choices(request),
        "presets": [p.value for p in Preset],
        "scenarios": await Scenario.all().order_by("name").values_list("id", "name"),
        "people": people,
        "channels": await Channel.all().order_by("name").values_list("id", "name"),
        "tags": await Tag.all().order_by("name").values_list("id", "name"),
        "segments": await Segment.all().order_by("name").values_list("id", "name"),
        "definitions": await FieldDefinition.filter(
            type__in=[FieldType.LIST, FieldType.FLAG, FieldType.STRING, FieldType.DATE]
        )
        .order_by("name")
        .values_list("id", "name"),
        "dimensions": DIMENSIONS,
        "list_fields": await FieldDefinition.filter(type__in=[FieldType.LIST, FieldType.FLAG])
        .order_by("name")
        .values_list("id", "name"),
    }


async def _download(tables: list[export.Table], fmt: str, name: str, timezone: str) -> web.Response:
    """The file, written in a worker thread (a 100,000-row XLSX takes seconds)."""
    write = export.to_csv if fmt == "csv" else export.to_xlsx
    body = await asyncio.to_thread(write, tables, timezone=timezone)
    return web.Response(
        body=body,
        headers={
            "Content-Type": MEDIA[fmt],
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


def _export_links(request: web.Request) -> dict[str, str]:
    base_query = [(k, v) for k, v in request.query.items() if k != "format"]
    return {fmt: request.path + "?" + urlencode([*base_query, ("format", fmt)]) for fmt in FORMATS}


def own_only(report_filter: ReportFilter, user: User) -> tuple[ReportFilter, bool]:
    """A manager's filter naming colleagues, limited to their own work (the web says so
    on the page; `scope_for` would refuse it, as the API does) and whether it was."""
    if user.sees_everything or not report_filter.manager_ids:
        return report_filter, False
    narrowed = any(m != user.id for m in report_filter.manager_ids)
    return replace(report_filter, manager_ids=()), narrowed


async def every_record(
    name: str, report_filter: ReportFilter, place: Place, actor: User
) -> DrillDown:
    """All the records behind a figure (an export is not one page), up to EXPORT_MAX."""
    first = await records(
        name, report_filter, replace(place, page=1, per_page=MAX_PER_PAGE), actor=actor
    )
    rows, ids = list(first.rows), list(first.ids)
    page = 1
    while len(rows) < min(first.total, EXPORT_MAX):
        page += 1
        more = await records(
            name, report_filter, replace(place, page=page, per_page=MAX_PER_PAGE), actor=actor
        )
        if not more.rows:
            break
        rows += more.rows
        ids += more.ids
    return replace(first, rows=rows[:EXPORT_MAX], ids=ids[:EXPORT_MAX], per_page=len(rows))


@routes.get("/reports")
async def reports_index(request: web.Request) -> web.StreamResponse:
    require_user(request)
    return await render(request, "reports.html", {"reports": REPORTS})


@routes.get(r"/reports/{report:(funnel|pipeline|managers|inquiries|sources|base)}")
async def report_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    name = request.match_info["report"]
    locale = locale_of(request)
    own_keys = OWN_KEYS.get(name, ())
    query = query_of(request, KEYS + own_keys)
    own = {k: query[k] for k in own_keys if k in query}
    errors: dict[str, str] = {}
    result: Any = None
    narrowed = False
    try:
        report_filter = parse_filter(
            {k: v for k, v in query.items() if k not in own_keys}, extra=()
        )
        report_filter, narrowed = own_only(report_filter, user)
        result = await RUNNERS[name](report_filter, user, own)
    except ValidationFailed as exc:
        errors = exc.field_messages(locale)
        if not errors:
            errors = {"period": exc.render(locale)}
    fmt = request.query.get("format", "")
    if result is not None and fmt in FORMATS:
        return await _download(export.tables_of(result, locale), fmt, name, user.timezone)
    link = linker(name, query)
    charts: list[Markup | None] = []
    if result is not None:
        charts = await asyncio.to_thread(draw, name, result, locale, link)
    return await render(
        request,
        f"report_{name}.html",
        {
            "report_name": name,
            "result": result,
            "charts": charts,
            "link": link,
            "query": query,
            "own": own,
            "errors": errors,
            "exports": _export_links(request) if result is not None else {},
            "percent": lambda share: report_charts.percent(share, locale),
            **await choices(request, user),
            "group_keys": group_keys,
            "group_label": group_label_of(request),
            "bucket_names": inquiries.BUCKET_NAMES,
            "narrowed": narrowed,
        },
    )


@routes.get(r"/reports/{report:(funnel|pipeline|managers|inquiries|sources|base)}/records")
async def records_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    name = request.match_info["report"]
    locale = locale_of(request)
    query = query_of(request, KEYS + PLACE_KEYS)
    report_filter, narrowed = own_only(
        parse_filter({k: v for k, v in query.items() if k in KEYS}), user
    )
    place = parse_place({k: v for k, v in query.items() if k in PLACE_KEYS})
    for key in query:
        if key not in KEYS and key not in PLACE_KEYS:
            raise ValidationFailed.field(key[:100], N_("Unknown field"))
    drill = await records(name, report_filter, place, actor=user)
    fmt = request.query.get("format", "")
    if fmt in FORMATS:
        return await _download(
            export.tables_of(await every_record(name, report_filter, place, user), locale),
            fmt,
            f"{name}-records",
            user.timezone,
        )
    back = {k: v for k, v in query.items() if k in KEYS}
    pager = {k: v for k, v in query.items() if k != "page"}
    return await render(
        request,
        "report_records.html",
        {
            "report_name": name,
            "drill": drill,
            "back": f"/reports/{name}?" + urlencode(back),
            "pager_base": request.path + "?" + urlencode(pager) + "&",
            "has_more": drill.page * drill.per_page < drill.total,
            "exports": _export_links(request),
            "record_link": await record_links(drill),
            "cell": cell_of(request, user, drill.kind),
            "narrowed": narrowed,
        },
    )

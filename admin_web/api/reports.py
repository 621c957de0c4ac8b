"""/api/v1/reports/{funnel|pipeline|managers|inquiries|sources|base} and
/api/v1/reports/{report}/drill: the crm.reports results as JSON (or `format=csv|xlsx`
files), for the key's user: a manager's key gets their own figures only, and naming
another manager is refused (403). The filter is crm.reports.filters' query string; a bad
one is refused whole (422, every offending parameter named)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from aiohttp import web

from admin_web.api.base import api_user, page_args
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import User
from crm.normalize import storable, whole_number
from crm.reports import base, export, funnel, inquiries, managers, pipeline, sources
from crm.reports.filters import ReportFilter, parse_filter

routes = web.RouteTableDef()

NAMES = ("funnel", "pipeline", "managers", "inquiries", "sources", "base")
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# a report's own parameters besides the filter
REPORT_PARAMS = {"funnel": ("cohort",), "base": ("group_by",), "managers": ("idle_days",)}
DRILL_PARAMS = (
    "figure",
    "key",
    "cohort",
    "stage",
    "manager",
    "in_channel",
    "in_source",
    "group_by",
    "keys",
    "bucket",
    "idle_days",
    "page",
    "per_page",
)


def json_value(value: Any) -> Any:
    """A report's dataclasses as JSON values (money as decimal strings, as elsewhere)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _flag(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name, "")
    if raw not in ("", "0", "1", "true", "false"):
        raise ValidationFailed.field(name, N_("true or false expected"))
    return raw in ("1", "true")


def _int(query: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = query.get(name, "")
    if raw == "":
        return default
    value = whole_number(raw)
    if value is None:
        raise ValidationFailed.field(name, N_("A positive whole number expected"))
    return value


def _group_by(query: Mapping[str, str]) -> tuple[str, ...]:
    raw = query.get("group_by", "") or "kind"
    return tuple(part.strip() for part in raw.split(",")[:3] if part.strip())


def _format(query: Mapping[str, str]) -> str:
    fmt = query.get("format", "json") or "json"
    if fmt != "json" and fmt not in FORMATS:
        raise ValidationFailed.field("format", N_("One of: {choices}"), choices="json, csv, xlsx")
    return fmt


def _filter(query: Mapping[str, str], extra: tuple[str, ...]) -> ReportFilter:
    return parse_filter(query, extra=(*extra, "format"))


async def _respond(request: web.Request, user: User, result: Any, name: str) -> web.StreamResponse:
    fmt = _format(request.query)
    if fmt == "json":
        return web.json_response(json_value(result))
    tables = export.tables_of(result, user.locale)
    write = export.to_csv if fmt == "csv" else export.to_xlsx
    body = write(tables, timezone=user.timezone)
    return web.Response(
        body=body,
        content_type=FORMATS[fmt],
        charset="utf-8" if fmt == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


Runner = Callable[[ReportFilter, User, Mapping[str, str]], Awaitable[Any]]
RUN: dict[str, Runner] = {
    "funnel": lambda f, u, q: funnel.funnel(f, actor=u, cohort=_flag(q, "cohort")),
    "pipeline": lambda f, u, q: pipeline.pipeline(f, actor=u),
    "managers": lambda f, u, q: managers.managers(
        f, actor=u, idle_days=_int(q, "idle_days", managers.IDLE_DAYS) or managers.IDLE_DAYS
    ),
    "inquiries": lambda f, u, q: inquiries.inquiries(f, actor=u),
    "sources": lambda f, u, q: sources.sources(f, actor=u),
    "base": lambda f, u, q: base.base(f, actor=u, group_by=_group_by(q)),
}


@routes.get(r"/api/v1/reports/{name:funnel|pipeline|managers|inquiries|sources|base}")
async def report(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    name = request.match_info["name"]
    query = request.query
    _format(query)
    report_filter = _filter(query, REPORT_PARAMS.get(name, ()))
    return await _respond(request, user, await RUN[name](report_filter, user, query), name)


async def _drill(
    name: str, f: ReportFilter, user: User, q: Mapping[str, str], page: tuple[int, int]
) -> Any:
    figure = q.get("figure", "")
    number, per_page = page
    paging = {"page": number, "per_page": per_page}
    if name == "funnel":
        key = _int(q, "key")
        if key is None:
            raise ValidationFailed.field("key", N_("Required"))
        return await funnel.drill(
            f, actor=user, figure=figure, key=key, cohort=_flag(q, "cohort"), **paging
        )
    if name == "pipeline":
        return await pipeline.drill(
            f,
            actor=user,
            figure=figure,
            stage_id=_int(q, "stage"),
            manager_id=_int(q, "manager"),
            **paging,
        )
    if name == "managers":
        manager = _int(q, "manager")
        if manager is None:
            raise ValidationFailed.field("manager", N_("Required"))
        idle = _int(q, "idle_days", managers.IDLE_DAYS) or managers.IDLE_DAYS
        return await managers.drill(
            f, actor=user, figure=figure, manager_id=manager, idle_days=idle, **paging
        )
    if name == "inquiries":
        return await inquiries.drill(
            f,
            actor=user,
            figure=figure,
            key=_int(q, "key"),
            channel_id=_int(q, "in_channel"),
            manager_id=_int(q, "manager"),
            **paging,
        )
    if name == "sources":
        source = q.get("in_source")
        if source is not None and (len(source) > 200 or not storable(source)):
            raise ValidationFailed.field(
                "in_source", N_("Text of at most {n} characters expected"), n=200
            )
        return await sources.drill(
            f,
            actor=user,
            figure=figure,
            channel_id=_int(q, "in_channel"),
            lead_source=source,
            **paging,
        )
    keys = (
        tuple(None if k == "" else k for k in q.get("keys", "").split(",")) if "keys" in q else ()
    )
    return await base.drill(
        f,
        bucket=_int(q, "bucket"),
        actor=user,
        figure=figure,
        group_by=_group_by(q) if "keys" in q else (),
        keys=keys,
        **paging,
    )


@routes.get(r"/api/v1/reports/{name:funnel|pipeline|managers|inquiries|sources|base}/drill")
async def drill(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    name = request.match_info["name"]
    query = request.query
    _format(query)
    report_filter = _filter(query, DRILL_PARAMS)
    if not query.get("figure"):
        raise ValidationFailed.field("figure", N_("Required"))
    page = page_args(request)
    result = await _drill(name, report_filter, user, query, page)
    return await _respond(request, user, result, f"{name}-{query['figure']}")

"""The /api/v1/reports operations of the document. The answers' schemas are derived from
the crm.reports dataclasses themselves (field by field, from their type hints), so the
document cannot drift from what the handlers serialize (admin_web.api.reports.json_value:
money as decimal strings, moments and dates as ISO text)."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from admin_web.api.openapi.schemas import ID, S, text
from crm.reports import base, funnel, inquiries, managers, pipeline, sources
from crm.reports.drill import DrillDown
from crm.reports.filters import KEYS, Preset

REPORTS: dict[str, tuple[type, str]] = {
    "funnel": (funnel.FunnelReport, "The sales funnel per scenario"),
    "pipeline": (pipeline.PipelineReport, "Open deals by stage and manager, now"),
    "managers": (managers.ManagersReport, "Each manager's work, with plan vs actual"),
    "inquiries": (inquiries.InquiriesReport, "Inquiries and response times (working minutes)"),
    "sources": (sources.SourcesReport, "First messages -> inquiries -> deals -> won"),
    "base": (base.BaseReport, "The client base grouped, and its quality"),
}
FIGURES = {
    "funnel": funnel.FIGURES,
    "pipeline": pipeline.FIGURES,
    "managers": managers.FIGURES,
    "inquiries": inquiries.FIGURES,
    "sources": sources.FIGURES,
    "base": base.FIGURES,
}


def schema_of(kind: Any) -> S:
    """The JSON schema of a value of type `kind` as json_value writes it."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        inner = schema_of(present[0]) if len(present) == 1 else {}
        return {**inner, "nullable": True} if type(None) in args and inner else inner
    if origin in (list, tuple):
        item = args[0] if args and args[0] is not Ellipsis else Any
        return {"type": "array", "items": schema_of(item)}
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        props = {f.name: schema_of(hints[f.name]) for f in dataclasses.fields(kind)}
        return {"type": "object", "properties": props, "required": list(props)}
    if isinstance(kind, type) and issubclass(kind, bool):
        return {"type": "boolean"}
    if isinstance(kind, type) and issubclass(kind, Enum):
        return {"type": "string", "enum": [m.value for m in kind]}
    if isinstance(kind, type) and issubclass(kind, int):
        return {"type": "integer"}
    if kind is float:
        return {"type": "number"}
    if kind is Decimal:
        return {"type": "string", "format": "decimal"}
    if kind is datetime:
        return {"type": "string", "format": "date-time"}
    if kind is date:
        return {"type": "string", "format": "date"}
    if kind is str:
        return {"type": "string"}
    return {}  # Any, or a union of several kinds


def _filter_params() -> list[S]:
    day: S = {"type": "string", "format": "date"}
    schemas: dict[str, S] = {
        "period": {"type": "string", "enum": [p.value for p in Preset]},
        "from": day,
        "to": day,
        "scenario": ID,
        "managers": {**text(1000), "description": "manager ids, comma-separated"},
        "channel": ID,
        "lead_source": text(200),
        "tag": ID,
        "kind": {"type": "string", "enum": ["legal", "individual"]},
        "relation": {
            "type": "string",
            "enum": ["buyer", "supplier", "competitor", "government", "founder", "other"],
        },
        "field": ID,
        "field_value": text(200),
    }
    assert set(schemas) == set(KEYS)
    return [{"name": n, "in": "query", "schema": schemas[n]} for n in KEYS]


def _answers(schema: S) -> dict[str, S]:
    return {
        "200": {
            "description": "The report (JSON), or its tables as CSV or XLSX (`format`)",
            "content": {
                "application/json": {"schema": schema},
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    }


FORMAT: S = {
    "name": "format",
    "in": "query",
    "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]},
}
OWN: dict[str, list[S]] = {
    "funnel": [{"name": "cohort", "in": "query", "schema": {"type": "boolean"}}],
    "managers": [
        {
            "name": "idle_days",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 3650},
        }
    ],
    "base": [
        {
            "name": "group_by",
            "in": "query",
            "schema": text(200),
            "description": "one or two of kind, relation, region, responsible, tag, lead_source,"
            " field:<id>, comma-separated",
        }
    ],
}


def report_paths(op: Any, page_params: list[S]) -> dict[str, S]:
    """The report operations, built with paths.op (its errors and tags)."""
    out: dict[str, S] = {}
    drill_params: list[S] = [
        {"name": "key", "in": "query", "schema": ID},
        {"name": "cohort", "in": "query", "schema": {"type": "boolean"}},
        {"name": "stage", "in": "query", "schema": ID},
        {"name": "manager", "in": "query", "schema": ID},
        {"name": "in_channel", "in": "query", "schema": ID},
        {"name": "in_source", "in": "query", "schema": text(200)},
        {"name": "group_by", "in": "query", "schema": text(200)},
        {"name": "keys", "in": "query", "schema": text(1000)},
        {"name": "bucket", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ]
    for name, (result, summary) in REPORTS.items():
        operation = op(
            summary, {}, params=[*_filter_params(), *OWN.get(name, []), FORMAT], tag="reports"
        )
        operation["responses"] = {**_answers(schema_of(result)), **operation["responses"]}
        out[f"/reports/{name}"] = {"get": operation}
        figure = {
            "name": "figure",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "enum": list(FIGURES[name])},
        }
        drill = op(
            f"The records behind a figure of the {name} report",
            {},
            params=[*_filter_params(), figure, *drill_params, *page_params, FORMAT],
            tag="reports",
        )
        drill["responses"] = {**_answers(schema_of(DrillDown)), **drill["responses"]}
        out[f"/reports/{name}/drill"] = {"get": drill}
    return out

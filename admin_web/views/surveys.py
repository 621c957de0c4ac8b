"""A survey mailing's answers (heads of sales and admins): per question the options'
counts and shares and the free-text answers, each figure opening its clients; CSV and
XLSX exports (`crm.mailings.survey_report`)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from admin_web.auth import require_user
from admin_web.render import locale_of, render
from crm.errors import PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.mailings import survey_report
from crm.models import User
from crm.reports import export

routes = web.RouteTableDef()
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _head(request: web.Request) -> User:
    """Heads of sales and admins, as the mailings: refused before any input is read."""
    user = require_user(request)
    if not user.sees_everything:
        raise PermissionDenied()
    return user


def _number(raw: str, name: str) -> int:
    if not raw.isdigit() or len(raw) > 6:
        raise ValidationFailed.field(name, N_("Enter a whole number"))
    return int(raw)


@routes.get(r"/mailings/{id:\d+}/survey")
async def survey_page(request: web.Request) -> web.StreamResponse:
    user = _head(request)
    found = await survey_report.report(int(request.match_info["id"]), actor=user)
    fmt = request.query.get("format", "")
    if fmt in MEDIA:
        write = export.to_csv if fmt == "csv" else export.to_xlsx
        tables = survey_report.tables(found, locale_of(request))
        body = await asyncio.to_thread(write, tables, timezone=user.timezone)
        return web.Response(
            body=body,
            headers={
                "Content-Type": MEDIA[fmt],
                "Content-Disposition": f'attachment; filename="survey-{found.mailing.id}.{fmt}"',
                "Cache-Control": "no-store",
            },
        )
    return await render(request, "survey_report.html", {"report": found})


@routes.get(r"/mailings/{id:\d+}/survey/clients")
async def survey_clients(request: web.Request) -> web.StreamResponse:
    user = _head(request)
    raw_option = request.query.get("option", "")
    option = _number(raw_option, "option") if raw_option else None
    context: dict[str, Any] = {
        "drill": await survey_report.drill(
            int(request.match_info["id"]),
            _number(request.query.get("question", ""), "question"),
            option,
            actor=user,
            page=_number(request.query.get("page", "1"), "page"),
        ),
        "mailing_id": int(request.match_info["id"]),
        "page_size": survey_report.DRILL_PAGE,
    }
    return await render(request, "survey_clients.html", context)

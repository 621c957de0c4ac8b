"""The start page: a dashboard of what needs attention and how sales go, by role (a
manager's own work; a head's or an admin's everyone's), each figure a link to its report."""

from __future__ import annotations

import asyncio

from aiohttp import web

from admin_web.auth import require_user
from admin_web.render import locale_of, render
from admin_web.views.reports import draw, linker
from crm.reports import charts as report_charts
from crm.reports.dashboard import dashboard

routes = web.RouteTableDef()


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    locale = locale_of(request)
    figures = await dashboard(user)
    chart = await asyncio.to_thread(
        draw, "pipeline", figures.pipeline, locale, linker("pipeline", {})
    )
    return await render(
        request,
        "home.html",
        {
            "d": figures,
            "pipeline_chart": chart[0],
            "month": linker("managers", {"period": "this_month"}),
            "last_month": linker("managers", {"period": "last_month"}),
            "inquiry": linker("inquiries", {"period": "this_month"}),
            "open": linker("pipeline", {}),
            "percent": lambda share: report_charts.percent(share, locale),
        },
    )

"""What managers read in the panel: their interests (deals). (The inbox: desk_inbox.)"""

from __future__ import annotations

from aiohttp import web

from admin_web.auth import require_user
from admin_web.render import render
from crm.access import interest_filter
from crm.models import Interest, InterestStatus
from crm.normalize import whole_number
from crm.reminders import overdue_interests

routes = web.RouteTableDef()
PER_PAGE = 50


def _page(request: web.Request) -> int:
    return whole_number(request.query.get("page"), max_digits=5) or 1


@routes.get("/deals")
async def deals_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    status = request.query.get("status", "open")
    query = Interest.filter(await interest_filter(user))
    if status in {s.value for s in InterestStatus}:
        query = query.filter(status=status)
    page = _page(request)
    rows = (
        await query.order_by("-updated_at", "-id")
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .prefetch_related("client", "stage", "scenario", "responsible")
    )
    shown = rows[:PER_PAGE]
    return await render(
        request,
        "deals.html",
        {
            "rows": shown,
            "overdue": await overdue_interests([i.id for i in shown]),
            "has_more": len(rows) > PER_PAGE,
            "page": page,
            "status": status,
            "pager_base": f"/deals?status={status}&",
        },
    )

"""The start page: what needs attention, by role."""

from __future__ import annotations

from aiohttp import web

from admin_web.auth import require_user
from admin_web.render import render
from crm.access import client_filter, interest_filter
from crm.models import Client, Interest, InterestStatus

routes = web.RouteTableDef()


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    clients = await Client.filter(await client_filter(user)).count()
    interests = await Interest.filter(
        await interest_filter(user), status=InterestStatus.OPEN
    ).count()
    return await render(request, "home.html", {"clients": clients, "interests": interests})

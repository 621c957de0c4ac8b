"""The panel's pages, one module per area."""

from __future__ import annotations

from aiohttp import web

from admin_web.views import (
    apikeys,
    board,
    channels,
    client_card,
    client_merge,
    clients,
    deal_page,
    desk,
    desk_inquiries,
    desk_live,
    fields,
    home,
    imports,
    lists,
    my_work,
    onboarding,
    plans,
    reports,
    scenarios,
    segments,
    settings,
    users,
    work,
)

ROUTES: list[web.RouteTableDef] = [
    home.routes,
    onboarding.routes,
    settings.routes,
    lists.routes,
    fields.routes,
    scenarios.routes,
    users.routes,
    channels.routes,
    client_card.routes,
    client_merge.routes,
    segments.routes,
    clients.routes,
    work.routes,
    desk.routes,
    desk_inquiries.routes,
    desk_live.routes,
    my_work.routes,
    imports.routes,
    apikeys.routes,
    plans.routes,
    reports.routes,
    deal_page.routes,
    board.routes,
]

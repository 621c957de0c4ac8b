"""The panel's pages, one module per area."""

from __future__ import annotations

from aiohttp import web

from admin_web.views import (
    apikeys,
    channels,
    client_card,
    clients,
    desk,
    desk_inquiries,
    desk_live,
    fields,
    home,
    imports,
    lists,
    onboarding,
    reports,
    scenarios,
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
    clients.routes,
    work.routes,
    desk.routes,
    desk_inquiries.routes,
    desk_live.routes,
    imports.routes,
    apikeys.routes,
    reports.routes,
]

"""The panel's pages, one module per area."""

from __future__ import annotations

from aiohttp import web

from admin_web.views import (
    apikeys,
    channels,
    client_card,
    client_merge,
    clients,
    fields,
    home,
    imports,
    lists,
    my_work,
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
    client_merge.routes,
    clients.routes,
    work.routes,
    my_work.routes,
    imports.routes,
    apikeys.routes,
    reports.routes,
]

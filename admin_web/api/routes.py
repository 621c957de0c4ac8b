"""Mounts the JSON API, /api/v1: every module's `Api` (its endpoints, documented by
`openapi.document()` from the same declarations)."""

from __future__ import annotations

from aiohttp import web

from admin_web.api import (
    clients,
    conversations,
    deals,
    inquiries,
    mailings,
    money,
    openapi,
    outreach,
    quick_replies,
    reports,
    segments,
)
from admin_web.api.declare import Api

APIS: list[Api] = [
    clients.api,
    deals.api,
    deals.feed,
    conversations.api,
    inquiries.api,
    mailings.api,
    reports.api,
    quick_replies.api,
    money.invoices_api,
    money.payments_api,
    outreach.api,
    segments.api,
]


def mount(app: web.Application) -> None:
    app.add_routes(openapi.routes)
    for api in APIS:
        app.add_routes(api.routes())

"""Mounts the JSON API, /api/v1."""

from __future__ import annotations

from aiohttp import web

from admin_web.api import clients, conversations, deals, inquiries, openapi


def mount(app: web.Application) -> None:
    for module in (openapi, clients, deals, conversations, inquiries):
        app.add_routes(module.routes)

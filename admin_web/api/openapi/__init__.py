"""The OpenAPI 3.0 document of /api/v1, served at /api/v1/openapi.json: its component
schemas (`schemas`) and its operations (`paths`)."""

from __future__ import annotations

from aiohttp import web

from admin_web.api.openapi.paths import paths
from admin_web.api.openapi.schemas import SCHEMAS, S

routes = web.RouteTableDef()


def document() -> S:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "crmhub API",
            "version": "1",
            "description": "Clients, interests, interactions and conversations. Every key "
            "acts as one user, with that user's rights. "
            "Errors: `{error: {code, message, fields}}`.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": paths(),
    }


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.StreamResponse:
    return web.json_response(document())

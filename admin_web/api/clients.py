"""/api/v1/clients (CRUD, custom fields, search) and /api/v1/fields."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_web.api.base import (
    api_user,
    body,
    client_json,
    field_json,
    match_id,
    page,
    page_args,
    query_int,
)
from admin_web.forms import searched
from crm import clients as client_service
from crm import fields
from crm.access import access_client
from crm.client_list import ClientFilters, find_clients
from crm.deletion import delete_client
from crm.models import Client, ClientContact, ContactKind

routes = web.RouteTableDef()

CARD: dict[str, tuple[str, int]] = {
    "kind": ("str", 16),
    "name": ("str", 300),
    "legal_name": ("str?", 500),
    "inn": ("str?", 12),
    "kpp": ("str?", 9),
    "org_form": ("str?", 50),
    "birthday": ("str?", 10),
    "region": ("str?", 100),
    "timezone": ("str?", 64),
    "relation_type": ("str", 16),
    "responsible_id": ("int?", 0),
    "is_lead": ("bool", 0),
    "lead_source": ("str?", 200),
    "note": ("str?", 4000),
    "phones": ("list", 40),
    "emails": ("list", 254),
    "tags": ("list", 100),
    "custom": ("custom", 0),
}


async def _shape(client: Client, *, with_custom: bool = True) -> dict[str, Any]:
    contacts = await ClientContact.filter(client_id=client.id).order_by("position")
    tags = sorted(await client.tags.all().values_list("name", flat=True))
    return client_json(
        client,
        phones=[c.value for c in contacts if c.kind == ContactKind.PHONE],
        emails=[c.value for c in contacts if c.kind == ContactKind.EMAIL],
        tags=[str(t) for t in tags],
        custom=await fields.values_of(client) if with_custom else None,
    )


def _custom(data: dict[str, Any]) -> dict[int, Any]:
    return {int(k): v for k, v in (data.pop("custom", None) or {}).items()}


def _card(data: dict[str, Any]) -> dict[str, Any]:
    """Empty optional texts mean "none"; lists and flags pass as they are."""
    return {k: ("" if v is None and CARD[k][0] == "str?" else v) for k, v in data.items()}


@routes.get("/api/v1/clients")
async def list_clients(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    page_no, per_page = page_args(request)
    filters = ClientFilters(
        q=searched(request.query.get("q"), "q"),
        tag_id=query_int(request, "tag_id"),
        responsible_id=query_int(request, "responsible_id"),
        relation_type=request.query.get("relation_type", ""),
        kind=request.query.get("kind", ""),
    )
    rows, has_more = await find_clients(user, filters, page=page_no, per_page=per_page)
    items = [await _shape(c, with_custom=False) for c in rows]
    return page(items, page_no, per_page, has_more)


@routes.post("/api/v1/clients")
async def create_client(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    data = await body(request, CARD, required=("name",))
    custom = _custom(data)
    card = _card(data)
    name = card.pop("name")
    kind = card.pop("kind", "individual")
    for key in ("inn", "kpp", "birthday", "timezone"):
        if card.get(key) == "":
            card.pop(key)
    client = await client_service.create_client(
        actor=user, kind=kind, name=name, custom=custom, **card
    )
    return web.json_response(await _shape(client), status=201)


@routes.get(r"/api/v1/clients/{id:\d+}")
async def get_client(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    client = await access_client(user, match_id(request))
    return web.json_response(await _shape(client))


@routes.patch(r"/api/v1/clients/{id:\d+}")
async def update_client(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    client_id = match_id(request)
    await access_client(user, client_id)
    data = await body(request, CARD)
    custom = _custom(data)
    card = _card(data)
    for key in ("inn", "kpp", "birthday", "timezone"):
        if card.get(key) == "":
            card[key] = None
    client = await client_service.update_client(client_id, card, actor=user, custom=custom)
    return web.json_response(await _shape(client))


@routes.delete(r"/api/v1/clients/{id:\d+}")
async def remove_client(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    await delete_client(match_id(request), actor=user)
    return web.Response(status=204)


@routes.get("/api/v1/fields")
async def list_fields(request: web.Request) -> web.StreamResponse:
    await api_user(request)
    definitions = await fields.definitions_for()
    return web.json_response({"items": [field_json(d) for d in definitions]})

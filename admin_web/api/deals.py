"""/api/v1/interests (create, change title and amount, move stage, win, lose) and
/api/v1/interactions (plan, complete, cancel)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from admin_web.api.base import (
    api_user,
    body,
    field_errors,
    interaction_json,
    interest_json,
    match_id,
    page,
    page_args,
    query_int,
)
from crm import deals, interactions
from crm.access import access_client, access_interest, interest_filter
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.interactions import Plan, access_interaction
from crm.models import Interaction, Interest, InterestStatus

routes = web.RouteTableDef()

NEW_INTEREST = {
    "client_id": ("int", 0),
    "title": ("str", 300),
    "scenario_id": ("int?", 0),
    "amount": ("number", 0),
    "responsible_id": ("int?", 0),
}
PLAN = {
    "client_id": ("int?", 0),
    "interest_id": ("int?", 0),
    "kind": ("str", 16),
    "planned_at": ("str", 40),
    "subject": ("str?", 300),
    "content": ("str?", 4000),
    "responsible_id": ("int?", 0),
}
# the next interaction planned when one is completed: in the same client and interest
NEXT_PLAN = {k: v for k, v in PLAN.items() if k not in ("client_id", "interest_id")}


def _moment(raw: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.field(field, N_("A date and time (ISO 8601) expected")) from None
    if moment.tzinfo is None:
        raise ValidationFailed.field(field, N_("A time zone is required"))
    return moment


def _plan(data: dict[str, Any], prefix: str = "") -> Plan:
    return Plan(
        kind=str(data["kind"]),
        planned_at=_moment(str(data["planned_at"]), prefix + "planned_at"),
        subject=str(data.get("subject") or ""),
        content=str(data.get("content") or ""),
        responsible_id=data.get("responsible_id"),
    )


@routes.get("/api/v1/interests")
async def list_interests(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    page_no, per_page = page_args(request)
    query = Interest.filter(await interest_filter(user))
    status = request.query.get("status")
    if status is not None:
        if status not in {s.value for s in InterestStatus}:
            raise ValidationFailed.field("status", N_("Unknown choice"))
        query = query.filter(status=status)
    client_id = query_int(request, "client_id")
    if client_id is not None:
        query = query.filter(client_id=client_id)
    rows = await query.order_by("-id").offset((page_no - 1) * per_page).limit(per_page + 1)
    return page(
        [interest_json(i) for i in rows[:per_page]], page_no, per_page, len(rows) > per_page
    )


@routes.post("/api/v1/interests")
async def create_interest(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    data = await body(request, NEW_INTEREST, required=("client_id", "title"))
    interest = await deals.create_interest(
        actor=user,
        client_id=data["client_id"],
        title=data["title"],
        scenario_id=data.get("scenario_id"),
        amount=data.get("amount"),
        responsible_id=data.get("responsible_id"),
        source="api",
    )
    return web.json_response(interest_json(interest), status=201)


@routes.get(r"/api/v1/interests/{id:\d+}")
async def get_interest(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    return web.json_response(interest_json(await access_interest(user, match_id(request))))


# what PATCH changes; an empty amount (null or "") clears it
INTEREST_CHANGES = {"title": ("str", 300), "amount": ("number?", 0)}


@routes.patch(r"/api/v1/interests/{id:\d+}")
async def update_interest(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    interest_id = match_id(request)
    await access_interest(user, interest_id)
    data = await body(request, INTEREST_CHANGES)
    return web.json_response(
        interest_json(await deals.update_interest(interest_id, data, actor=user))
    )


@routes.post(r"/api/v1/interests/{id:\d+}/move")
async def move_interest(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    interest_id = match_id(request)
    await access_interest(user, interest_id)
    data = await body(request, {"stage_id": ("int", 0)}, required=("stage_id",))
    return web.json_response(
        interest_json(await deals.move_stage(interest_id, data["stage_id"], actor=user))
    )


@routes.post(r"/api/v1/interests/{id:\d+}/win")
async def win_interest(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    interest_id = match_id(request)
    await access_interest(user, interest_id)
    await body(request, {})
    return web.json_response(interest_json(await deals.win(interest_id, actor=user)))


@routes.post(r"/api/v1/interests/{id:\d+}/lose")
async def lose_interest(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    interest_id = match_id(request)
    await access_interest(user, interest_id)
    data = await body(request, {"reason_id": ("int", 0)}, required=("reason_id",))
    return web.json_response(
        interest_json(await deals.lose(interest_id, data["reason_id"], actor=user))
    )


@routes.get("/api/v1/interactions")
async def list_interactions(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    client_id = query_int(request, "client_id")
    interest_id = query_int(request, "interest_id")
    if interest_id is not None:
        await access_interest(user, interest_id)
    elif client_id is not None:
        await access_client(user, client_id)
    else:
        raise ValidationFailed.field("client_id", N_("Give client_id or interest_id"))
    rows = await interactions.feed(client_id=client_id, interest_id=interest_id, limit=200)
    return web.json_response({"items": [interaction_json(x) for x in rows]})


@routes.post("/api/v1/interactions")
async def plan_interaction(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    data = await body(request, PLAN, required=("kind", "planned_at"))
    planned = await interactions.plan_interaction(
        _plan(data),
        actor=user,
        client_id=data.get("client_id"),
        interest_id=data.get("interest_id"),
    )
    return web.json_response(interaction_json(planned), status=201)


@routes.post(r"/api/v1/interactions/{id:\d+}/complete")
async def complete_interaction(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    interaction_id = match_id(request)
    await access_interaction(user, interaction_id)
    data = await body(request, {"result": ("str?", 4000), "next": ("object", 0)})
    next_plan = None
    if data.get("next") is not None:
        nested = data["next"]
        errors = field_errors(nested, NEXT_PLAN, prefix="next.")
        if not isinstance(nested.get("kind"), str) or not isinstance(nested.get("planned_at"), str):
            errors.setdefault("next", N_("kind and planned_at are required"))
        if errors:
            raise ValidationFailed(fields=errors)
        next_plan = _plan(nested, "next.")
    done, planned = await interactions.complete_interaction(
        interaction_id, actor=user, result=str(data.get("result") or ""), next_plan=next_plan
    )
    return web.json_response(
        {"done": interaction_json(done), "next": interaction_json(planned) if planned else None}
    )


@routes.post(r"/api/v1/interactions/{id:\d+}/cancel")
async def cancel_interaction(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    interaction_id = match_id(request)
    await access_interaction(user, interaction_id)
    await body(request, {})
    cancelled: Interaction = await interactions.cancel_interaction(interaction_id, actor=user)
    return web.json_response(interaction_json(cancelled))

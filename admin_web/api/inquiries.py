"""/api/v1/inquiries: the waiting inquiries the key's user may take, and accept (a deal
opens, as in the bot), reject (with a reason from the rejection-reason list; without one
only while the list is empty) and hand over (the client becomes the receiver's). Taken
atomically by the crm services: of two takers at the same moment one wins, the other gets
409 `inquiry_taken` naming who took it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_web.api.base import api_user, body, interest_json, match_id, page_args, plain
from crm.inquiries import accept_inquiry, open_inquiries, reject_inquiry
from crm.inquiry_handover import hand_inquiry
from crm.models import Inquiry, Interest

routes = web.RouteTableDef()


def inquiry_json(inquiry: Inquiry) -> dict[str, Any]:
    return {
        "id": inquiry.id,
        "conversation_id": inquiry.conversation_id,  # type: ignore[attr-defined]
        "client_id": inquiry.client_id,  # type: ignore[attr-defined]
        "channel_id": inquiry.channel_id,  # type: ignore[attr-defined]
        "status": inquiry.status.value,
        "first_message_at": plain(inquiry.first_message_at),
        "decided_by_id": inquiry.decided_by_id,  # type: ignore[attr-defined]
        "interest_id": inquiry.interest_id,  # type: ignore[attr-defined]
    }


@routes.get("/api/v1/inquiries")
async def list_inquiries(request: web.Request) -> web.StreamResponse:
    """The open inquiries the user may take, oldest first (at most `per_page`)."""
    user = await api_user(request)
    _, per_page = page_args(request)
    rows = await open_inquiries(user, limit=per_page)
    return web.json_response({"items": [inquiry_json(i) for i in rows]})


@routes.post(r"/api/v1/inquiries/{id:\d+}/accept")
async def accept(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    data = await body(request, {"title": ("str?", 300)})
    title = (data.get("title") or "").strip() or None
    interest = await accept_inquiry(match_id(request), actor=user, title=title)
    fresh = await Interest.get(id=interest.id)
    return web.json_response(interest_json(fresh), status=201)


@routes.post(r"/api/v1/inquiries/{id:\d+}/reject")
async def reject(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    data = await body(request, {"reason_id": ("int?", 0)})
    inquiry = await reject_inquiry(match_id(request), data.get("reason_id"), actor=user)
    return web.json_response(inquiry_json(inquiry))


@routes.post(r"/api/v1/inquiries/{id:\d+}/handover")
async def handover(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    data = await body(request, {"to_user_id": ("int", 0)}, required=("to_user_id",))
    inquiry = await hand_inquiry(match_id(request), data["to_user_id"], actor=user)
    return web.json_response(inquiry_json(inquiry))

"""/api/v1/conversations and their messages: read, and send a message to the client."""

from __future__ import annotations

from aiohttp import web

from admin_web.api.base import (
    api_user,
    body,
    conversation_json,
    match_id,
    message_json,
    page,
    page_args,
    query_int,
)
from crm.access import access_conversation
from crm.conversations import conversations_of, messages_of, queue_reply

routes = web.RouteTableDef()


@routes.get("/api/v1/conversations")
async def list_conversations(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    page_no, per_page = page_args(request)
    rows = await conversations_of(user, limit=per_page + 1, offset=(page_no - 1) * per_page)
    return page(
        [conversation_json(c) for c in rows[:per_page]], page_no, per_page, len(rows) > per_page
    )


@routes.get(r"/api/v1/conversations/{id:\d+}/messages")
async def list_messages(request: web.Request) -> web.StreamResponse:
    user = await api_user(request)
    before = query_int(request, "before_id")
    _, per_page = page_args(request)
    rows = await messages_of(user, match_id(request), limit=per_page, before_id=before)
    return web.json_response({"items": [message_json(m) for m in rows]})


@routes.post(r"/api/v1/conversations/{id:\d+}/messages")
async def send_message(request: web.Request) -> web.StreamResponse:
    """Queue a message to the client; the outbox sends it through the channel."""
    user = await api_user(request)
    conversation_id = match_id(request)
    await access_conversation(user, conversation_id)
    data = await body(request, {"text": ("str", 20_000)}, required=("text",))
    message = await queue_reply(conversation_id, actor=user, text=data["text"])
    return web.json_response(message_json(message), status=201)

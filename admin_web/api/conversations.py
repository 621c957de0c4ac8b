"""/api/v1/conversations and their messages: read, and send a message to the client."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import ConfigDict, Field

from admin_web.api import answers
from admin_web.api.base import conversation_json, message_json, page
from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Body, Id, Page, PerPage, Query, named
from admin_web.views.desk import wake_outbox
from admin_web.views.desk_live import changed
from crm.access import access_conversation
from crm.conversations import conversations_of, messages_of, queue_reply

api = Api("conversations")


class Pages(Query):
    page: Page = 1
    per_page: PerPage = 50


class MessagesQuery(Query):
    before_id: Id | None = Field(None, description="older than this message")
    per_page: PerPage = 50


class Reply(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "Добрый день! Счёт отправили."}]}
    )

    text: Annotated[str, named(20_000)]


@api.get(
    "/conversations",
    "Conversations",
    query=Pages,
    answers={200: answers.PageOf[answers.Conversation]},
)
async def list_conversations(call: Call[None, Pages]) -> web.StreamResponse:
    page_no, per_page = call.query.page, call.query.per_page
    rows = await conversations_of(call.user, limit=per_page + 1, offset=(page_no - 1) * per_page)
    items = [conversation_json(c) for c in rows[:per_page]]
    return page(items, page_no, per_page, len(rows) > per_page)


@api.get(
    "/conversations/{id}/messages",
    "Messages, oldest first",
    query=MessagesQuery,
    answers={200: answers.Items[answers.Message]},
)
async def list_messages(call: Call[None, MessagesQuery]) -> web.StreamResponse:
    query = call.query
    rows = await messages_of(call.user, call.id, limit=query.per_page, before_id=query.before_id)
    return json({"items": [message_json(m) for m in rows]})


@api.post(
    "/conversations/{id}/messages",
    "Send a message to the client (queued; the outbox sends it through the channel)",
    body=Reply,
    answers={201: answers.Message},
    errors=(403, 409),
)
async def send_message(call: Call[Reply, None]) -> web.StreamResponse:
    await access_conversation(call.user, call.id)
    message = await queue_reply(call.id, actor=call.user, text=call.body.text)
    wake_outbox(call.request.app)
    await changed(call.request.app, "message", call.id)  # the open desks show it at once
    return json(message_json(message), status=201)

"""/api/v1/quick-replies: the canned answers the key's user may use (the shared ones and
their own), and their upkeep: shared ones by admins (`shared: true`), one's own by anyone.
Placeholders `{client_name}`, `{manager_name}`, `{company_name}` stay in the text as
written (they are filled when a reply is picked); any other is refused with 422."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import ConfigDict

from admin_web.api.declare import Api, Call, json
from admin_web.api.types import Answer, Body, Id, named
from crm import quick_replies
from crm.models import QuickReply as QuickReplyRow

api = Api("quick replies")
Title = Annotated[str, named(quick_replies.MAX_TITLE)]
Text = Annotated[str, named(quick_replies.MAX_TEXT)]


class QuickReply(Answer):
    id: Id
    title: str
    text: str
    shared: bool
    owner_id: Id | None


class QuickReplies(Answer):
    items: list[QuickReply]
    placeholders: list[str]


class NewQuickReply(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"title": "Приветствие", "text": "Здравствуйте, {client_name}!", "shared": True}
            ]
        }
    )

    title: Title
    text: Text
    shared: bool = False


class QuickReplyChanges(Body):
    title: Title | None = None
    text: Text | None = None


def reply_json(row: QuickReplyRow) -> QuickReply:
    owner = row.owner_id  # type: ignore[attr-defined]
    return QuickReply(
        id=row.id, title=row.title, text=row.text, shared=owner is None, owner_id=owner
    )


@api.get("/quick-replies", "Quick replies the key's user may use: shared first, then own",
         answers={200: QuickReplies})  # fmt: skip
async def list_quick_replies(call: Call[None, None]) -> web.StreamResponse:
    rows = await quick_replies.quick_replies_for(call.user)
    return json(
        QuickReplies(
            items=[reply_json(r) for r in rows], placeholders=list(quick_replies.PLACEHOLDERS)
        )
    )


@api.post("/quick-replies", "Add a quick reply (a shared one: admins)", body=NewQuickReply,
          answers={201: QuickReply}, errors=(403,))  # fmt: skip
async def create(call: Call[NewQuickReply, None]) -> web.StreamResponse:
    body = call.body
    row = await quick_replies.create_quick_reply(
        body.title, body.text, shared=body.shared, actor=call.user
    )
    return json(reply_json(row), status=201)


@api.get("/quick-replies/{id}", "One quick reply", answers={200: QuickReply})
async def show(call: Call[None, None]) -> web.StreamResponse:
    return json(reply_json(await quick_replies.get_quick_reply(call.id, call.user)))


@api.patch("/quick-replies/{id}", "Change a quick reply (a shared one: admins)",
           body=QuickReplyChanges, answers={200: QuickReply}, errors=(403,))  # fmt: skip
async def change(call: Call[QuickReplyChanges, None]) -> web.StreamResponse:
    row = await quick_replies.update_quick_reply(
        call.id, title=call.body.title, text=call.body.text, actor=call.user
    )
    return json(reply_json(row))


@api.delete("/quick-replies/{id}", "Delete a quick reply (a shared one: admins)",
            answers={204: None}, errors=(403,))  # fmt: skip
async def remove(call: Call[None, None]) -> web.StreamResponse:
    await quick_replies.delete_quick_reply(call.id, actor=call.user)
    return web.Response(status=204)

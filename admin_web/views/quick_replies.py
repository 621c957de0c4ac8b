"""Quick replies in the panel: the admin's shared list (/quick-replies/shared), each user's
own (/quick-replies, the shared ones listed beside them to read), and the list a
conversation's reply box picks from (/inbox/{id}/quick-replies: JSON, the placeholders
filled for that conversation's client and the reader; static/quick_replies.js shows it when
`/` is typed)."""

from __future__ import annotations

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin, require_user
from admin_web.render import flash, gettext_for, redirect, render
from crm import quick_replies
from crm.access import access_conversation
from crm.i18n import N_
from crm.models import Client

routes = web.RouteTableDef()


def _back(shared: bool) -> str:
    return "/quick-replies/shared" if shared else "/quick-replies"


@routes.get("/quick-replies")
async def own_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    return await render(
        request,
        "quick_replies.html",
        {
            "shared_page": False,
            "items": await quick_replies.own_quick_replies(user),
            "others": await quick_replies.shared_quick_replies(),
            "placeholders": quick_replies.PLACEHOLDERS,
        },
    )


@routes.get("/quick-replies/shared")
async def shared_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    return await render(
        request,
        "quick_replies.html",
        {
            "shared_page": True,
            "items": await quick_replies.shared_quick_replies(),
            "others": [],
            "placeholders": quick_replies.PLACEHOLDERS,
        },
    )


@routes.post("/quick-replies")
async def add(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    form = await request.post()
    shared = forms.flag(form, "shared")
    await quick_replies.create_quick_reply(
        forms.text(form, "title"), forms.text(form, "text"), shared=shared, actor=user
    )
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(_back(shared))


@routes.post(r"/quick-replies/{id:\d+}")
async def edit(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    form = await request.post()
    row = await quick_replies.update_quick_reply(
        forms.match_int(request.match_info["id"]),
        title=forms.text(form, "title"),
        text=forms.text(form, "text"),
        actor=user,
    )
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(_back(row.owner_id is None))  # type: ignore[attr-defined]


@routes.post(r"/quick-replies/{id:\d+}/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    reply_id = forms.match_int(request.match_info["id"])
    row = await quick_replies.get_quick_reply(reply_id, user)
    await quick_replies.delete_quick_reply(reply_id, actor=user)
    await flash(request, gettext_for(request, N_("Deleted")))
    return redirect(_back(row.owner_id is None))  # type: ignore[attr-defined]


@routes.get(r"/inbox/{id:\d+}/quick-replies")
async def for_conversation(request: web.Request) -> web.StreamResponse:
    """The quick replies the reader may use, filled for this conversation (JSON: the page
    inserts the text as text, never as markup)."""
    user = require_user(request)
    conversation = await access_conversation(user, forms.match_int(request.match_info["id"]))
    client = await Client.get(id=conversation.client_id)  # type: ignore[attr-defined]
    values = await quick_replies.values_for(client, user)
    items = [
        {
            "id": r.id,
            "title": r.title,
            "text": quick_replies.fill(r, values),
            "shared": r.owner_id is None,  # type: ignore[attr-defined]
        }
        for r in await quick_replies.quick_replies_for(user)
    ]
    return web.json_response({"items": items}, headers={"Cache-Control": "no-store"})

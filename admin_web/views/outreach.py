"""Writing first from the client card (/clients/{id}/write): the channels the reader may
write to this client through (crm.outreach), the others with why; the message is queued
through the outbox as a reply is, and the new conversation's page opens."""

from __future__ import annotations

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_user
from admin_web.render import flash, gettext_for, redirect, render
from admin_web.views.desk import wake_outbox
from admin_web.views.desk_live import changed
from crm import outreach
from crm.access import access_client
from crm.i18n import N_

routes = web.RouteTableDef()


@routes.get(r"/clients/{id:\d+}/write")
async def write_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    client = await access_client(user, forms.match_int(request.match_info["id"]))
    ways = await outreach.ways_to_write(user, client)
    return await render(
        request,
        "client_write.html",
        {
            "client": client,
            "offers": ways.offers,
            "not_offered": ways.not_offered,
            "addresses": ways.addresses,
        },
    )


@routes.post(r"/clients/{id:\d+}/write")
async def write(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    client_id = forms.match_int(request.match_info["id"])
    form = await request.post()
    conversation, _ = await outreach.start_conversation(
        client_id,
        forms.integer(form, "channel_id") or 0,
        actor=user,
        text=forms.text(form, "text"),
        subject=forms.text(form, "subject"),
        address=forms.text(form, "address"),
    )
    wake_outbox(request.app)
    await changed(request.app, "message", conversation.id)
    await flash(request, gettext_for(request, N_("The message is queued")))
    return redirect(f"/inbox/{conversation.id}")

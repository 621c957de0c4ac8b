"""Writing first from the client card (/clients/{id}/write): the channels the reader may
write to this client through (crm.outreach), the others with why; the message is queued
through the outbox as a reply is, and the new conversation's page opens. Photos and
documents go along as in the reply box: a file the channel cannot take (over the
platform's limit, a Viber file without CRMHUB_PUBLIC_URL) is refused before anything is
created or queued."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_user
from admin_web.keys import SETTINGS
from admin_web.render import flash, gettext_for, redirect, render
from admin_web.views.desk import uploaded_files, wake_outbox
from admin_web.views.desk_live import changed
from crm import outreach
from crm.access import access_client
from crm.i18n import N_
from crm.models import Channel
from inbox.reply_limits import check_reply

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
    public_url = request.app[SETTINGS].public_url

    async def attach(channel: Channel) -> list[dict[str, Any]]:
        """The chosen files, refused when the channel cannot take them."""
        attachments = await uploaded_files(form, channel)
        check_reply(channel.kind.value, attachments, public_url=public_url)
        return attachments

    conversation, _ = await outreach.start_conversation(
        client_id,
        forms.integer(form, "channel_id") or 0,
        actor=user,
        text=forms.text(form, "text"),
        subject=forms.text(form, "subject"),
        address=forms.text(form, "address"),
        attach=attach,
    )
    wake_outbox(request.app)
    await changed(request.app, "message", conversation.id)
    await flash(request, gettext_for(request, N_("The message is queued")))
    return redirect(f"/inbox/{conversation.id}")

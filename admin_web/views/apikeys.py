"""API keys: created here (shown once), each acting as one user; revoked here."""

from __future__ import annotations

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin
from admin_web.render import flash, gettext_for, redirect, render
from crm.apikeys import create_key, list_keys, revoke_key
from crm.i18n import N_
from crm.models import User

routes = web.RouteTableDef()


@routes.get("/api-keys")
async def keys_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    return await render(
        request,
        "apikeys.html",
        {
            "keys": await list_keys(),
            "people": await User.filter(is_active=True).order_by("full_name"),
            "new_key": None,
        },
    )


@routes.post("/api-keys")
async def key_create(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    user_id = forms.integer(form, "user_id", required=False) or admin.id
    row, key = await create_key(forms.text(form, "name"), user_id, actor=admin)
    # Shown once, on this very response: it is never stored or shown again.
    return await render(
        request,
        "apikeys.html",
        {
            "keys": await list_keys(),
            "people": await User.filter(is_active=True).order_by("full_name"),
            "new_key": key,
            "new_name": row.name,
        },
    )


@routes.post(r"/api-keys/{id:\d+}/revoke")
async def key_revoke(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    await revoke_key(forms.match_int(request.match_info["id"]), actor=admin)
    await flash(request, gettext_for(request, N_("The key is revoked")))
    return redirect("/api-keys")

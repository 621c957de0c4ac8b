"""Editable lists: tags, loss reasons and inquiry rejection reasons."""

from __future__ import annotations

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin
from admin_web.render import flash, gettext_for, redirect, render
from crm import scenarios, tags
from crm.errors import NotFound
from crm.i18n import N_
from crm.models import ReasonKind

routes = web.RouteTableDef()


@routes.get("/tags")
async def tags_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    return await render(request, "tags.html", {"tags": await tags.list_tags()})


@routes.post("/tags")
async def tag_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    tag = await tags.create_tag(forms.text(form, "name"), actor=admin)
    await flash(request, gettext_for(request, N_("Tag \u201c{name}\u201d added"), name=tag.name))
    return redirect("/tags")


@routes.post(r"/tags/{id:\d+}/rename")
async def tag_rename(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    tag_id = forms.match_int(request.match_info["id"])
    await tags.rename_tag(tag_id, forms.text(form, "name"), actor=admin)
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect("/tags")


@routes.post(r"/tags/{id:\d+}/delete")
async def tag_delete(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    await tags.delete_tag(forms.match_int(request.match_info["id"]), actor=admin)
    await flash(request, gettext_for(request, N_("Tag deleted")))
    return redirect("/tags")


@routes.get("/reasons")
async def reasons_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    return await render(
        request,
        "reasons.html",
        {
            "loss": await scenarios.reasons(ReasonKind.LOSS),
            "rejection": await scenarios.reasons(ReasonKind.REJECTION),
        },
    )


def _kind(request: web.Request) -> ReasonKind:
    try:
        return ReasonKind(request.match_info["kind"])
    except ValueError:
        raise NotFound() from None


@routes.post("/reasons/{kind}")
async def reason_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    kind = _kind(request)
    form = await request.post()
    await scenarios.add_reason(kind, forms.text(form, "text"), actor=admin)
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect("/reasons")


@routes.post(r"/reasons/{id:\d+}/retire")
async def reason_retire(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    await scenarios.retire_reason(forms.match_int(request.match_info["id"]), actor=admin)
    await flash(request, gettext_for(request, N_("Removed from the list")))
    return redirect("/reasons")

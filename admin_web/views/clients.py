"""The client list: filters (text, tag, responsible, relation type, kind, any custom
field), multi-select and bulk edit of fields, custom fields included."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin, require_user
from admin_web.render import back_url, flash, gettext_for, locale_of, redirect, render
from crm import clients as client_service
from crm import fields, labels
from crm.client_list import ClientFilters, find_clients, matching_ids
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import Tag, User
from crm.normalize import whole_number
from crm.reminders import overdue_clients

routes = web.RouteTableDef()

FILTER_KEYS = ("q", "tag_id", "responsible_id", "relation_type", "kind", "field_id", "field_value")


def relation_choices(request: web.Request) -> list[tuple[str, str]]:
    return [(str(r), labels.text(n, locale_of(request))) for r, n in labels.RELATION_TYPE.items()]


def kind_choices(request: web.Request) -> list[tuple[str, str]]:
    return [(str(k), labels.text(n, locale_of(request))) for k, n in labels.CLIENT_KIND.items()]


def _int(raw: str | None) -> int | None:
    return whole_number((raw or "").strip())


def read_filters(values: Any) -> ClientFilters:
    """Filters from the query string (or the bulk form's copy of it); junk is ignored."""
    return ClientFilters(
        q=forms.searched(values.get("q"), "q"),
        tag_id=_int(values.get("tag_id")),
        responsible_id=_int(values.get("responsible_id")),
        relation_type=str(values.get("relation_type", "")),
        kind=str(values.get("kind", "")),
        field_id=_int(values.get("field_id")),
        field_value=forms.searched(values.get("field_value"), "field_value"),
    )


@routes.get("/clients")
async def clients_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    filters = read_filters(request.query)
    page = _int(request.query.get("page")) or 1
    rows, has_more = await find_clients(user, filters, page=max(page, 1))
    query = {k: request.query[k] for k in FILTER_KEYS if request.query.get(k)}
    definitions = await fields.definitions_for()
    return await render(
        request,
        "clients.html",
        {
            "rows": rows,
            "overdue": await overdue_clients([c.id for c in rows]),
            "page": page,
            "has_more": has_more,
            "filters": filters,
            "filter_query": query,
            "pager_base": "/clients?" + (urlencode(query) + "&" if query else ""),
            "tags": await Tag.all().order_by("name"),
            "people": await User.filter(is_active=True).order_by("full_name"),
            "relations": relation_choices(request),
            "kinds": kind_choices(request),
            "relation_names": dict(relation_choices(request)),
            "definitions": definitions,
        },
    )


def _custom_changes(form: forms.Form, definitions: list[Any]) -> dict[int, Any]:
    """Custom fields the bulk form sets: a chosen value sets it; empty leaves it alone."""
    custom: dict[int, Any] = {}
    for definition in definitions:
        raw = forms.text(form, f"field_{definition.id}")
        if raw:
            custom[definition.id] = raw
    return custom


@routes.post("/clients/bulk")
async def clients_bulk(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    if forms.flag(form, "all_matching"):
        ids = await matching_ids(admin, read_filters(form))
    else:
        ids = forms.ids(form, "client_ids")
    changes: dict[str, Any] = {}
    for key in ("relation_type", "responsible_id"):
        if forms.text(form, key):
            changes[key] = forms.text(form, key)
    tags_add = [t.strip() for t in forms.text(form, "tags_add").split(",") if t.strip()]
    if tags_add:
        changes["tags_add"] = tags_add
    custom = _custom_changes(form, await fields.definitions_for())
    if not changes and not custom:
        raise ValidationFailed.field("changes", N_("Choose what to change"))
    done = await client_service.bulk_update(ids, changes, actor=admin, custom=custom)
    await flash(request, gettext_for(request, N_("Updated {n} clients"), n=done.updated))
    return redirect(back_url(request, form))

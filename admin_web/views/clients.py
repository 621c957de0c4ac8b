"""The client list: filters (text, tag, responsible, relation type, kind, any custom
field; list and flag fields by a chosen value), columns sorted by a click on the header
(the order kept in the query string), the total, multi-select and bulk edit of fields
(custom fields included, tags added or removed; a segment or an ABC/XYZ class is a filter
like the others, so bulk edit reaches a segment's members), and the filtered list exported to CSV
(streamed) or XLSX (built off the event loop)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from babel.numbers import format_decimal

from admin_web import forms
from admin_web.auth import require_admin, require_user
from admin_web.render import back_url, flash, gettext_for, locale_of, redirect, render
from crm import client_export, fields, labels
from crm import clients as client_service
from crm.client_list import (
    SORT_KEYS,
    ClientFilters,
    Total,
    count_clients,
    find_clients,
    matching_ids,
    next_cursor,
    shown_contacts,
    sort_order,
)
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import Segment, Tag, User
from crm.normalize import whole_number
from crm.reminders import overdue_clients

routes = web.RouteTableDef()

FILTER_KEYS = (
    "q",
    "tag_id",
    "responsible_id",
    "relation_type",
    "kind",
    "field_id",
    "field_value",
    "segment_id",
    "abc",
    "xyz",
)
CHOICE_KEY = re.compile(r"cf_(\d{1,9})")  # a list or flag field's chosen value
SORT_TITLES = {
    "name": N_("Client"),
    "last_contact": N_("Last contact"),
    "responsible": N_("Responsible"),
    "created": N_("Created"),
}
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


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
        segment_id=_int(values.get("segment_id")),
        abc=str(values.get("abc", ""))[:1],
        xyz=str(values.get("xyz", ""))[:1],
        choices=tuple(
            sorted(
                (int(m.group(1)), str(value).strip())
                for key, value in values.items()
                if (m := CHOICE_KEY.fullmatch(key)) and str(value).strip()
            )
        ),
    )


def filter_query(values: Any) -> dict[str, str]:
    """The filters of a query string (or form) as they are kept in links."""
    keep = {k: str(values[k]) for k in FILTER_KEYS if values.get(k)}
    keep |= {k: str(v) for k, v in values.items() if CHOICE_KEY.fullmatch(k) and str(v).strip()}
    return keep


def read_sort(values: Any) -> str:
    sort = str(values.get("sort") or "name")
    sort_order(sort)  # an unknown column is refused
    return sort


def sort_links(query: dict[str, str], sort: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (the current column: the other way)
    and its mark (▲ ascending, ▼ descending, nothing)."""
    key, descending = sort_order(sort)
    links = {}
    for column in SORT_KEYS:
        target = (key if descending else f"-{key}") if column == key else column
        mark = ("▼" if descending else "▲") if column == key else ""
        links[column] = {"href": "/clients?" + urlencode({**query, "sort": target}), "mark": mark}
    return links


def total_text(request: web.Request, total: Any) -> str:
    number = format_decimal(total.count, locale=locale_of(request))
    if total.estimate:
        return gettext_for(request, N_("About {n} clients (an estimate)"), n=number)
    if total.more:
        return gettext_for(request, N_("More than {n} clients"), n=number)
    return gettext_for(request, N_("Clients found: {n}"), n=number)


@routes.get("/clients")
async def clients_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    filters = read_filters(request.query)
    sort = read_sort(request.query)
    page = _int(request.query.get("page")) or 1
    after = str(request.query.get("after", ""))[:1000] or None
    rows, has_more = await find_clients(user, filters, page=max(page, 1), sort=sort, after=after)
    following = next_cursor(rows, sort, has_more)
    query = filter_query(request.query)
    sorted_query = {**query, "sort": sort} if sort != "name" else query
    definitions = await fields.definitions_for()
    chosen = {str(fid): value for fid, value in filters.choices}
    return await render(
        request,
        "clients.html",
        {
            "rows": rows,
            "overdue": await overdue_clients([c.id for c in rows]),
            "page": page,
            "has_more": has_more,
            "after": after,
            "next_after": following,
            "filters": filters,
            "filter_query": query,
            "pager_base": "/clients?" + (urlencode(sorted_query) + "&" if sorted_query else ""),
            "sort_links": sort_links(query, sort),
            "sort_titles": SORT_TITLES,
            "total": total_text(
                request,
                Total(len(rows))  # the whole list on its first page: counted already
                if page == 1 and after is None and not has_more
                else await count_clients(user, filters),
            ),
            "last_contact": shown_contacts(rows),
            "chosen": chosen,
            "request_sort": sort if sort != "name" else "",
            "export_query": urlencode(sorted_query),
            "tags": await Tag.all().order_by("name"),
            "people": await User.filter(is_active=True).order_by("full_name"),
            "relations": relation_choices(request),
            "kinds": kind_choices(request),
            "relation_names": dict(relation_choices(request)),
            "definitions": definitions,
            "segments": await Segment.all().order_by("name").values_list("id", "name"),
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
    tags_remove = [str(v) for v in form.getall("tags_remove", []) if str(v).strip()]
    if tags_remove:
        changes["tags_remove"] = tags_remove
    custom = _custom_changes(form, await fields.definitions_for())
    if not changes and not custom:
        raise ValidationFailed.field("changes", N_("Choose what to change"))
    done = await client_service.bulk_update(ids, changes, actor=admin, custom=custom)
    await flash(request, gettext_for(request, N_("Updated {n} clients"), n=done.updated))
    return redirect(back_url(request, form))


def _export_spec(request: web.Request, user: Any) -> client_export.ExportSpec:
    return client_export.ExportSpec(
        actor=user,
        filters=read_filters(request.query),
        sort=read_sort(request.query),
        timezone=user.timezone,
        locale=locale_of(request),
        t=lambda msgid: gettext_for(request, msgid),
    )


@routes.get("/clients/export.csv")
async def clients_export_csv(request: web.Request) -> web.StreamResponse:
    return await _export(request, "csv")


@routes.get("/clients/export.xlsx")
async def clients_export_xlsx(request: web.Request) -> web.StreamResponse:
    return await _export(request, "xlsx")


async def _export(request: web.Request, fmt: str) -> web.StreamResponse:
    """Every matching client the reader may see, up to client_export.EXPORT_MAX."""
    user = require_user(request)
    spec = _export_spec(request, user)
    ids = await client_export.matching_in_order(spec)
    headers = {
        "Content-Type": MEDIA[fmt],
        "Content-Disposition": f'attachment; filename="clients.{fmt}"',
        "Cache-Control": "no-store",
    }
    if fmt == "xlsx":
        return web.Response(body=await client_export.xlsx_bytes(spec, ids), headers=headers)
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    async for chunk in client_export.csv_chunks(spec, ids):
        await response.write(chunk)
    await response.write_eof()
    return response

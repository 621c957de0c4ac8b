"""Segments: the list, the rule builder (admin_web.segment_form; a server-rendered form,
static/segments.js only re-draws a row when its field changes), recompute on demand, the
composition report (who is in, since when, who left) and the AB/XYZ matrix report. A
segment's members are the client list filtered by it (/clients?segment_id=N)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_user
from admin_web.render import flash, gettext_for, locale_of, redirect, render
from admin_web.segment_form import (
    FIELD_GROUPS,
    OP_LABELS,
    PERIOD_LABELS,
    Builder,
    GroupRows,
    Row,
    apply_action,
    choices_for,
    from_form,
    from_rule,
    normalize,
    ops_for,
    widget_for,
)
from crm import clock
from crm.errors import PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.models import User
from crm.normalize import whole_number
from crm.segments import abcxyz, service
from crm.segments.members import recompute, recompute_now

routes = web.RouteTableDef()
LEFT_DAYS = (7, 30, 90, 365)


def _editor(request: web.Request) -> User:
    user = require_user(request)
    if not user.sees_everything:
        raise PermissionDenied()
    return user


def _id(request: web.Request) -> int:
    value = whole_number(request.match_info["segment_id"])
    if value is None:
        raise web.HTTPNotFound()
    return value


@routes.get("/segments")
async def segments_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    return await render(request, "segments.html", {"listed": await service.list_segments(user)})


async def _builder_page(
    request: web.Request,
    builder: Builder,
    *,
    segment_id: int | None,
    name: str,
    description: str,
    errors: dict[str, str] | None = None,
) -> web.StreamResponse:
    choices = await choices_for(locale_of(request))
    normalize(builder, choices)
    rows = [
        [
            {"row": row, "ops": ops_for(row, choices), "widget": widget_for(row, choices)}
            for row in group.rows
        ]
        for group in builder.groups
    ]
    return await render(
        request,
        "segment_edit.html",
        {
            "builder": builder,
            "rows": rows,
            "choices": choices,
            "field_groups": FIELD_GROUPS,
            "op_labels": OP_LABELS,
            "period_labels": PERIOD_LABELS,
            "segment_id": segment_id,
            "name": name,
            "description": description,
            "errors": errors or {},
        },
        status=400 if errors else 200,
    )


@routes.get("/segments/new")
async def segment_new(request: web.Request) -> web.StreamResponse:
    _editor(request)
    builder = Builder(groups=[GroupRows(rows=[Row()])])
    return await _builder_page(request, builder, segment_id=None, name="", description="")


@routes.get("/segments/{segment_id}/edit")
async def segment_edit(request: web.Request) -> web.StreamResponse:
    _editor(request)
    segment = await service.get_segment(_id(request))
    return await _builder_page(
        request,
        from_rule(segment.rule),
        segment_id=segment.id,
        name=segment.name,
        description=segment.description,
    )


@routes.post("/segments/new")
async def segment_create(request: web.Request) -> web.StreamResponse:
    return await _save(request, None)


@routes.post("/segments/{segment_id}/edit")
async def segment_update(request: web.Request) -> web.StreamResponse:
    return await _save(request, _id(request))


async def _save(request: web.Request, segment_id: int | None) -> web.StreamResponse:
    user = _editor(request)
    if segment_id is not None:
        await service.get_segment(segment_id)
    form = await request.post()
    builder = from_form(form)
    name, description = forms.text(form, "name"), forms.text(form, "description")
    action = forms.text(form, "action") or "save"
    if action != "save":
        apply_action(builder, action)
        return await _builder_page(
            request, builder, segment_id=segment_id, name=name, description=description
        )
    try:
        if segment_id is None:
            segment = await service.create_segment(
                name, builder.rule(), description=description, actor=user
            )
        else:
            segment = await service.update_segment(
                segment_id, name, builder.rule(), description=description, actor=user
            )
    except ValidationFailed as error:
        messages = error.field_messages(locale_of(request))
        return await _builder_page(
            request,
            builder,
            segment_id=segment_id,
            name=name,
            description=description,
            errors=messages or {"rule": error.render(locale_of(request))},
        )
    outcome = await recompute(segment)
    await flash(
        request,
        gettext_for(request, N_("Segment saved: {n} clients"), n=outcome.members),
    )
    return redirect(f"/segments/{segment.id}")


@routes.post("/segments/{segment_id}/recompute")
async def segment_recompute(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    outcome = await recompute_now(_id(request), actor=user)
    await flash(
        request,
        gettext_for(
            request,
            N_("Recomputed: {n} clients, {joined} joined, {left} left"),
            n=outcome.members,
            joined=outcome.joined,
            left=outcome.left,
        ),
    )
    return redirect(f"/segments/{_id(request)}")


@routes.post("/segments/{segment_id}/delete")
async def segment_delete(request: web.Request) -> web.StreamResponse:
    user = _editor(request)
    await service.delete_segment(_id(request), actor=user)
    await flash(request, gettext_for(request, N_("Segment deleted")))
    return redirect("/segments")


@routes.get("/segments/{segment_id}")
async def segment_page(request: web.Request) -> web.StreamResponse:
    """The composition report: members since when, and who left in the last N days."""
    user = require_user(request)
    segment = await service.get_segment(_id(request))
    days = whole_number(request.query.get("left_days", "")) or 30
    days = days if days in LEFT_DAYS else 30
    page = whole_number(request.query.get("page", "")) or 1
    members, gone, more = await service.composition(
        segment.id, actor=user, since=clock.now() - timedelta(days=days), page=page
    )
    counts = {s.segment.id: s.members for s in await service.list_segments(user)}
    return await render(
        request,
        "segment.html",
        {
            "segment": segment,
            "members": members,
            "gone": gone,
            "more": more,
            "page": page,
            "left_days": days,
            "left_choices": LEFT_DAYS,
            "visible": counts.get(segment.id, 0),
        },
    )


@routes.get("/reports/abcxyz")
async def abcxyz_page(request: web.Request) -> web.StreamResponse:
    """The AB/XYZ matrix: clients and revenue per pair of classes; each cell links to the
    client list filtered by both classes."""
    user = require_user(request)
    cells = await abcxyz.matrix(user)
    grid: dict[str, dict[str, Any]] = {a: {} for a in "ABC"}
    for cell in cells:
        grid[cell.abc][cell.xyz] = cell
    totals = {
        "clients": sum(c.clients for c in cells),
        "revenue": sum((c.revenue for c in cells), start=cells[0].revenue * 0),
    }
    return await render(request, "report_abcxyz.html", {"grid": grid, "totals": totals})

"""The client portrait: sections and custom fields (add, edit, reorder, move), list values."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin
from admin_web.render import flash, gettext_for, redirect, render
from crm import fields
from crm.errors import NotFound, ValidationFailed
from crm.i18n import N_
from crm.models import BelongsTo, FieldDefinition, FieldSection, FieldType

routes = web.RouteTableDef()

TYPE_NAMES = {
    FieldType.LIST: N_("List"),
    FieldType.STRING: N_("Text"),
    FieldType.NUMBER: N_("Number"),
    FieldType.FLAG: N_("Yes / no"),
    FieldType.DATE: N_("Date"),
}
BELONGS_NAMES = {
    BelongsTo.ALL: N_("All clients"),
    BelongsTo.LEGAL: N_("Legal entities"),
    BelongsTo.INDIVIDUAL: N_("Individuals"),
}


async def portrait() -> list[tuple[FieldSection | None, list[FieldDefinition]]]:
    """Sections in order, each with its fields in order; fields without a section last."""
    sections = await FieldSection.all().order_by("position", "id")
    definitions = await FieldDefinition.all().order_by("position", "id").prefetch_related("options")
    grouped: dict[int | None, list[FieldDefinition]] = {s.id: [] for s in sections}
    grouped[None] = []
    for definition in definitions:
        grouped.setdefault(definition.section_id, []).append(definition)  # type: ignore[attr-defined]
    for items in grouped.values():
        for definition in items:
            definition.sorted_options = sorted(definition.options, key=lambda o: (o.position, o.id))
    result: list[tuple[FieldSection | None, list[FieldDefinition]]] = [
        (s, grouped[s.id]) for s in sections
    ]
    result.append((None, grouped[None]))
    return result


@routes.get("/fields")
async def fields_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    groups = await portrait()
    return await render(
        request,
        "fields.html",
        {
            "groups": groups,
            "section_choices": [(s.id, s.name) for s, _ in groups if s is not None],
            "types": [(t.value, gettext_for(request, n)) for t, n in TYPE_NAMES.items()],
            "belongs": [(b.value, gettext_for(request, n)) for b, n in BELONGS_NAMES.items()],
            "type_names": {t.value: gettext_for(request, n) for t, n in TYPE_NAMES.items()},
            "belongs_names": {b.value: gettext_for(request, n) for b, n in BELONGS_NAMES.items()},
        },
    )


@routes.post("/fields/sections")
async def section_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    section = await fields.create_section(forms.text(form, "name"), actor=admin)
    await flash(
        request, gettext_for(request, N_("Section \u201c{name}\u201d added"), name=section.name)
    )
    return redirect("/fields")


@routes.post(r"/fields/sections/{id:\d+}/rename")
async def section_rename(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    section_id = forms.match_int(request.match_info["id"])
    await fields.rename_section(section_id, forms.text(form, "name"), actor=admin)
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect("/fields")


async def _section_id(form: forms.Form) -> int | None:
    section_id = forms.integer(form, "section_id", required=False)
    if section_id is not None and not await FieldSection.filter(id=section_id).exists():
        raise ValidationFailed.field("section_id", N_("Unknown section"))
    return section_id


@routes.post("/fields")
async def field_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    ftype = forms.text(form, "type")
    definition = await fields.create_field(
        name=forms.text(form, "name"),
        type=ftype,
        belongs_to=forms.text(form, "belongs_to", "all"),
        section_id=await _section_id(form),
        options=forms.lines(form, "options") if ftype == FieldType.LIST.value else (),
        required=forms.flag(form, "required"),
        actor=admin,
    )
    await flash(
        request, gettext_for(request, N_("Field \u201c{name}\u201d added"), name=definition.name)
    )
    return redirect(f"/fields#field-{definition.id}")


async def _definition(request: web.Request) -> FieldDefinition:
    definition = await FieldDefinition.filter(id=forms.match_int(request.match_info["id"])).first()
    if definition is None:
        raise NotFound()
    return definition


@routes.post(r"/fields/{id:\d+}")
async def field_edit(request: web.Request) -> web.StreamResponse:
    """Rename, (de)activate, mark required, or move the field to another section (last)."""
    admin = require_admin(request)
    definition = await _definition(request)
    form = await request.post()
    changes: dict[str, Any] = {
        "name": forms.text(form, "name"),
        "required": forms.flag(form, "required"),
        "is_active": forms.flag(form, "is_active"),
    }
    section_id = await _section_id(form)
    if section_id != definition.section_id:  # type: ignore[attr-defined]
        last = await FieldDefinition.filter(section_id=section_id).order_by("-position").first()
        changes["section_id"] = section_id
        changes["position"] = (last.position + 1) if last else 0
    await fields.update_field(definition.id, changes, actor=admin)
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(f"/fields#field-{definition.id}")


@routes.post(r"/fields/{id:\d+}/move")
async def field_move(request: web.Request) -> web.StreamResponse:
    """One place up or down within its section."""
    admin = require_admin(request)
    definition = await _definition(request)
    form = await request.post()
    direction = forms.text(form, "direction")
    if direction not in ("up", "down"):
        raise ValidationFailed.field("direction", N_("Unknown choice"))
    siblings = await FieldDefinition.filter(
        section_id=definition.section_id  # type: ignore[attr-defined]
    ).order_by("position", "id")
    order = [d.id for d in siblings]
    index = order.index(definition.id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        await fields.reorder_fields(order, actor=admin)
    return redirect(f"/fields#field-{definition.id}")


@routes.post(r"/fields/{id:\d+}/options")
async def option_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    definition = await _definition(request)
    form = await request.post()
    option = await fields.add_option(definition.id, forms.text(form, "value"), actor=admin)
    await flash(
        request, gettext_for(request, N_("Value \u201c{value}\u201d added"), value=option.value)
    )
    return redirect(f"/fields#field-{definition.id}")

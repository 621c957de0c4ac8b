"""Sales scenarios: stages (add, rename, reorder, delete, the money mark), stage robots with
a template preview, the "next interaction must be planned" flag and the default scenario."""

from __future__ import annotations

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin
from admin_web.render import flash, gettext_for, redirect, render
from crm import scenarios, templates
from crm.company import get_company
from crm.errors import NotFound, ValidationFailed
from crm.i18n import N_
from crm.models import Scenario, Stage, StageAction, StageActionKind, StageMark, User
from crm.money import stages as money_stages

routes = web.RouteTableDef()

PLACEHOLDER_NAMES = {
    "client_name": N_("Client's name"),
    "manager_name": N_("Responsible manager"),
    "interest_title": N_("Interest title"),
    "interest_amount": N_("Interest amount"),
    "stage": N_("Stage"),
    "company_name": N_("Your company"),
}

# What a stage means for money facts (crm.money.stages), as the stage's form offers it
STAGE_MARKS = {
    StageMark.NONE.value: N_("No money mark"),
    StageMark.INVOICE.value: N_("Invoice issued: an invoice moves the deal here"),
    StageMark.PAID.value: N_("Paid: paying the invoices in full moves the deal here"),
}


async def sample_values(user: User, stage: str = "") -> dict[str, str]:
    """Example values a template preview is filled with."""
    company = await get_company()
    return {
        "client_name": "ООО «Ромашка»",
        "manager_name": user.full_name,
        "interest_title": "Поставка оборудования",
        "interest_amount": "150000.00",
        "stage": stage or "Предложение",
        "company_name": company.name or "crmhub",
    }


def check_template(template: str) -> None:
    unknown = templates.unknown_placeholders(template)
    if unknown:
        raise ValidationFailed.field(
            "template",
            N_("Unknown placeholders: {names}"),
            names=", ".join("{" + name + "}" for name in unknown),
        )


async def _scenario(request: web.Request) -> Scenario:
    return await scenarios.get_scenario(forms.match_int(request.match_info["id"]))


async def _stage(request: web.Request) -> Stage:
    stage = await Stage.filter(id=forms.match_int(request.match_info["id"])).first()
    if stage is None:
        raise NotFound()
    return stage


@routes.get("/scenarios")
async def scenarios_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    items = await Scenario.all().order_by("id").prefetch_related("stages")
    return await render(request, "scenarios.html", {"scenarios": items})


@routes.post("/scenarios")
async def scenario_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    scenario = await scenarios.create_scenario(
        forms.text(form, "name"),
        forms.lines(form, "stages"),
        require_next_step=forms.flag(form, "require_next_step"),
        is_default=forms.flag(form, "is_default"),
        actor=admin,
    )
    await flash(
        request, gettext_for(request, N_("Scenario \u201c{name}\u201d created"), name=scenario.name)
    )
    return redirect(f"/scenarios/{scenario.id}")


@routes.get(r"/scenarios/{id:\d+}")
async def scenario_page(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    scenario = await _scenario(request)
    stages = await scenarios.stages_of(scenario.id)
    actions = await StageAction.filter(stage_id__in=[s.id for s in stages]).order_by(
        "position", "id"
    )
    by_stage: dict[int, list[tuple[StageAction, str]]] = {s.id: [] for s in stages}
    for action in actions:
        stage_id: int = action.stage_id  # type: ignore[attr-defined]
        preview = ""
        if action.kind == StageActionKind.SEND_MESSAGE:
            name = next(s.name for s in stages if s.id == stage_id)
            values = await sample_values(admin, name)
            preview = templates.render(str(action.params.get("template", "")), values)
        by_stage[stage_id].append((action, preview))
    placeholders = [
        ("{" + key + "}", gettext_for(request, text)) for key, text in PLACEHOLDER_NAMES.items()
    ]
    return await render(
        request,
        "scenario.html",
        {
            "scenario": scenario,
            "stages": stages,
            "robots": by_stage,
            "placeholders": placeholders,
            "stage_marks": [(k, gettext_for(request, t)) for k, t in STAGE_MARKS.items()],
        },
    )


@routes.post(r"/scenarios/{id:\d+}")
async def scenario_edit(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    scenario = await _scenario(request)
    form = await request.post()
    await scenarios.update_scenario(
        scenario.id,
        {
            "name": forms.text(form, "name"),
            "require_next_step": forms.flag(form, "require_next_step"),
            "allow_past_planning": forms.flag(form, "allow_past_planning"),
            "is_default": forms.flag(form, "is_default"),
            "is_active": forms.flag(form, "is_active"),
        },
        actor=admin,
    )
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(f"/scenarios/{scenario.id}")


@routes.post(r"/scenarios/{id:\d+}/stages")
async def stage_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    scenario = await _scenario(request)
    form = await request.post()
    stage = await scenarios.add_stage(scenario.id, forms.text(form, "name"), actor=admin)
    await flash(
        request, gettext_for(request, N_("Stage \u201c{name}\u201d added"), name=stage.name)
    )
    return redirect(f"/scenarios/{scenario.id}#stage-{stage.id}")


@routes.post(r"/stages/{id:\d+}/rename")
async def stage_rename(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    stage = await _stage(request)
    form = await request.post()
    await scenarios.rename_stage(stage.id, forms.text(form, "name"), actor=admin)
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(f"/scenarios/{stage.scenario_id}#stage-{stage.id}")  # type: ignore[attr-defined]


@routes.post(r"/stages/{id:\d+}/mark")
async def stage_mark(request: web.Request) -> web.StreamResponse:
    """Mark the stage "invoice" or "paid" (crm.money.stages), or clear its mark."""
    admin = require_admin(request)
    stage = await _stage(request)
    form = await request.post()
    await money_stages.mark_stage(stage.id, forms.text(form, "mark"), actor=admin)
    await flash(request, gettext_for(request, N_("Saved")))
    return redirect(f"/scenarios/{stage.scenario_id}#stage-{stage.id}")  # type: ignore[attr-defined]


@routes.post(r"/stages/{id:\d+}/move")
async def stage_move(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    stage = await _stage(request)
    form = await request.post()
    direction = forms.text(form, "direction")
    if direction not in ("up", "down"):
        raise ValidationFailed.field("direction", N_("Unknown choice"))
    scenario_id: int = stage.scenario_id  # type: ignore[attr-defined]
    order = [s.id for s in await scenarios.stages_of(scenario_id)]
    index = order.index(stage.id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        await scenarios.reorder_stages(scenario_id, order, actor=admin)
    return redirect(f"/scenarios/{scenario_id}#stage-{stage.id}")


@routes.post(r"/stages/{id:\d+}/delete")
async def stage_delete(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    stage = await _stage(request)
    await scenarios.delete_stage(stage.id, actor=admin)
    await flash(
        request, gettext_for(request, N_("Stage \u201c{name}\u201d deleted"), name=stage.name)
    )
    return redirect(f"/scenarios/{stage.scenario_id}")  # type: ignore[attr-defined]


@routes.post(r"/stages/{id:\d+}/robots")
async def robot_add(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    stage = await _stage(request)
    form = await request.post()
    kind = forms.text(form, "kind")
    if kind == StageActionKind.SEND_MESSAGE.value:
        template = forms.text(form, "template")
        check_template(template)
        params: dict[str, object] = {"template": template}
    else:
        params = {
            "subject": forms.text(form, "subject"),
            "due_in_hours": forms.text(form, "due_in_hours") or "24",
        }
    await scenarios.add_stage_action(stage.id, kind, params, actor=admin)
    await flash(
        request, gettext_for(request, N_("Robot added to \u201c{name}\u201d"), name=stage.name)
    )
    return redirect(f"/scenarios/{stage.scenario_id}#stage-{stage.id}")  # type: ignore[attr-defined]


@routes.post(r"/robots/{id:\d+}/delete")
async def robot_delete(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    action = await StageAction.filter(id=forms.match_int(request.match_info["id"])).first()
    if action is None:
        raise NotFound()
    stage = await Stage.get(id=action.stage_id)  # type: ignore[attr-defined]
    await scenarios.delete_stage_action(action.id, actor=admin)
    await flash(request, gettext_for(request, N_("Robot removed")))
    return redirect(f"/scenarios/{stage.scenario_id}#stage-{stage.id}")  # type: ignore[attr-defined]


@routes.post("/scenarios/preview")
async def template_preview(request: web.Request) -> web.StreamResponse:
    """The template filled with example values, and the placeholders it does not know."""
    admin = require_admin(request)
    form = await request.post()
    template = str(form.get("template", ""))[:5000]
    unknown = templates.unknown_placeholders(template)
    return web.json_response(
        {
            "text": templates.render(template, await sample_values(admin)),
            "unknown": unknown,
            "unknown_message": gettext_for(
                request,
                N_("Unknown placeholders: {names}"),
                names=", ".join("{" + name + "}" for name in unknown),
            ),
        }
    )

"""Plans: each manager's monthly plan (an amount won and/or a number of wins), set by
admins and heads of sales; the managers report shows them against the actual figures."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_user
from admin_web.render import flash, gettext_for, redirect, render
from crm import clock, plans
from crm.errors import PermissionDenied
from crm.i18n import N_
from crm.models import Role, User

routes = web.RouteTableDef()


def _planner(request: web.Request) -> User:
    user = require_user(request)
    if not user.sees_everything:
        raise PermissionDenied()
    return user


def _month(raw: str | None, user: User) -> date:
    """ "YYYY-MM" from the query or form; this month (in the reader's zone) otherwise."""
    try:
        return date.fromisoformat(f"{(raw or '').strip()}-01")
    except ValueError:
        return plans.month_of(clock.now().astimezone(ZoneInfo(user.timezone)).date())


async def _people() -> list[User]:
    return await User.filter(is_active=True, role__in=(Role.MANAGER, Role.HEAD)).order_by(
        "full_name", "id"
    )


@routes.get("/plans")
async def plans_page(request: web.Request) -> web.StreamResponse:
    user = _planner(request)
    month = _month(request.query.get("month"), user)
    current = await plans.plans_of_month(month)
    rows: list[dict[str, Any]] = [
        {"user": person, "plan": current.get(person.id)} for person in await _people()
    ]
    return await render(request, "plans.html", {"month": month.strftime("%Y-%m"), "rows": rows})


@routes.post("/plans")
async def plans_save(request: web.Request) -> web.StreamResponse:
    user = _planner(request)
    form = await request.post()
    month = _month(forms.text(form, "month"), user)
    figures = {
        person.id: (forms.text(form, f"amount-{person.id}"), forms.text(form, f"wins-{person.id}"))
        for person in await _people()
    }
    await plans.set_plans(month, figures, actor=user)
    await flash(request, gettext_for(request, N_("Plans saved")))
    return redirect(f"/plans?month={month.strftime('%Y-%m')}")

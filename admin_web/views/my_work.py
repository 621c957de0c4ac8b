"""My work (`/work`): a manager's overdue interactions, today's and the week ahead's
(crm.my_work; an admin or a head of sales picks a manager or sees everyone's), each marked
done with a result — and the next step in the same form, which the scenario may require
(crm.interactions.complete_interaction) — or moved by an hour or to tomorrow
(crm.interactions.reschedule: the reminder is armed again). Every form carries the CSRF
token; every action checks access through crm.interactions.access_interaction."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_user
from admin_web.render import back_url, flash, gettext_for, redirect, render
from crm import clock
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.interactions import Plan, access_interaction, complete_interaction, reschedule
from crm.models import InteractionKind, Role, User
from crm.my_work import needs_next_step, work_of
from crm.normalize import whole_number

routes = web.RouteTableDef()

KIND_NAMES = {
    InteractionKind.CALL: N_("Call"),
    InteractionKind.MEETING: N_("Meeting"),
    InteractionKind.EMAIL: N_("Email"),
    InteractionKind.MESSAGE: N_("Message"),
    InteractionKind.SMS: N_("SMS"),
    InteractionKind.TASK: N_("Task"),
    InteractionKind.NOTE: N_("Note"),
    InteractionKind.SURVEY: N_("Survey"),
}
# A survey is planned by its mailing (crm.mailings.surveys), never by hand.
PLANNABLE = [k for k in KIND_NAMES if k not in (InteractionKind.NOTE, InteractionKind.SURVEY)]


def _manager_id(request: web.Request) -> int | None:
    raw = request.query.get("manager_id", "").strip()
    if not raw:
        return None
    value = whole_number(raw, max_digits=9)
    if value is None:
        raise ValidationFailed.field("manager_id", N_("Unknown choice"))
    return value


@routes.get("/work")
async def my_work_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    work = await work_of(user, manager_id=_manager_id(request))
    rows = [*work.overdue.rows, *work.today.rows, *work.week.rows]
    managers = (
        await User.filter(is_active=True, role__in=[Role.MANAGER, Role.HEAD, Role.ADMIN])
        .order_by("full_name", "id")
        .all()
        if user.sees_everything
        else []
    )
    query = {"manager_id": str(work.manager_id)} if request.query.get("manager_id") else {}
    return await render(
        request,
        "my_work.html",
        {
            "work": work,
            "sections": [
                ("overdue", N_("Overdue"), work.overdue),
                ("today", N_("Today"), work.today),
                ("week", N_("The week ahead"), work.week),
            ],
            "needs_next": await needs_next_step(rows),
            "managers": managers,
            "kind_names": {k.value: gettext_for(request, n) for k, n in KIND_NAMES.items()},
            "plannable": [(k.value, gettext_for(request, KIND_NAMES[k])) for k in PLANNABLE],
            "tomorrow": (clock.now().astimezone(ZoneInfo(user.timezone)) + timedelta(days=1))
            .date()
            .isoformat(),
            "back": "/work" + ("?" + urlencode(query) if query else ""),
        },
    )


def _next_plan(form: forms.Form, user: User) -> Plan | None:
    """The next step the done form plans, if its date is filled in."""
    day_raw = forms.text(form, "next_date")
    if not day_raw:
        return None
    kind = forms.text(form, "next_kind") or InteractionKind.CALL.value
    if kind not in {k.value for k in PLANNABLE}:
        raise ValidationFailed.field("next_kind", N_("Unknown kind of interaction"))
    try:
        day = date.fromisoformat(day_raw)
        at = time.fromisoformat(forms.text(form, "next_time") or "10:00")
    except ValueError:
        raise ValidationFailed.field("next_date", N_("Not a date")) from None
    moment = datetime.combine(day, at, ZoneInfo(user.timezone))
    if moment <= clock.now():
        raise ValidationFailed.field("next_date", N_("This moment has already passed"))
    return Plan(kind=kind, planned_at=moment, subject=forms.text(form, "next_subject"))


@routes.post("/work/{id:\\d+}/done")
async def work_done(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    form = await request.post()
    interaction_id = int(request.match_info["id"])
    await access_interaction(user, interaction_id)
    await complete_interaction(
        interaction_id,
        actor=user,
        result=forms.text(form, "result"),
        next_plan=_next_plan(form, user),
    )
    await flash(request, gettext_for(request, N_("Marked done")))
    return redirect(back_url(request, form))


@routes.post("/work/{id:\\d+}/snooze")
async def work_snooze(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    form = await request.post()
    interaction = await access_interaction(user, int(request.match_info["id"]))
    until = _snoozed_until(forms.text(form, "until"), interaction.planned_at, user.timezone)
    await reschedule(interaction.id, until, actor=user)
    await flash(request, gettext_for(request, N_("Moved")))
    return redirect(back_url(request, form))


def _snoozed_until(choice: str, planned_at: Any, tz: str) -> datetime:
    """ "hour": an hour from now; "tomorrow": tomorrow at the planned time of day."""
    now = clock.now()
    if choice == "hour":
        return now + timedelta(hours=1)
    if choice == "tomorrow":
        zone = ZoneInfo(tz)
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        at = (planned_at or now).astimezone(zone).time()
        return datetime.combine(tomorrow, at, zone)
    raise ValidationFailed.field("until", N_("Unknown choice"))

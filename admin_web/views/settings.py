"""Settings: the company, locale and time zone, client visibility, reminders, the working
calendar (hours, days, holidays), the first-reply target and the ABC/XYZ thresholds."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin
from admin_web.render import flash, gettext_for, redirect, render
from crm.company import CLASS_LIMITS, get_company, update_company
from crm.errors import ValidationFailed
from crm.i18n import N_

routes = web.RouteTableDef()


@routes.get("/settings")
async def settings_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    company = await get_company()
    return await render(
        request, "settings.html", {"company": company, "weekdays": weekdays(request)}
    )


WEEKDAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)


def weekdays(request: web.Request) -> list[tuple[int, str]]:
    """ISO weekday numbers and their names in the reader's language."""
    return [(n, gettext_for(request, name)) for n, name in enumerate(WEEKDAY_NAMES, start=1)]


def _minute(raw: str, key: str) -> int:
    """ "HH:MM" as minutes after midnight ("24:00" the day's end)."""
    hours, _, minutes = raw.partition(":")
    if not (hours.isdigit() and minutes.isdigit()) or int(minutes) > 59:
        raise ValidationFailed.field(key, N_("Enter a time like 10:30"))
    return int(hours) * 60 + int(minutes)


@routes.post("/settings")
async def settings_save(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()
    changes: dict[str, Any] = {
        key: forms.text(form, key)
        for key in ("name", "org_form", "business_kind", "default_locale", "default_timezone")
    }
    changes["inn"] = forms.text(form, "inn") or None
    changes["employees"] = forms.integer(form, "employees", required=False)
    changes["reminder_lead_minutes"] = forms.integer(form, "reminder_lead_minutes")
    changes["clients_visible_to_all"] = forms.text(form, "client_visibility") == "all"
    for key in ("work_day_start", "work_day_end"):
        changes[key] = forms.text(form, key) or None
    if "calendar" in form:  # the page's calendar part was sent (none of the days may be)
        changes["work_days"] = form.getall("work_days", [])
        changes["holidays"] = forms.text(form, "holidays")
        changes["sla_first_reply_minutes"] = forms.integer(
            form, "sla_first_reply_minutes", required=False
        )
        for key in ("mailing_from_minute", "mailing_until_minute"):
            if key in form:
                changes[key] = _minute(forms.text(form, key), key)
    for key in CLASS_LIMITS:  # ABC/XYZ thresholds, when the page sent them
        if key in form:
            changes[key] = forms.text(form, key)
    await update_company(changes, actor=admin)
    await flash(request, gettext_for(request, N_("Settings saved")))
    return redirect("/settings")

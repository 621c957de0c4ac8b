"""The company's CRM-wide settings (one row)."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from crm import normalize
from crm.errors import PermissionDenied, ValidationFailed
from crm.i18n import N_, SUPPORTED_LOCALES
from crm.models import ClientKind, Company, User
from crm.regions import check_timezone
from crm.working_time import WorkCalendar, parse_days

# ABC/XYZ thresholds (crm.segments.abcxyz), in percent
CLASS_LIMITS = ("abc_a_percent", "abc_b_percent", "xyz_x_percent", "xyz_y_percent")
EDITABLE = {
    "name",
    "inn",
    "org_form",
    "business_kind",
    "employees",
    "default_locale",
    "default_timezone",
    "clients_visible_to_all",
    "reminder_lead_minutes",
    "work_day_start",
    "work_day_end",
    "currency",
    "work_days",
    "holidays",
    "sla_first_reply_minutes",
    "mailing_from_minute",
    "mailing_until_minute",
    *CLASS_LIMITS,
}
MAX_HOLIDAYS = 400


async def get_company() -> Company:
    """The company row, created with defaults on first use."""
    company = await Company.filter(id=1).first()
    if company is None:
        company, _ = await Company.get_or_create(id=1)
    return company


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(fields={name: N_("Unknown setting") for name in sorted(unknown)})
    clean = dict(changes)
    if clean.get("inn"):
        kind = ClientKind.LEGAL if len(str(clean["inn"]).strip()) == 10 else ClientKind.INDIVIDUAL
        clean["inn"] = normalize.inn(str(clean["inn"]), kind)
    if "default_locale" in clean and clean["default_locale"] not in SUPPORTED_LOCALES:
        raise ValidationFailed.field("default_locale", N_("Unsupported language"))
    if "default_timezone" in clean:
        clean["default_timezone"] = check_timezone(
            clean["default_timezone"], field="default_timezone"
        )
    if "reminder_lead_minutes" in clean:
        lead = int(clean["reminder_lead_minutes"])
        if not 0 <= lead <= 7 * 24 * 60:
            raise ValidationFailed.field(
                "reminder_lead_minutes", N_("Must be between 0 and 10080 minutes")
            )
        clean["reminder_lead_minutes"] = lead
    for key in ("work_day_start", "work_day_end"):
        if isinstance(clean.get(key), str):
            try:
                clean[key] = time.fromisoformat(clean[key])
            except ValueError:
                raise ValidationFailed.field(key, N_("Not a time of day")) from None
    _clean_calendar(clean)
    _clean_class_limits(clean)
    return clean


def _clean_class_limits(clean: dict[str, Any]) -> None:
    """Whole percents from 1 to 99 (A's and B's shares together under 100, X under Y)."""
    for key in CLASS_LIMITS:
        if key in clean:
            value = normalize.whole_number(str(clean[key]))
            if value is None or not 1 <= value <= 99:
                raise ValidationFailed.field(key, N_("Must be between 1 and 99"))
            clean[key] = value


def _check_class_limits(company: Company) -> None:
    if company.abc_a_percent + company.abc_b_percent >= 100:
        raise ValidationFailed.field("abc_b_percent", N_("A and B together must be under 100%"))
    if company.xyz_x_percent >= company.xyz_y_percent:
        raise ValidationFailed.field("xyz_y_percent", N_("Y's limit must be above X's"))


def _clean_calendar(clean: dict[str, Any]) -> None:
    """Working days (ISO weekday digits or a list of them), holidays (dates, or text with
    dates separated by commas, spaces or lines), the SLA target in minutes."""
    if "work_days" in clean:
        raw = clean["work_days"]
        days = parse_days(raw if isinstance(raw, list | tuple | set) else str(raw or ""))
        if not days:
            raise ValidationFailed.field("work_days", N_("Choose at least one working day"))
        clean["work_days"] = "".join(str(d) for d in sorted(days))
    if "holidays" in clean:
        raw = clean["holidays"] or []
        items = re.split(r"[\s,;]+", raw.strip()) if isinstance(raw, str) else list(raw)
        dates = set()
        for item in items:
            if not item:
                continue
            try:
                dates.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
            except ValueError:
                message = N_("Dates as YYYY-MM-DD expected")
                raise ValidationFailed.field("holidays", message) from None
        if len(dates) > MAX_HOLIDAYS:
            raise ValidationFailed.field("holidays", N_("Too many dates"))
        clean["holidays"] = [d.isoformat() for d in sorted(dates)]
    if clean.get("sla_first_reply_minutes") is not None:
        sla = int(clean["sla_first_reply_minutes"])
        if not 1 <= sla <= 7 * 24 * 60:
            raise ValidationFailed.field(
                "sla_first_reply_minutes", N_("Must be between 1 and 10080 minutes")
            )
        clean["sla_first_reply_minutes"] = sla
    for key in ("mailing_from_minute", "mailing_until_minute"):
        if key in clean and not (isinstance(clean[key], int) and 0 <= clean[key] <= 24 * 60):
            raise ValidationFailed.field(key, N_("Enter a time like 10:30"))
    hours = (clean.get("mailing_from_minute"), clean.get("mailing_until_minute"))
    if hours[0] is not None and hours[0] == hours[1]:
        raise ValidationFailed.field("mailing_until_minute", N_("Mailing hours cannot be empty"))


def _wall(value: time | None) -> time | None:
    """A time of day as the wall clock reads it (tortoise may label a TimeField UTC)."""
    return None if value is None else value.replace(tzinfo=None)


def _check_hours(company: Company) -> None:
    start, end = _wall(company.work_day_start), _wall(company.work_day_end)
    if start is not None and end is not None and end != time(0) and end <= start:
        raise ValidationFailed.field("work_day_end", N_("The day must end after it starts"))


def work_calendar(company: Company) -> WorkCalendar:
    """The company's working calendar (crm.working_time) from its settings."""
    return WorkCalendar(
        timezone=company.default_timezone,
        work_days=parse_days(company.work_days),
        holidays=frozenset(date.fromisoformat(d) for d in company.holidays or ()),
        day_start=_wall(company.work_day_start),
        day_end=_wall(company.work_day_end),
    )


async def update_company(changes: dict[str, Any], *, actor: User | None) -> Company:
    """Change company settings; only admins may (None = the system, e.g. onboarding)."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()
    clean = _clean(changes)
    company = await get_company()
    company.update_from_dict(clean)
    _check_hours(company)
    _check_class_limits(company)
    await company.save()
    return company

"""The company's CRM-wide settings (one row)."""

from __future__ import annotations

from datetime import time
from typing import Any

from crm import normalize
from crm.errors import PermissionDenied, ValidationFailed
from crm.i18n import N_, SUPPORTED_LOCALES
from crm.models import ClientKind, Company, User
from crm.regions import check_timezone

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
}


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
    return clean


async def update_company(changes: dict[str, Any], *, actor: User | None) -> Company:
    """Change company settings; only admins may (None = the system, e.g. onboarding)."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()
    clean = _clean(changes)
    company = await get_company()
    company.update_from_dict(clean)
    await company.save()
    return company

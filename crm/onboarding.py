"""The first start: the company (a legal entity or a sole proprietor) and its first admin.
An install whose first admin was made by `crmhub createadmin` has no company yet: the
admin gives it at the first login (`onboard_company`), with the same checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from crm import normalize
from crm.company import get_company
from crm.errors import Conflict, PermissionDenied, ValidationFailed
from crm.i18n import N_, SUPPORTED_LOCALES, Text
from crm.models import ClientKind, Company, Role, User
from crm.regions import check_timezone
from crm.scenarios import add_default_rejection_reasons
from crm.users import MIN_PASSWORD, create_user

COMPANY_KINDS = ("legal", "sole_proprietor")


@dataclass(frozen=True)
class CompanyStep:
    """The company part of onboarding."""

    company_kind: str  # legal | sole_proprietor
    inn: str
    company_name: str  # the legal entity's name, or the proprietor's full name
    org_form: str
    business_kind: str = ""
    employees: str = ""


@dataclass(frozen=True)
class Onboarding:
    company_kind: str  # legal | sole_proprietor
    inn: str
    company_name: str  # the legal entity's name, or the proprietor's full name
    org_form: str
    admin_name: str
    admin_email: str
    admin_phone: str
    password: str
    business_kind: str = ""
    employees: str = ""
    locale: str = "ru"
    timezone: str = "Europe/Moscow"


def _check_company(
    data: CompanyStep | Onboarding, errors: dict[str, str | Text], clean: dict[str, object]
) -> None:
    """The company's fields: offenders into `errors`, cleaned values into `clean`."""
    if data.company_kind not in COMPANY_KINDS:
        errors["company_kind"] = N_("Unknown choice")
    kind = ClientKind.LEGAL if data.company_kind == "legal" else ClientKind.INDIVIDUAL
    try:
        clean["inn"] = normalize.inn(data.inn, kind)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if not data.company_name.strip():
        errors["company_name"] = N_("Required")
    raw_employees = data.employees.strip()
    employees = normalize.whole_number(raw_employees, max_digits=7)
    if raw_employees and (employees is None or not 0 < employees <= 1_000_000):
        errors["employees"] = N_("Not a number")
    clean["employees"] = employees


def _check(data: Onboarding) -> dict[str, object]:
    """Every field at once; returns the cleaned values or raises one ValidationFailed."""
    errors: dict[str, str | Text] = {}
    clean: dict[str, object] = {}
    _check_company(data, errors, clean)
    checks: dict[str, Callable[[], object]] = {
        "admin_email": lambda: normalize.email(data.admin_email, field="admin_email"),
        "admin_phone": lambda: (
            normalize.phone(data.admin_phone, field="admin_phone") if data.admin_phone else None
        ),
        "timezone": lambda: check_timezone(data.timezone),
    }
    for name, check in checks.items():
        try:
            clean[name] = check()
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if not data.admin_name.strip():
        errors["admin_name"] = N_("Required")
    if len(data.password) < MIN_PASSWORD:
        errors["password"] = Text(
            N_("The password must have at least {n} characters"), n=MIN_PASSWORD
        )
    if data.locale not in SUPPORTED_LOCALES:
        errors["locale"] = N_("Unsupported language")
    if errors:
        raise ValidationFailed(fields=errors)
    return clean


def _company_values(data: CompanyStep | Onboarding, clean: dict[str, object]) -> dict[str, object]:
    legal = data.company_kind == "legal"
    return {
        "name": data.company_name.strip()[:300],
        "inn": clean["inn"],
        "org_form": (data.org_form.strip() if legal else "ИП")[:50],
        "business_kind": data.business_kind.strip()[:100],
        "employees": clean["employees"],
        "onboarded": True,
    }


async def company_missing() -> bool:
    """No company given yet (an install made by `crmhub createadmin`)."""
    return not await Company.filter(id=1, onboarded=True).exists()


async def onboard_company(data: CompanyStep, *, actor: User) -> Company:
    """The company of an install whose admin was made on the command line; refused once it
    is given (Settings changes it then)."""
    if not actor.is_admin:
        raise PermissionDenied()
    errors: dict[str, str | Text] = {}
    clean: dict[str, object] = {}
    _check_company(data, errors, clean)
    if errors:
        raise ValidationFailed(fields=errors)
    await get_company()
    updated = await Company.filter(id=1, onboarded=False).update(**_company_values(data, clean))
    if not updated:
        raise Conflict(N_("The company is already set up: change it in Settings"))
    return await get_company()


async def onboard(data: Onboarding) -> User:
    """Record the company and create its first admin; refused once anyone exists."""
    clean = _check(data)
    if await User.exists():
        raise Conflict(N_("crmhub is already set up: log in instead"), code="already_onboarded")
    async with in_transaction():
        admin = await create_user(
            email=str(clean["admin_email"]),
            full_name=data.admin_name,
            role=Role.ADMIN,
            password=data.password,
            phone=data.admin_phone or None,
            locale=data.locale,
            timezone=str(clean["timezone"]),
            actor=None,
        )
        await get_company()
        await Company.filter(id=1).update(
            **_company_values(data, clean),
            default_locale=data.locale,
            default_timezone=clean["timezone"],
        )
        await add_default_rejection_reasons(data.locale)
    return admin

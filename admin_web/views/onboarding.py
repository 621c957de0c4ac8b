"""The first start: company and first admin, then the admin lands on Settings. After
`crmhub createadmin` (an admin, no company) the admin's first login leads to the company
step (`/onboarding/company`), and then to Settings likewise."""

from __future__ import annotations

from aiohttp import web

from admin_web.auth import log_in, require_admin
from admin_web.keys import STATE, USER
from admin_web.render import flash, gettext_for, redirect, render
from crm.i18n import N_, SUPPORTED_LOCALES
from crm.models import User
from crm.onboarding import CompanyStep, Onboarding, company_missing, onboard, onboard_company

routes = web.RouteTableDef()

BUSINESS_KINDS = (
    ("retail", N_("Retail")),
    ("wholesale", N_("Wholesale")),
    ("services", N_("Services")),
    ("manufacturing", N_("Manufacturing")),
    ("construction", N_("Construction")),
    ("it", N_("IT and software")),
    ("other", N_("Other")),
)
EMPLOYEES = ("1-5", "6-15", "16-50", "51-250", "250+")


def _business_kinds(request: web.Request) -> list[tuple[str, str]]:
    return [(key, gettext_for(request, text)) for key, text in BUSINESS_KINDS]


@routes.get("/onboarding")
async def onboarding_page(request: web.Request) -> web.StreamResponse:
    if await User.exists():
        return redirect("/login")
    return await render(
        request,
        "onboarding.html",
        {"business_kinds": _business_kinds(request), "locales": SUPPORTED_LOCALES},
    )


@routes.get("/onboarding/company")
async def company_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    if not await company_missing():
        return redirect("/settings")
    return await render(
        request, "onboarding_company.html", {"business_kinds": _business_kinds(request)}
    )


@routes.post("/onboarding/company")
async def company_submit(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    form = await request.post()

    def value(name: str, default: str = "") -> str:
        raw = form.get(name, default)
        return raw.strip() if isinstance(raw, str) else default

    await onboard_company(
        CompanyStep(
            company_kind=value("company_kind", "legal"),
            inn=value("inn"),
            company_name=value("company_name"),
            org_form=value("org_form"),
            business_kind=value("business_kind"),
            employees=value("employees"),
        ),
        actor=admin,
    )
    await flash(request, gettext_for(request, N_("Welcome! Check the settings of your company.")))
    return redirect("/settings")


@routes.post("/onboarding")
async def onboarding_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()

    def value(name: str, default: str = "") -> str:
        raw = form.get(name, default)
        return raw.strip() if isinstance(raw, str) else default

    admin = await onboard(
        Onboarding(
            company_kind=value("company_kind", "legal"),
            inn=value("inn"),
            company_name=value("company_name"),
            org_form=value("org_form"),
            admin_name=value("admin_name"),
            admin_email=value("admin_email"),
            admin_phone=value("admin_phone"),
            password=str(form.get("password", "")),
            business_kind=value("business_kind"),
            employees=value("employees"),
            locale=value("locale", "ru"),
            timezone=value("timezone", "Europe/Moscow") or "Europe/Moscow",
        )
    )
    request.app[STATE].onboarded = True
    await log_in(request, admin)
    request[USER] = admin
    await flash(request, gettext_for(request, N_("Welcome! Check the settings of your company.")))
    return redirect("/settings")

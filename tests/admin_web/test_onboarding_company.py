"""An install made by `crmhub createadmin` (an admin, no company): the admin's first login
leads to the company step, as onboarding asks for it; an empty install's login page leads
to onboarding."""

from __future__ import annotations

from tortoise.context import TortoiseContext

from crm.models import Company, Role, User
from tests.admin_web.conftest import Browser, make_user

COMPANY = {
    "company_kind": "legal",
    "inn": "7707083893",
    "org_form": "ООО",
    "company_name": "Ромашка",
    "business_kind": "retail",
    "employees": "12",
}


async def created_on_the_command_line() -> User:
    """What `crmhub createadmin` leaves: an admin and no company."""
    return await make_user(Role.ADMIN, email="boss@example.com", full_name="Anna Boss")


async def test_an_empty_installs_login_page_leads_to_onboarding(browser: Browser) -> None:
    resp = await browser.client.get("/login", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/onboarding"


async def test_the_first_login_after_createadmin_asks_for_the_company(
    browser: Browser, db: TortoiseContext
) -> None:
    admin = await created_on_the_command_line()
    status, text = await browser.login(admin.email)
    assert status == 200 and browser.page == "/onboarding/company"
    assert 'name="inn"' in text and 'name="org_form"' in text and 'name="company_name"' in text
    # Checked as onboarding checks it: nothing is written until every field is right.
    status, text = await browser.post("/onboarding/company", {**COMPANY, "inn": "7707083890"})
    assert "INN checksum is wrong" in text and 'value="Ромашка"' in text
    assert not await Company.filter(onboarded=True).exists()
    status, text = await browser.post("/onboarding/company", COMPANY)
    assert status == 200 and browser.page == "/settings"
    assert "Welcome! Check the settings of your company." in text and "Ромашка" in text
    company = await Company.get(id=1)
    assert (company.inn, company.org_form, company.employees, company.onboarded) == (
        "7707083893",
        "ООО",
        12,
        True,
    )
    # Given once: the step is closed, the next login goes where it always does.
    resp = await browser.client.get("/onboarding/company", allow_redirects=False)
    assert resp.headers["Location"] == "/settings"
    status, text = await browser.post("/onboarding/company", {**COMPANY, "company_name": "X"})
    assert "The company is already set up: change it in Settings" in text
    await browser.post("/logout")
    await browser.login(admin.email)
    assert browser.page == "/settings"


async def test_a_sole_proprietor_on_the_company_step(browser: Browser, db: TortoiseContext) -> None:
    admin = await created_on_the_command_line()
    await browser.login(admin.email)
    data = {
        **COMPANY,
        "company_kind": "sole_proprietor",
        "inn": "500100732259",
        "company_name": "Иванов Иван Иванович",
    }
    await browser.post("/onboarding/company", data)
    company = await Company.get(id=1)
    assert (company.org_form, company.name) == ("ИП", "Иванов Иван Иванович")


async def test_a_managers_login_is_not_asked_for_the_company(
    browser: Browser, db: TortoiseContext
) -> None:
    await created_on_the_command_line()
    manager = await make_user(Role.MANAGER, email="ivan@example.com")
    await browser.login(manager.email)
    assert browser.page == "/"
    status, _ = await browser.get("/onboarding/company")
    assert status == 403

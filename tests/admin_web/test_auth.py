"""Onboarding, login, sessions, CSRF, rate limit, secure headers, roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine

from admin_web.render import local_path
from crm import clock
from crm.models import Company, User
from tests.admin_web.conftest import PASSWORD, Browser, make_user

ONBOARDING = {
    "company_kind": "legal",
    "inn": "7707083893",
    "org_form": "ООО",
    "company_name": "Ромашка",
    "business_kind": "retail",
    "employees": "12",
    "admin_name": "Анна Петрова",
    "admin_email": "Anna@Example.com",
    "admin_phone": "+7 916 123-45-67",
    "password": PASSWORD,
    "locale": "en",
    "timezone": "Europe/Moscow",
}


async def test_first_start_leads_to_onboarding(browser: Browser) -> None:
    resp = await browser.client.get("/clients", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/onboarding"
    status, text = await browser.get("/onboarding")
    assert status == 200
    assert 'name="inn"' in text


async def test_onboarding_creates_company_and_admin_and_lands_on_settings(
    browser: Browser,
) -> None:
    await browser.get("/onboarding")
    resp = await browser.client.post(
        "/onboarding", data={**ONBOARDING, "_csrf": browser.token}, allow_redirects=False
    )
    assert resp.status == 303
    assert resp.headers["Location"] == "/settings"
    status, text = await browser.get("/settings")
    assert status == 200
    assert "Ромашка" in text
    admin = await User.get(email="anna@example.com")
    assert admin.is_admin and admin.phone == "+79161234567"
    company = await Company.get(id=1)
    assert (company.inn, company.org_form, company.employees) == ("7707083893", "ООО", 12)
    assert company.onboarded
    # Once done, onboarding is closed.
    resp = await browser.client.get("/onboarding", allow_redirects=False)
    assert resp.headers["Location"] == "/login"


async def test_onboarding_validates_everything_at_once_and_writes_nothing(
    browser: Browser,
) -> None:
    await browser.get("/onboarding")
    bad = {**ONBOARDING, "inn": "7707083890", "admin_email": "nope", "password": "short"}
    status, text = await browser.post("/onboarding", bad)
    assert status == 200
    assert "INN checksum is wrong" in text
    assert "Not an email address" in text
    assert "at least 8 characters" in text
    assert 'value="Ромашка"' in text  # the form comes back filled in
    assert not await User.exists()


async def test_sole_proprietor_needs_12_digit_inn(browser: Browser) -> None:
    await browser.get("/onboarding")
    data = {**ONBOARDING, "company_kind": "sole_proprietor", "company_name": "Иванов Иван"}
    _, text = await browser.post("/onboarding", data)
    assert "INN must have 12 digits" in text
    assert not await User.exists()
    _status, text = await browser.post("/onboarding", {**data, "inn": "500100732259"})
    company = await Company.get(id=1)
    assert (company.inn, company.org_form) == ("500100732259", "ИП")


async def test_onboarding_without_csrf_token_is_refused(browser: Browser) -> None:
    await browser.get("/onboarding")
    status, text = await browser.post("/onboarding", ONBOARDING, csrf=False)
    assert status == 403
    assert "form has expired" in text
    assert not await User.exists()


async def test_login_and_logout(browser: Browser, admin: User) -> None:
    status, text = await browser.login(admin.email, "wrong password")
    assert status == 401
    assert "Wrong email or password" in text
    status, text = await browser.login(admin.email)
    assert status == 200
    assert "Anna Boss" in text
    status, text = await browser.post("/logout")
    assert "You have logged out" in text
    resp = await browser.client.get("/settings", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_login_is_locked_after_five_failures(browser: Browser, admin: User) -> None:
    for _ in range(5):
        status, _text = await browser.login(admin.email, "guess")
        assert status == 401
    status, text = await browser.login(admin.email)  # even the right password now
    assert status == 429
    assert "Too many failed attempts. Try again in 15 min." in text
    with time_machine.travel(clock.now() + timedelta(minutes=16), tick=False):
        status, text = await browser.login(admin.email)
        assert status == 200


async def test_deactivated_user_cannot_log_in(browser: Browser, admin: User) -> None:
    admin.is_active = False
    await admin.save()
    status, _ = await browser.login(admin.email)
    assert status == 401


async def test_session_cookie_is_encrypted_and_http_only(browser: Browser, admin: User) -> None:
    await browser.login(admin.email)
    cookie = browser.client.session.cookie_jar.filter_cookies(browser.client.make_url("/"))
    morsel = cookie["crmhub_session"]
    assert morsel.value.startswith("gAAAAA")  # a Fernet token: encrypted and signed
    assert "uid" not in morsel.value and "{" not in morsel.value
    resp = await browser.client.get("/login")
    raw = resp.headers.getall("Set-Cookie", [])
    assert all("HttpOnly" in c and "SameSite=Lax" in c for c in raw)


async def test_secure_headers(browser: Browser, admin: User) -> None:
    resp = await browser.client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    text = await resp.text()
    assert "<script>" not in text and " style=" not in text and "onclick" not in text


async def test_manager_cannot_open_admin_pages(as_manager: Browser) -> None:
    for path in ("/settings", "/fields", "/tags", "/reasons"):
        status, text = await as_manager.get(path)
        assert status == 403, path
        assert "You are not allowed to do this" in text
    status, text = await as_manager.post("/settings", {"name": "Hijacked"})
    assert status == 403
    assert (await Company.filter(id=1).first()) is None or (
        await Company.get(id=1)
    ).name != "Hijacked"


OFF_SITE = (
    "/\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "//evil.example",
    "///evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "evil.example",
)


@pytest.mark.parametrize("target", OFF_SITE)
def test_local_path_refuses_what_a_browser_reads_as_another_site(target: str) -> None:
    assert local_path(target) is None


@pytest.mark.parametrize("target", ("/", "/clients?q=a&page=2", "/clients/7#persons"))
def test_local_path_keeps_paths_of_this_site(target: str) -> None:
    assert local_path(target) == target


async def test_login_never_redirects_off_site(browser: Browser, admin: User) -> None:
    for target in OFF_SITE:
        _, page = await browser.get("/login?" + urlencode({"next": target}))
        assert '<input type="hidden" name="next" value="">' in page, target
        await browser.get("/login")
        resp = await browser.post_raw(
            "/login",
            data={
                "email": admin.email,
                "password": PASSWORD,
                "next": target,
                "_csrf": await browser.csrf(),
            },
        )
        assert resp.status == 303, target
        assert resp.headers["Location"] == "/settings", target
        browser.client.session.cookie_jar.clear()  # logged out
        browser.token = ""
    await browser.get("/login")
    resp = await browser.post_raw(
        "/login",
        data={"email": admin.email, "password": PASSWORD, "next": "/clients?q=a"},
        headers={"X-CSRF-Token": await browser.csrf()},
    )
    assert resp.headers["Location"] == "/clients?q=a"


async def test_refused_form_never_goes_back_off_site(as_admin: Browser) -> None:
    """A refused form returns to `_back`, else to the referring page: never off the site."""
    await as_admin.get("/clients")
    for target in OFF_SITE:
        resp = await as_admin.post_raw(
            "/clients/bulk", data={"_csrf": as_admin.token, "_back": target}
        )
        assert resp.status == 303, target
        assert resp.headers["Location"] == "/", target
    here = as_admin.client.make_url("/")
    for path in ("//evil.example/", "/\\evil.example"):
        resp = await as_admin.post_raw(
            "/clients/bulk",
            data={"_csrf": as_admin.token},
            headers={"Referer": f"{here.scheme}://{here.host}:{here.port}{path}"},
        )
        assert resp.headers["Location"] == "/", path
    resp = await as_admin.post_raw(
        "/clients/bulk",
        data={"_csrf": as_admin.token},
        headers={"Referer": str(as_admin.client.make_url("/clients?q=x"))},
    )
    assert resp.headers["Location"] == "/clients?q=x"


class _CountingHasher:
    """The test's password hasher, counting the verifications."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.verified = 0

    def hash(self, password: str) -> str:
        return str(self.inner.hash(password))

    def verify(self, hashed: str, password: str) -> bool:
        self.verified += 1
        return bool(self.inner.verify(hashed, password))


async def test_unknown_email_costs_the_same_password_check(
    browser: Browser, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login answers as slowly for an email nobody has (or a deactivated user's) as
    for a wrong password: either way one argon2 verification is done."""
    from crm import users

    hasher = _CountingHasher(users._hasher)
    monkeypatch.setattr(users, "_hasher", hasher)
    invited = await users.create_user(email="invited@example.com", full_name="New", actor=None)
    gone = await make_user(email="gone@example.com")
    gone.is_active = False
    await gone.save()
    for email in (admin.email, "nobody@example.com", invited.email, gone.email, ""):
        before = hasher.verified
        status, text = await browser.login(email, "wrong password")
        assert status == 401 and "Wrong email or password" in text, email
        assert hasher.verified == before + 1, email


async def test_onboarding_with_odd_digits_for_employees_is_a_field_error(
    browser: Browser,
) -> None:
    await browser.get("/onboarding")
    resp = await browser.client.post(
        "/onboarding",
        data={**ONBOARDING, "employees": "²", "_csrf": browser.token},
        allow_redirects=False,
    )
    assert resp.status in (200, 303, 422)
    assert not await User.exists()
    assert not (await Company.get_or_none(id=1) or Company(onboarded=False)).onboarded

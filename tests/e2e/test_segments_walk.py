"""An admin builds a segment in a real browser: the rule builder (a condition added, its
field changed: segments.js draws the row again through the server), saved and computed,
its members opened as the client list, then the AB/XYZ matrix; no console errors (the CSP
allows only the panel's own scripts)."""

from __future__ import annotations

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from crm.models import Company, Role
from crm.users import create_user
from tests.crm import factories
from tests.e2e.conftest import Shots

PASSWORD = "e2e-password-1"


async def test_admin_builds_a_segment(server: TestServer, chromium: Browser) -> None:
    admin = await create_user(
        email="anna@example.com",
        full_name="Анна Петрова",
        role=Role.ADMIN,
        password=PASSWORD,
        actor=None,
        locale="ru",
    )
    await Company.update_or_create(id=1, defaults={"onboarded": True})
    await factories.client(admin, "ООО Альфа", tags=["VIP"], region="Москва")
    await factories.client(admin, "ООО Бета", tags=["VIP"], region="Казань")
    await factories.client(admin, "ООО Гамма", region="Москва")
    base = str(server.make_url("")).rstrip("/")
    shots = Shots("segments")
    page = await (await chromium.new_context(viewport={"width": 1280, "height": 900})).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(base + "/login")
    await page.fill("input[name=email]", admin.email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")

    await page.goto(base + "/segments")
    await page.click("#segment-new")
    await expect(page.locator("#segment-refresh")).to_be_hidden()  # the script runs
    await page.fill("#segment-name", "VIP из Москвы")
    await page.select_option("select[name=g0_c0_values]", label="VIP")
    await page.click("#add-condition-0")
    await expect(page.locator("select[name=g0_c1_field]")).to_be_visible()
    # changing the field draws the row again: the region's comparison and value
    await page.select_option("select[name=g0_c1_field]", "region")
    await expect(page.locator("input[name=g0_c1_value]")).to_be_visible()
    await expect(page.locator("#segment-name")).to_have_value("VIP из Москвы")
    await page.fill("input[name=g0_c1_value]", "москва")
    await shots(page, "builder")
    await page.click("#segment-save")
    await expect(page.locator(".flash-ok")).to_contain_text("клиентов 1")
    await expect(page.locator("#segment-current")).to_contain_text("ООО Альфа")
    await shots(page, "composition")
    await page.click("#segment-members")
    await expect(page.locator("#client-table")).to_contain_text("ООО Альфа")
    await expect(page.locator("#client-table")).not_to_contain_text("ООО Бета")
    await expect(page.locator("#filter-segment")).to_have_value(str(1))
    await page.goto(base + "/reports/abcxyz")
    await expect(page.locator("#abcxyz-matrix")).to_be_visible()
    await shots(page, "abcxyz")
    assert errors == []

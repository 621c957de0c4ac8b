"""A head of sales' Monday in a real browser: the dashboard, a chart's bar opening the
records behind it, a report's filter, an export, and the pages on a phone; over the
company of tests/crm/reports/world.py, whose March 2026 figures are known."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from aiohttp.test_utils import TestServer
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, expect

from crm.models import User
from crm.users import hash_password
from tests.crm.reports.world import NOW, World, build
from tests.e2e.conftest import Shots

PASSWORD = "e2e-password-1"


@pytest.fixture
def march() -> Iterator[None]:
    # the clock moves on (the browser waits on it), from the end of March in Moscow
    with time_machine.travel(NOW, tick=True):
        yield


async def company() -> World:
    world = await build()
    await User.all().update(password_hash=hash_password(PASSWORD), locale="ru")
    return world


async def login(page: Page, base: str, email: str) -> None:
    await page.goto(base + "/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def test_head_walks_the_reports(
    server: TestServer, chromium: Browser, march: None, tmp_path: object
) -> None:
    world = await company()
    base = str(server.make_url("")).rstrip("/")
    shots = Shots("reports")
    context = await chromium.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await login(page, base, world.head.email)
    await expect(page.locator("#dashboard")).to_be_visible()
    await expect(page.locator("#dashboard")).to_contain_text("Ждут, пока их возьмут")
    await shots(page, "dashboard")
    # a bar of the dashboard's pipeline chart opens the deals behind it
    bar = page.locator("svg.chart a").first
    await bar.click()
    await expect(page).to_have_url(re.compile(r"/reports/pipeline/records\?"))
    await expect(page.locator("#records")).to_be_visible()
    await shots(page, "pipeline-records")
    # the funnel for March: three deals entered the first stage
    await page.goto(base + "/reports/funnel")
    await page.select_option("select[name=period]", "this_month")
    await page.click("#report-filter button[type=submit]")
    first = page.locator("table tbody tr").first.locator("td").nth(1)
    await expect(first).to_have_text("3")
    await shots(page, "funnel")
    await first.locator("a").click()
    await expect(page.locator("h1")).to_contain_text("(3)")
    await shots(page, "funnel-records")
    async with page.expect_download() as download:
        await page.click("text=Excel (XLSX)")
    got = await download.value
    assert got.suggested_filename == "funnel-records.xlsx"
    sheet = load_workbook(io.BytesIO(Path(await got.path()).read_bytes())).worksheets[0]  # noqa: ASYNC240
    assert sheet.max_row == 1 + 3
    # a filter the reports refuse is marked on its field
    await page.goto(base + "/reports/inquiries?from=2026-03-10&to=2026-03-01")
    await expect(page.locator("#err-to")).to_be_visible()
    assert not errors, errors
    await context.close()


async def test_reports_fit_a_phone(server: TestServer, chromium: Browser, march: None) -> None:
    world = await company()
    base = str(server.make_url("")).rstrip("/")
    shots = Shots("reports-phone")
    context = await chromium.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    await login(page, base, world.anna.email)
    for path in (
        "/",
        "/reports",
        *(
            f"/reports/{n}"
            for n in ("funnel", "pipeline", "managers", "inquiries", "sources", "base")
        ),
    ):
        await page.goto(base + path)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        await shots(page, path.strip("/").replace("/", "-") or "home")
    await context.close()

"""A new admin's first hour, in a real browser: onboarding -> a list field "Loyalty" ->
a scenario with three stages and a robot -> invite a manager -> import 1,000 clients with
mapping and dedup -> bulk-set Loyalty on a selection -> see it on the client card. Also:
a customer's `<script>` shows as text, and the pages fit a phone."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from crm import clients
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Client,
    Conversation,
    Direction,
    FieldValue,
    ImportJob,
    Message,
    MessageStatus,
    User,
)
from tests.admin_web.import_data import legal_inn, rows, write_csv
from tests.e2e.conftest import Shots

PASSWORD = "e2e-password-1"


async def onboard(page: Page, base: str) -> None:
    await page.goto(base + "/")
    await expect(page).to_have_url(re.compile(r"/onboarding$"))
    await page.fill("#f-inn", "7707083893")
    await page.fill("#f-org_form", "ООО")
    await page.fill("#f-company_name", "Ромашка")
    await page.select_option("#f-business_kind", "retail")
    await page.fill("#f-employees", "12")
    await page.fill("#f-admin_name", "Анна Петрова")
    await page.fill("#f-admin_email", "anna@example.com")
    await page.fill("#f-admin_phone", "+7 916 555-44-33")
    await page.fill("#f-password", PASSWORD)
    await page.select_option("#f-locale", "en")


async def test_new_admin_walk(server: TestServer, chromium: Browser, tmp_path: Path) -> None:
    base = str(server.make_url("")).rstrip("/")
    shots = Shots("admin-walk")
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: d.accept())

    # 1. onboarding, then Settings
    await onboard(page, base)
    await shots(page, "onboarding")
    await page.click("#onboarding button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/settings$"))
    await expect(page.locator("#f-name")).to_have_value("Ромашка")
    await shots(page, "settings")

    # 2. a list field "Loyalty" with three values
    await page.click("nav.main-nav >> text=Client portrait")
    await page.fill("#field-add #f-name", "Loyalty")
    await page.select_option("#field-add #f-type", "list")
    await page.fill("#field-add #f-options", "Gold\nSilver\nBronze")
    await page.click("#field-add button[type=submit]")
    await expect(page.locator(".flash")).to_contain_text("Field “Loyalty” added")
    await expect(page.locator(".field-item", has_text="Loyalty")).to_contain_text("Bronze")
    await shots(page, "portrait")

    # 3. a scenario with three stages and a robot with a template preview
    await page.click("nav.main-nav >> text=Scenarios")
    await page.fill("#scenario-add #f-name", "Продажа")
    await page.fill("#scenario-add #f-stages", "Квалификация\nПредложение\nДоговор")
    await page.click("#scenario-add button[type=submit]")
    await expect(page.locator("section[id^=stage-]")).to_have_count(3)
    stage = page.locator("section[id^=stage-]").nth(1)
    await stage.locator("summary").click()
    template = stage.locator("textarea[name=template]")
    await template.fill("Здравствуйте, ")
    await stage.locator("button[data-placeholder='{client_name}']").click()
    await template.press("End")
    await template.type("! Это {manager_name}.")
    preview = stage.locator(".preview[id^=preview-]")
    await expect(preview).to_have_text("Здравствуйте, ООО «Ромашка»! Это Анна Петрова.")
    await shots(page, "robot-preview")
    await stage.locator("form.robot-message button[type=submit]").click()
    await expect(page.locator(".flash")).to_contain_text("Robot added")
    await shots(page, "scenario")

    # 4. invite a manager: the code (and the link, once the bot is set) to send
    await page.click("nav.main-nav >> text=Users")
    await page.fill("#invite #f-full_name", "Иван Менеджер")
    await page.fill("#invite #f-email", "ivan@example.com")
    await page.click("#invite button[type=submit]")
    await expect(page.locator("#invite-code")).not_to_be_empty()
    await shots(page, "invite")

    # 5. import 1,000 clients: mapping (Loyalty skipped), dedup against a client we have
    admin = await User.get(email="anna@example.com")
    existing = await clients.create_client(
        actor=admin, kind="legal", name="Старый клиент", inn=legal_inn(1)
    )
    data = rows(1000)
    data[500] = ["ООО Клиент 2 (дубль)", legal_inn(2), "", "", "Gold"]  # a twin within the file
    csv_path = write_csv(tmp_path / "clients-1000.csv", data)
    await page.click("nav.main-nav >> text=Import")
    await page.set_input_files("#f-file", str(csv_path))
    await page.click("#import-upload button[type=submit]")
    await expect(page.locator("#preview-table tbody tr")).to_have_count(5)
    await expect(page.locator("select[name=column_1]")).to_have_value("inn")
    await page.select_option("select[name=column_4]", "")  # Loyalty: set later in bulk
    await page.fill("input[name=tag]", "Импорт")
    await shots(page, "import-mapping")
    await page.click("#import-mapping button[type=submit]")
    await expect(page.locator("#import-done")).to_be_visible(timeout=20_000)
    await shots(page, "import-done")
    job = await ImportJob.get()
    assert (job.total, job.skipped, job.updated) == (1000, 20, 2), (job.created, job.updated)
    await expect(page.locator("#count-created")).to_have_text(str(job.created))
    await expect(page.locator("#failed-rows")).to_be_visible()
    assert (await Client.get(id=existing.id)).name == "ООО Клиент 1"

    # 6. bulk-set Loyalty on a selection
    await page.goto(base + "/clients?q=ООО Клиент 12")
    boxes = page.locator("input[name=client_ids]")
    count = await boxes.count()
    assert count >= 3
    for i in range(3):
        await boxes.nth(i).check()
    await expect(page.locator("[data-selected-count=client_ids]").first).to_have_text("3")
    await page.locator("#bulk-edit select[id^=bulk-field-]").select_option(label="Gold")
    await shots(page, "bulk-edit")
    await page.click("#bulk-edit button[type=submit]")
    await expect(page.locator(".flash")).to_contain_text("Updated 3 clients")
    assert await FieldValue.all().count() == 3

    # 7. the value on the client card
    first = page.locator("#client-table tbody a").first
    name = await first.inner_text()
    await first.click()
    await expect(page.locator("h1")).to_have_text(name)
    await expect(page.locator('[data-field="Loyalty"]')).to_have_text("Gold")
    await shots(page, "client-card")

    # 8. a customer's <script> is shown as text and never runs
    client = await Client.get(name=name)
    channel = await Channel.create(kind=ChannelKind.TELEGRAM, name="Бот", credentials={})
    identity = await ChannelIdentity.create(channel=channel, external_id="1", client=client)
    conversation = await Conversation.create(channel=channel, identity=identity, client=client)
    evil = '<script>window.__xss = 1; alert("xss")</script><img src=x onerror="window.__xss=2">'
    await Message.create(
        conversation=conversation,
        channel=channel,
        direction=Direction.IN,
        text=evil,
        source_id="1",
        status=MessageStatus.RECEIVED,
    )
    await page.goto(f"{base}/inbox/{conversation.id}")
    await expect(page.locator(".message").first).to_contain_text(evil)
    assert await page.evaluate("window.__xss === undefined")
    await page.goto(f"{base}/clients/{client.id}")
    await expect(page.locator("#conversations .message")).to_contain_text("<script>")
    assert await page.evaluate("window.__xss === undefined")
    await shots(page, "script-as-text")

    assert problems == [], problems
    await context.close()


async def test_pages_fit_a_phone(server: TestServer, chromium: Browser) -> None:
    base = str(server.make_url("")).rstrip("/")
    shots = Shots("phone")
    context = await chromium.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = await context.new_page()
    await onboard(page, base)
    await shots(page, "onboarding")
    await page.click("#onboarding button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/settings$"))
    for path in (
        "/settings",
        "/fields",
        "/scenarios",
        "/channels",
        "/users",
        "/import",
        "/clients",
        "/channels/new/email",
        "/api-keys",
    ):
        await page.goto(base + path)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        await shots(page, path.strip("/").replace("/", "-"))
    # the menu opens with a tap
    await expect(page.locator("nav.main-nav")).to_be_hidden()
    await page.tap("label.nav-button")
    await expect(page.locator("nav.main-nav")).to_be_visible()
    await page.tap("nav.main-nav >> text=Clients")
    await expect(page).to_have_url(re.compile(r"/clients$"))
    await shots(page, "menu")
    await context.close()

"""The desk list in a real browser (Debian's Chromium): with the inbox open, a customer's
webhook message puts a new conversation on top with its unread count, and a second one
raises the count, without a reload; a colleague's open conversation page shows an internal
note as it is written, marked as never sent."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from admin_web.views.desk import WAKE_OUTBOX
from admin_web.views.desk_live import inbox_listener
from crm import channels
from crm.config import Settings
from crm.models import Channel, Conversation, Message, Role
from inbox import events
from inbox.service import Inbox
from tests.admin_web.conftest import PASSWORD, make_user
from tests.crm import factories
from tests.e2e import conftest as e2e
from tests.fakes.base import load_fixture
from tests.fakes.telegram_api import TelegramAPI

TG_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
chromium = e2e.chromium  # the browser fixture of the walks
pytestmark = e2e.pytestmark


@pytest.fixture
async def inbox(db: TortoiseContext) -> AsyncIterator[Inbox]:
    hub = Inbox(channel_ttl=0.0)
    yield hub
    await hub.adapters.close()


@pytest.fixture
async def desk(db: TortoiseContext, tmp_path: Path, inbox: Inbox) -> AsyncIterator[TestServer]:
    app = create_app(Settings(secret_key="e" * 48, data_dir=tmp_path / "data"))
    inbox.mount(app)
    app[WAKE_OUTBOX] = inbox.wake_outbox
    unlisten = events.subscribe(inbox_listener(app))
    async with TestServer(app, host="127.0.0.1") as srv:
        yield srv
    unlisten()


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI() as fake:
        yield fake


_sent = iter(range(1, 1000))


async def customer_writes(base: str, inbox: Inbox, tg: Channel, chat: int, text: str) -> int:
    """A Telegram message through the webhook, processed; its conversation's id."""
    n = next(_sent)
    update = load_fixture("telegram", "message_text")
    update["update_id"] += n * 1000 + chat
    update["message"]["message_id"] += n * 1000 + chat
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat
    update["message"]["text"] = text
    update["message"]["date"] = int(time.time()) + n  # later than the one before
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{base}/webhooks/telegram/{tg.id}",
            data=json.dumps(update, ensure_ascii=False).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": tg.credentials["webhook_secret"],
            },
        )
        assert response.status == 200
    await inbox.process()
    return (await Conversation.get(identity__external_id=str(chat))).id


async def login(page: Page, base: str, email: str) -> None:
    await page.goto(base + "/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def test_the_open_desk_list_follows_the_customers(
    desk: TestServer, chromium: Browser, inbox: Inbox, telegram: TelegramAPI
) -> None:
    base = str(desk.make_url("")).rstrip("/")
    admin = await make_user(Role.ADMIN, email="boss@example.com")
    head = await make_user(Role.HEAD, email="head@example.com", full_name="Olga Head")
    await factories.scenario(require_next_step=False)
    tg = await channels.create_channel(
        kind="telegram",
        name="Магазин",
        credentials={"token": TG_TOKEN},
        api_base=telegram.base_url,
        actor=admin,
    )
    shots = e2e.Shots("desk-list")
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await login(page, base, admin.email)
    first = await customer_writes(base, inbox, tg, 8801, "Первый вопрос")
    await page.goto(base + "/inbox")
    rows = page.locator("#conversations > li[data-conversation]")
    await expect(rows).to_have_count(1)
    # a new customer writes while the list is open: on top, one unread, no reload
    second = await customer_writes(base, inbox, tg, 8802, "Здравствуйте, нужен счёт")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_have_attribute("data-conversation", str(second))
    await expect(rows.first.locator(".desk-unread")).to_have_text("1")
    await expect(rows.first).to_contain_text("нужен счёт")
    # the first customer writes again: back on top, two unread
    await customer_writes(base, inbox, tg, 8801, "Ау?")
    await expect(rows.first).to_have_attribute("data-conversation", str(first))
    await expect(rows.first.locator(".desk-unread")).to_have_text("2")
    await expect(rows.first.locator(".desk-waiting")).to_be_visible()
    await shots(page, "list-live")
    # the filter: the unassigned inquiries (both are)
    await page.select_option("select[name=scope]", "inquiries")
    await page.click("#desk-filters button[type=submit]")
    await expect(rows).to_have_count(2)
    # a colleague has the first conversation open; a note written here shows there, live
    other = await context.browser.new_context(locale="en-US") if context.browser else None
    assert other is not None
    colleague = await other.new_page()
    await login(colleague, base, head.email)
    await colleague.goto(f"{base}/inbox/{first}")
    await page.goto(f"{base}/inbox/{first}")
    await expect(page.locator(".desk-unread")).to_have_count(0)
    await page.fill("#f-note", "Клиент постоянный, скидка 5%")
    await page.click("#note button[type=submit]")
    note = colleague.locator(".message.note")
    await expect(note).to_contain_text("скидка 5%")
    await expect(note).to_contain_text("the customer does not see it")
    await shots(colleague, "note-seen-by-colleague")
    assert not await Message.filter(direction="out").exists()  # never sent
    await page.goto(base + "/inbox")
    await expect(rows.locator(".desk-unread")).to_have_count(1)  # the first one is read now
    assert problems == [], problems
    await other.close()
    await context.close()

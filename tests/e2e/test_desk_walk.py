"""The desk in a real browser: a customer writes on Telegram, a manager opens the
conversation in the panel, takes the inquiry (a deal opens), answers with text and a
photo, and the customer's channel (the Telegram fake) receives it once after the outbox
runs; the open pages update live (the inquiry arriving, the reply turning sent)."""

from __future__ import annotations

import json
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
from crm import channels, users
from crm.config import Settings
from crm.models import Channel, Conversation, Interest, Role, User
from inbox import events
from inbox.service import Inbox
from tests.admin_web.conftest import PASSWORD, make_user
from tests.bot import conftest as bot_side
from tests.bot.conftest import BotHarness
from tests.crm import factories
from tests.e2e.conftest import Shots
from tests.fakes.base import load_fixture
from tests.fakes.telegram_api import TelegramAPI

TG_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
ANNA, BORIS = 640001, 640002
harness, manager_api = bot_side.harness, bot_side.manager_api  # the bot tests' fixtures
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


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


async def setup_channel(admin: User, telegram: TelegramAPI) -> Channel:
    await factories.scenario(require_next_step=False)
    return await channels.create_channel(
        kind="telegram",
        name="Магазин",
        credentials={"token": TG_TOKEN},
        api_base=telegram.base_url,
        actor=admin,
    )


async def customer_writes(base: str, inbox: Inbox, tg: Channel, text: str) -> Conversation:
    update = load_fixture("telegram", "message_text")
    update["message"]["text"] = text
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
    return await Conversation.get(channel_id=tg.id)


async def login(page: Page, base: str, email: str) -> None:
    await page.goto(base + "/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def test_a_manager_answers_from_the_browser(
    desk: TestServer,
    chromium: Browser,
    inbox: Inbox,
    telegram: TelegramAPI,
    tmp_path: Path,
) -> None:
    base = str(desk.make_url("")).rstrip("/")
    admin = await make_user(Role.ADMIN, email="boss@example.com")
    manager = await make_user(Role.MANAGER, email="ivan@example.com")
    tg = await setup_channel(admin, telegram)
    shots = Shots("desk")
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await login(page, base, manager.email)
    await page.goto(base + "/inbox")
    await expect(page.locator("#live-inbox")).to_contain_text("No conversations yet")
    # the customer writes while the inbox is open: it shows without a reload
    conversation = await customer_writes(base, inbox, tg, "Привет! Есть доставка?")
    await expect(page.locator(f'#inquiries a[href="/inbox/{conversation.id}"]')).to_be_visible()
    await shots(page, "inquiry-arrived-live")
    await page.click(f'#inquiries a[href="/inbox/{conversation.id}"]')
    await expect(page.locator(".message.in")).to_contain_text("Есть доставка?")
    await shots(page, "inquiry-waiting")
    await page.click("#accept-inquiry")
    await expect(page.locator(".flash")).to_contain_text("You took the inquiry")
    await expect(page.locator("#inquiry")).to_have_count(0)
    deal = await Interest.get()
    assert deal.responsible_id == manager.id  # type: ignore[attr-defined]
    photo = tmp_path / "map.png"
    photo.write_bytes(PNG)
    await page.fill("#f-text", "Да, привезём завтра")
    await page.set_input_files("#f-files", str(photo))
    await shots(page, "reply-typed")
    await page.click("#reply button[type=submit]")
    await expect(page.locator(".message.out")).to_contain_text("Да, привезём завтра")
    await expect(page.locator(".message.out .delivery")).to_have_attribute("data-status", "queued")
    assert (await inbox.send()).sent == 1
    assert (await inbox.send()).sent == 0
    # no reload: the delivery status arrives on the open page
    await expect(page.locator(".message.out .delivery")).to_have_attribute("data-status", "sent")
    await shots(page, "reply-sent")
    delivered = telegram.delivered
    assert len(delivered) == 1 and delivered[0].get("caption") == "Да, привезём завтра"
    assert problems == [], problems
    await context.close()


async def test_two_managers_click_take_the_loser_is_told_who_and_the_bot_cards_follow(
    desk: TestServer,
    chromium: Browser,
    inbox: Inbox,
    telegram: TelegramAPI,
    harness: BotHarness,
) -> None:
    """Anna and Boris both have the inquiry open in the browser and both click Take: Anna's
    click wins, Boris's page says Anna has it; the managers' bot cards say who took it."""
    base = str(desk.make_url("")).rstrip("/")
    admin = await make_user(Role.ADMIN, email="boss@example.com")
    people = []
    for telegram_id, email, name in ((ANNA, "anna@example.com", "Anna Manager"),
                                     (BORIS, "boris@example.com", "Boris Manager")):  # fmt: skip
        user = await make_user(Role.MANAGER, email=email, full_name=name)
        invite = await users.create_invite(user.id, actor=None)
        people.append(await users.bind_telegram(invite.code, telegram_id))
    tg = await setup_channel(admin, telegram)
    conversation = await customer_writes(base, inbox, tg, "Сколько стоит доставка?")
    await harness.notifier.drain()
    cards = {who: harness.last_to(who) for who in (ANNA, BORIS)}
    assert all("Сколько стоит доставка?" in card["text"] for card in cards.values())
    shots = Shots("desk-take")
    pages: list[Page] = []
    for user in people:
        context = await chromium.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-US"
        )
        page = await context.new_page()
        await login(page, base, user.email)
        await page.goto(f"{base}/inbox/{conversation.id}")
        await expect(page.locator("#accept-inquiry")).to_be_visible()
        pages.append(page)
    anna_page, boris_page = pages
    await anna_page.click("#accept-inquiry")
    await expect(anna_page.locator(".flash")).to_contain_text("You took the inquiry")
    # Boris clicked a moment later, on the page he had open
    await boris_page.evaluate("document.querySelector('#accept-inquiry').closest('form').submit()")
    await expect(boris_page.locator("body")).to_contain_text("Anna Manager")
    await expect(boris_page.locator("body")).to_contain_text("has already taken this inquiry")
    await shots(boris_page, "told-who")
    assert await Interest.all().count() == 1
    await harness.notifier.drain()
    assert "You took this inquiry" in harness.current(cards[ANNA])["text"]
    boris_card = harness.current(cards[BORIS])
    assert "Anna Manager took this inquiry" in boris_card["text"]
    assert "reply_markup" not in boris_card
    for page in pages:
        await page.context.close()

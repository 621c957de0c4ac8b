"""Quick replies and writing first, in a real browser: the admin adds a shared quick reply
on its page; in a conversation, typing "/" and a few letters opens the picker, the keyboard
picks (Escape closes, a click picks too), the filled text goes out once through the outbox;
from a client card, "Write to the client" shows the channels with the reasons for the
others and sends the first message, which reaches the Telegram fake once."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from crm.models import ChannelIdentity, Conversation, Role
from inbox.service import Inbox
from tests.admin_web.conftest import make_user
from tests.crm import factories
from tests.e2e.conftest import Shots
from tests.e2e.test_desk_walk import customer_writes, desk, inbox, login, setup_channel, telegram
from tests.fakes.telegram_api import TelegramAPI

__all__ = ["desk", "inbox", "telegram"]  # fixtures shared with the desk's walk


async def test_quick_replies_and_writing_first(
    desk: object, chromium: Browser, inbox: Inbox, telegram: TelegramAPI
) -> None:
    base = str(desk.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    admin = await make_user(Role.ADMIN, email="boss@example.com", full_name="Anna Boss")
    tg = await setup_channel(admin, telegram)
    shots = Shots("compose")
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await login(page, base, admin.email)

    await page.goto(base + "/quick-replies/shared")
    await page.fill("#f-title", "Доставка")
    await page.fill("#f-text", "{client_name}, доставим завтра. {manager_name}")
    await page.click("#quick-reply-add button[type=submit]")
    await expect(page.locator("#quick-replies input[name=title]")).to_have_value("Доставка")
    await page.fill("#f-title", "Счёт")
    await page.fill("#f-text", "Счёт {invoice}")
    await page.click("#quick-reply-add button[type=submit]")
    await expect(page.locator("#err-text")).to_contain_text("Unknown placeholders: {invoice}")
    await shots(page, "unknown-placeholder")
    await page.fill("#f-title", "Оплата")
    await page.fill("#f-text", "Оплатить можно картой.")
    await page.click("#quick-reply-add button[type=submit]")
    await expect(page.locator("#quick-replies [data-quick-reply]")).to_have_count(2)

    conversation = await customer_writes(base, inbox, tg, "Когда привезёте?")
    await conversation.fetch_related("client")
    name = conversation.client.name
    await page.goto(f"{base}/inbox/{conversation.id}")
    box = page.locator("#f-text")
    await box.click()
    await page.keyboard.type("Добрый день! /")
    picker = page.locator("#quick-picker")
    await expect(picker).to_be_visible()
    await expect(picker.locator("[role=option]")).to_have_count(2)
    await page.keyboard.type("дост")
    await expect(picker.locator("[role=option]")).to_have_count(1)
    await shots(page, "picker-open")
    await page.keyboard.press("Escape")
    await expect(picker).to_be_hidden()
    await page.keyboard.press("Backspace")  # typing again reopens it
    await expect(picker).to_be_visible()
    await page.keyboard.press("Enter")
    await expect(picker).to_be_hidden()
    await expect(box).to_have_value(f"Добрый день! {name}, доставим завтра. Anna Boss")
    await page.keyboard.type(" /опл")
    await picker.locator("[role=option]").first.click()
    await expect(box).to_have_value(
        f"Добрый день! {name}, доставим завтра. Anna Boss Оплатить можно картой."
    )
    await shots(page, "picked")
    await page.click("#reply button[type=submit]")
    await expect(page.locator(".message.out")).to_contain_text("Оплатить можно картой.")
    assert (await inbox.send()).sent == 1
    assert (await inbox.send()).sent == 0
    texts = [m["text"] for m in telegram.delivered]
    assert texts == [f"Добрый день! {name}, доставим завтра. Anna Boss Оплатить можно картой."]

    # writing first: a client who never wrote, whose Telegram id is known
    client = await factories.client(admin, name="Пётр Первый")
    await ChannelIdentity.create(channel=tg, external_id="424242", client=client)
    await page.goto(f"{base}/clients/{client.id}")
    await page.click("#write-to-client")
    await expect(page.locator("#not-offered")).to_contain_text("No mailbox is connected")
    await expect(page.locator("#not-offered")).to_contain_text("No channel of this kind")
    await expect(page.locator(f'input[name=channel_id][value="{tg.id}"]')).to_be_checked()
    await page.fill("#f-text", "Здравствуйте! У нас новая коллекция.")
    await shots(page, "write-first")
    await page.click("#write button[type=submit]")
    await expect(page.locator(".message.out")).to_contain_text("новая коллекция")
    started = await Conversation.get(client_id=client.id)
    assert page.url.endswith(f"/inbox/{started.id}")
    assert (await inbox.send()).sent == 1
    first = [m for m in telegram.delivered if m["chat"]["id"] == 424242]
    assert [m["text"] for m in first] == ["Здравствуйте! У нас новая коллекция."]
    await shots(page, "write-first-sent")
    assert problems == [], problems
    await context.close()

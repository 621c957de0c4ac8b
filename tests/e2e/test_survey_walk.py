"""A survey mailing in a real browser: the head types the questions into the mailing form,
the preview shows the first question's buttons per channel, the start queues the survey to
a Telegram customer (the Bot API fake draws the inline keyboard), the customer's press
comes in through the channel's webhook (the answered question's buttons then leave the
customer's chat), and the survey's report shows the answer."""

from __future__ import annotations

import json

import aiohttp
from playwright.async_api import Browser, expect

from crm.models import Mailing, Role, SurveyAnswer
from inbox.service import Inbox
from tests.admin_web.conftest import make_user
from tests.e2e.conftest import Shots
from tests.e2e.test_desk_walk import customer_writes, desk, inbox, login, setup_channel, telegram
from tests.fakes.base import load_fixture
from tests.fakes.telegram_api import TelegramAPI
from tests.inbox.test_mailings import all_day

__all__ = ["desk", "inbox", "telegram"]  # fixtures shared with the desk's walk

QUESTIONS = "How do we work?\nGreat\nPoor\n\nWhat should we improve?"


async def test_a_survey_from_the_form_to_the_report(
    desk: object, chromium: Browser, inbox: Inbox, telegram: TelegramAPI
) -> None:
    base = str(desk.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    admin = await make_user(Role.ADMIN, email="boss@example.com", full_name="Anna Boss")
    tg = await setup_channel(admin, telegram)
    await all_day()
    conversation = await customer_writes(base, inbox, tg, "Hello")
    shots = Shots("survey")
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: d.accept())  # "Start the mailing? ..."
    await login(page, base, admin.email)

    await page.goto(base + "/mailings/new")
    await page.fill("#f-name", "How are we doing")
    await page.select_option("select[name=kind]", "survey")
    await page.fill("textarea[name=text]", "Hello, {client_name}!")
    await page.fill("textarea[name=questions]", QUESTIONS)
    await page.fill("#f-client_ids", str(conversation.client_id))  # type: ignore[attr-defined]
    await page.click("#mailing-form button[type=submit]")
    preview = page.locator("#survey-preview")
    await expect(preview).to_contain_text("How do we work?")
    await expect(preview.locator(".badge", has_text="Great")).to_have_count(4)  # per channel
    await expect(page.locator("#mailing-problems")).to_have_count(0)
    await shots(page, "preview")
    await page.click("#mailing-preview button:has-text('Start the mailing')")
    await expect(page.locator("#survey-answers")).to_be_visible()
    mailing = await Mailing.get()

    assert (await inbox.send()).sent == 1
    (sent,) = [m for m in telegram.delivered if m.get("reply_markup")]
    assert "How do we work?" in sent["text"]
    keyboard = [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in keyboard] == ["Great", "Poor"]

    update = load_fixture("telegram", "callback_query")
    update["update_id"] += 1000
    update["callback_query"]["data"] = keyboard[0]["callback_data"]
    update["callback_query"]["message"]["message_id"] = sent["message_id"]
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
    assert await SurveyAnswer.filter(mailing_id=mailing.id).count() == 1
    # The answered question's buttons are gone from the customer's chat: no second press.
    assert not telegram.messages[(sent["chat"]["id"], sent["message_id"])].get("reply_markup")

    await page.click("#survey-answers")
    first = page.locator("#question-1")
    await expect(first).to_contain_text("How do we work?")
    await expect(first).to_contain_text("100.0%")
    await shots(page, "report")
    assert not problems, problems

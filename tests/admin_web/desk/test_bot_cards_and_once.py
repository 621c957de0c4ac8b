"""The desk and the managers' bot together (the bot on its Bot API fake): an inquiry
taken, rejected or handed over in the panel or the API edits the bot's cards of it in
every manager's chat ("Anna took this inquiry"); a reply is sent once whether the form is
sent twice or the same words are typed in the panel and the bot at once."""

from __future__ import annotations

import asyncio

import aiohttp

from crm import users
from crm.apikeys import create_key
from crm.models import Channel, Inquiry, InquiryStatus, Message, Role, User
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes
from tests.bot import conftest as bot_side
from tests.bot.conftest import BotHarness
from tests.fakes.telegram_api import TelegramAPI

ANNA, BORIS = 640001, 640002
harness, manager_api = bot_side.harness, bot_side.manager_api  # the bot tests' fixtures


async def bound(telegram_id: int, name: str) -> User:
    """A manager who logs in to the panel and is bound to the bot."""
    user = await make_user(Role.MANAGER, full_name=name)
    invite = await users.create_invite(user.id, actor=None)
    return await users.bind_telegram(invite.code, telegram_id)


async def inquiry_with_cards(
    browser: Browser, inbox: Inbox, tg: Channel, harness: BotHarness, chat_id: int
) -> Inquiry:
    await customer_writes(browser, inbox, tg, "Сколько стоит?", chat_id=chat_id)
    await harness.notifier.drain()
    for manager in (ANNA, BORIS):
        assert "Сколько стоит?" in harness.last_to(manager)["text"]
    return await Inquiry.get(conversation__identity__external_id=str(chat_id))


async def test_an_inquiry_taken_in_the_web_edits_every_managers_card(
    browser: Browser, inbox: Inbox, tg: Channel, harness: BotHarness
) -> None:
    anna = await bound(ANNA, "Anna Manager")
    await bound(BORIS, "Boris Manager")
    inquiry = await inquiry_with_cards(browser, inbox, tg, harness, 7401)
    annas_card, boriss_card = harness.last_to(ANNA), harness.last_to(BORIS)
    await browser.login(anna.email)
    status, _ = await browser.post(f"/inquiries/{inquiry.id}/accept")
    assert status == 200
    await harness.notifier.drain()
    boris_now = harness.current(boriss_card)
    assert "Anna Manager took this inquiry" in boris_now["text"]
    assert "reply_markup" not in boris_now  # nothing left to press
    assert "You took this inquiry" in harness.current(annas_card)["text"]
    edited = {c.params["chat_id"] for c in harness.api.calls_to("editMessageText")}
    assert edited == {ANNA, BORIS}


async def test_rejected_in_the_api_and_handed_over_in_the_web_update_the_cards(
    browser: Browser, inbox: Inbox, tg: Channel, harness: BotHarness, admin: User
) -> None:
    anna = await bound(ANNA, "Anna Manager")
    boris = await bound(BORIS, "Boris Manager")
    first = await inquiry_with_cards(browser, inbox, tg, harness, 7501)
    boriss_first = harness.last_to(BORIS)
    key = (await create_key("k", anna.id, actor=None))[1]
    response = await browser.client.post(
        f"/api/v1/inquiries/{first.id}/reject",
        json={},
        headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"},
    )
    assert response.status == 200
    await harness.notifier.drain()
    assert "Rejected by Anna Manager" in harness.current(boriss_first)["text"]

    second = await inquiry_with_cards(browser, inbox, tg, harness, 7502)
    annas_second, boriss_second = harness.last_to(ANNA), harness.last_to(BORIS)
    await browser.login(admin.email)
    status, _ = await browser.post(f"/inquiries/{second.id}/handover", {"to_user_id": boris.id})
    assert status == 200
    await harness.notifier.drain()
    anna_now = harness.current(annas_second)
    assert "Boris Manager has this inquiry now" in anna_now["text"]
    assert "Accept" not in str(anna_now.get("reply_markup"))
    boris_now = harness.current(boriss_second)
    assert "This inquiry is yours to take" in boris_now["text"]
    assert "Accept" in str(boris_now["reply_markup"])
    assert (await Inquiry.get(id=second.id)).status == InquiryStatus.OPEN


def reply_form(token: str, text: str, key: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("_csrf", token)
    form.add_field("text", text)
    form.add_field("reply_key", key)
    return form


async def test_the_reply_form_sent_twice_queues_one_message(
    as_admin: Browser, inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    update, conversation = await customer_writes(as_admin, inbox, tg, "Привет")
    _, page = await as_admin.get(f"/inbox/{conversation.id}")
    key = page.split('name="reply_key" value="', 1)[1].split('"', 1)[0]
    assert len(key) >= 16
    path = f"/inbox/{conversation.id}/reply"
    first, second = await asyncio.gather(
        as_admin.client.post(path, data=reply_form(as_admin.token, "Здравствуйте!", key)),
        as_admin.client.post(path, data=reply_form(as_admin.token, "Здравствуйте!", key)),
    )
    assert first.status == second.status == 200
    pages = [await first.text(), await second.text()]
    assert sum("This reply has been sent already" in p for p in pages) == 1
    assert await Message.filter(direction="out").count() == 1
    # the same form once more, a minute later, is still the first reply
    again = await as_admin.client.post(path, data=reply_form(as_admin.token, "Здравствуйте!", key))
    assert "This reply has been sent already" in await again.text()
    assert await Message.filter(direction="out").count() == 1
    await inbox.send()
    chat = update["message"]["chat"]["id"]
    assert len([m for m in telegram.delivered if m["chat"]["id"] == chat]) == 1
    # a new page has a new key: the same words on purpose are a new reply (after the window)
    _, page = await as_admin.get(f"/inbox/{conversation.id}")
    assert key not in page


async def test_the_same_reply_typed_in_the_web_and_the_bot_at_once_is_sent_once(
    browser: Browser, inbox: Inbox, tg: Channel, harness: BotHarness, telegram: TelegramAPI
) -> None:
    anna = await bound(ANNA, "Anna Manager")
    await bound(BORIS, "Boris Manager")
    inquiry = await inquiry_with_cards(browser, inbox, tg, harness, 7601)
    await browser.login(anna.email)
    await browser.post(f"/inquiries/{inquiry.id}/accept")
    await harness.notifier.drain()
    card = harness.current(harness.last_to(ANNA))
    await harness.press(ANNA, card, "Reply")  # the bot now takes her next message as a reply
    conversation_id = inquiry.conversation_id  # type: ignore[attr-defined]
    _, page = await browser.get(f"/inbox/{conversation_id}")
    key = page.split('name="reply_key" value="', 1)[1].split('"', 1)[0]
    web = browser.client.post(
        f"/inbox/{conversation_id}/reply", data=reply_form(browser.token, "Да, есть", key)
    )
    in_bot = harness.send(ANNA, "Да, есть")
    response, _ = await asyncio.gather(web, in_bot)
    assert response.status == 200
    replies = await Message.filter(direction="out")
    assert len(replies) == 1 and replies[0].text == "Да, есть"
    await inbox.send()
    sent = [m for m in telegram.delivered if m.get("text") == "Да, есть"]
    assert len(sent) == 1
    # a different text right after is a reply of its own
    await harness.send(ANNA, "И доставка бесплатная")
    assert await Message.filter(direction="out").count() == 2


async def test_a_note_written_in_the_web_shows_in_the_bots_conversation_view(
    browser: Browser, inbox: Inbox, tg: Channel, harness: BotHarness
) -> None:
    anna = await bound(ANNA, "Anna Manager")
    await bound(BORIS, "Boris Manager")
    inquiry = await inquiry_with_cards(browser, inbox, tg, harness, 7801)
    conversation_id = inquiry.conversation_id  # type: ignore[attr-defined]
    await browser.login(anna.email)
    await browser.get(f"/inbox/{conversation_id}")
    await browser.post(f"/inbox/{conversation_id}/notes", {"note": "Перезвонить <после> обеда"})
    await harness.press(BORIS, harness.last_to(BORIS), "Open")
    view = harness.last_to(BORIS)["text"]
    assert "Internal note · Anna Manager" in view
    assert "Перезвонить <после> обеда" in view  # escaped on the way, shown as written
    assert view.index("Сколько стоит?") < view.index("Перезвонить")


async def test_the_api_sending_the_same_words_twice_at_once_queues_one_message(
    browser: Browser, inbox: Inbox, tg: Channel, admin: User
) -> None:
    _, conversation = await customer_writes(browser, inbox, tg, "Есть в наличии?")
    key = (await create_key("k", admin.id, actor=None))[1]
    headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}
    path = f"/api/v1/conversations/{conversation.id}/messages"
    answers = await asyncio.gather(
        *(browser.client.post(path, json={"text": "Да"}, headers=headers) for _ in range(2))
    )
    assert [a.status for a in answers] == [201, 201]
    ids = {(await a.json())["id"] for a in answers}
    assert len(ids) == 1 and await Message.filter(direction="out").count() == 1
    other = await browser.client.post(path, json={"text": "Сколько нужно?"}, headers=headers)
    assert other.status == 201 and await Message.filter(direction="out").count() == 2

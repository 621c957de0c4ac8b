"""Quick replies in the web: the admin's shared list and each user's own, unknown
placeholders refused on saving, the list a conversation's reply box picks from (filled for
its client and the reader, raw text in JSON: the page inserts it as text), a picked reply
sent through the outbox once, and /api/v1/quick-replies."""

from __future__ import annotations

import re

from crm.apikeys import create_key
from crm.models import Channel, Company, Message, QuickReply, Role, User
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes, type_reply
from tests.admin_web.test_api import Api
from tests.fakes.telegram_api import TelegramAPI

GREETING = "Здравствуйте, {client_name}! Это {manager_name}, {company_name}."


async def picker(browser: Browser, conversation_id: int) -> list[dict[str, object]]:
    resp = await browser.client.get(f"/inbox/{conversation_id}/quick-replies")
    assert resp.status == 200, await resp.text()
    return list((await resp.json())["items"])


async def test_shared_and_own_quick_replies_filled_for_the_conversation(
    as_admin: Browser, admin: User, inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    await Company.filter(id=1).update(name="ООО <Мебель> & Ко")
    status, page = await as_admin.get("/quick-replies/shared")
    assert status == 200 and "{client_name}" in page
    status, page = await as_admin.post(
        "/quick-replies", {"shared": "1", "title": "Приветствие", "text": GREETING}
    )
    assert status == 200 and "Приветствие" in page
    # an unknown placeholder is refused with the names, the form kept
    status, page = await as_admin.post(
        "/quick-replies", {"shared": "1", "title": "Счёт", "text": "Счёт {invoice} для {name}"}
    )
    assert "Unknown placeholders: {invoice}, {name}. Known: {client_name}" in page
    assert "Счёт {invoice} для {name}" in page  # the form refilled
    assert await QuickReply.all().count() == 1
    await as_admin.post("/quick-replies", {"title": "Моё", "text": "Личный ответ"})

    update, conversation = await customer_writes(as_admin, inbox, tg, "Привет")
    page_status, page = await as_admin.get(f"/inbox/{conversation.id}")
    assert page_status == 200
    assert f'data-quick-replies="/inbox/{conversation.id}/quick-replies"' in page
    assert '<script src="/static/quick_replies.js" defer></script>' in page
    items = await picker(as_admin, conversation.id)
    assert [(i["title"], i["shared"]) for i in items] == [("Приветствие", True), ("Моё", False)]
    await conversation.fetch_related("client")
    client_name = conversation.client.name
    assert items[0]["text"] == (
        f"Здравствуйте, {client_name}! Это Anna Boss, ООО <Мебель> & Ко."
    )  # raw: the script inserts it as text

    # what the picker put in the box goes out like any typed reply, once
    await type_reply(as_admin, conversation.id, str(items[0]["text"]))
    assert (await inbox.send()).sent == 1
    chat = update["message"]["chat"]["id"]
    delivered = [m["text"] for m in telegram.delivered if m["chat"]["id"] == chat]
    assert delivered == [items[0]["text"]]
    assert (await Message.get(direction="out")).text == items[0]["text"]


async def test_a_manager_keeps_their_own_and_cannot_touch_shared_ones(
    browser: Browser, admin: User, inbox: Inbox, tg: Channel
) -> None:
    ivan = await make_user(Role.MANAGER, email="ivan@example.com", full_name="Ivan Petrov")
    olga = await make_user(Role.MANAGER, email="olga@example.com", full_name="Olga")
    shared = await QuickReply.create(title="Общий", text="Добрый день, {client_name}")
    olgas = await QuickReply.create(title="Ольгин", text="секрет", owner=olga)
    await browser.login(ivan.email)
    status, _ = await browser.get("/quick-replies/shared")
    assert status == 403
    status, page = await browser.get("/quick-replies")
    assert status == 200 and "Общий" in page and "Ольгин" not in page
    # posting "shared" as a manager is refused; their own is saved
    status, page = await browser.post("/quick-replies", {"shared": "1", "title": "x", "text": "y"})
    assert "You are not allowed to do this" in page
    assert not await QuickReply.filter(title="x").exists()
    await browser.post("/quick-replies", {"title": "Цена", "text": "Цена для {client_name}"})
    own = await QuickReply.get(title="Цена")
    assert own.owner_id == ivan.id  # type: ignore[attr-defined]
    status, page = await browser.post(f"/quick-replies/{shared.id}", {"title": "x", "text": "y"})
    assert "You are not allowed to do this" in page
    assert (await QuickReply.get(id=shared.id)).title == "Общий"
    status, page = await browser.post(f"/quick-replies/{olgas.id}/delete")
    assert "Not found" in page  # another manager's: not even there
    assert await QuickReply.filter(id=olgas.id).exists()
    status, page = await browser.post(
        f"/quick-replies/{own.id}", {"title": "Цена", "text": "Цена {price}"}
    )
    assert "Unknown placeholders: {price}" in page
    assert (await QuickReply.get(id=own.id)).text == "Цена для {client_name}"
    status, _ = await browser.post(f"/quick-replies/{own.id}/delete")
    assert status == 200 and not await QuickReply.filter(id=own.id).exists()

    # a conversation the manager may not see: no list either
    _, conversation = await customer_writes(browser, inbox, tg, "Привет")
    await conversation.fetch_related("client")
    conversation.client.responsible_id = olga.id  # type: ignore[attr-defined]
    await conversation.client.save()
    resp = await browser.client.get(f"/inbox/{conversation.id}/quick-replies")
    assert resp.status == 404


async def test_the_api_lists_and_the_admin_keeps_shared_ones(
    browser: Browser, admin: User, manager: User
) -> None:
    _, key = await create_key("tests", admin.id, actor=admin)
    api = Api(browser.client, key)
    _, manager_key = await create_key("manager", manager.id, actor=None)
    managers = Api(browser.client, manager_key)

    status, body = await api.call(
        "POST", "/quick-replies", {"title": "Привет", "text": GREETING, "shared": True}
    )
    assert status == 201 and body["shared"] is True and body["owner_id"] is None
    shared_id = body["id"]
    status, body = await api.call("POST", "/quick-replies", {"title": "X", "text": "{oops}"})
    assert status == 422 and "{oops}" in body["error"]["fields"]["text"]
    status, body = await managers.call(
        "POST", "/quick-replies", {"title": "Y", "text": "y", "shared": True}
    )
    assert status == 403
    status, body = await managers.call("POST", "/quick-replies", {"title": "Моё", "text": "моё"})
    assert status == 201 and body["owner_id"] == manager.id
    own_id = body["id"]
    status, body = await managers.call("GET", "/quick-replies")
    assert status == 200 and [i["id"] for i in body["items"]] == [shared_id, own_id]
    assert body["placeholders"] == ["client_name", "manager_name", "company_name"]
    status, body = await api.call("GET", "/quick-replies")
    assert [i["id"] for i in body["items"]] == [shared_id]  # not the manager's own
    status, _ = await api.call("GET", f"/quick-replies/{own_id}")
    assert status == 404
    status, _ = await managers.call("PATCH", f"/quick-replies/{shared_id}", {"text": "z"})
    assert status == 403
    status, body = await api.call("PATCH", f"/quick-replies/{shared_id}", {"title": "Здравствуйте"})
    assert status == 200 and body["title"] == "Здравствуйте" and body["text"] == GREETING
    status, body = await api.call("PATCH", f"/quick-replies/{shared_id}", {"text": "{x}"})
    assert status == 422
    status, _ = await managers.call("DELETE", f"/quick-replies/{shared_id}")
    assert status == 403
    status, _ = await api.call("DELETE", f"/quick-replies/{shared_id}")
    assert status == 204 and not await QuickReply.filter(id=shared_id).exists()


def test_the_picker_script_inserts_text_not_markup() -> None:
    """The page's script never builds markup from a reply (CSP aside, it stays text)."""
    from admin_web.app import STATIC

    script = (STATIC / "quick_replies.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert re.search(r"textContent = item\.title", script)

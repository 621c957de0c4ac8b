"""The inbox list: unread counts per user, waiting time, filters (mine / unassigned
inquiries / all, channel, status), keyset paging, and never a conversation the reader may
not see. Internal notes in the thread: shown to colleagues, marked, never sent."""

from __future__ import annotations

import itertools
import re
import time

import pytest

from admin_web.views import desk_inbox
from crm import inquiries
from crm.models import Channel, ConversationNote, Inquiry, Message, Role
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes, type_reply
from tests.fakes.telegram_api import TelegramAPI

_AT = itertools.count(int(time.time()) - 3600, 10)  # a later date for every message


def at() -> int:
    return next(_AT)


def listed(page: str) -> list[int]:
    """The conversation ids of the list, top first."""
    return [int(i) for i in re.findall(r'<li data-conversation="(\d+)"', page)]


def unread(page: str, conversation_id: int) -> int:
    row = re.search(rf'<li data-conversation="{conversation_id}".*?</li>', page, re.S)
    assert row, f"conversation {conversation_id} not listed"
    found = re.search(r'data-unread="(\d+)"', row.group(0))
    return int(found.group(1)) if found else 0


def waiting(page: str, conversation_id: int) -> bool:
    row = re.search(rf'<li data-conversation="{conversation_id}".*?</li>', page, re.S)
    assert row
    return "data-waiting=" in row.group(0)


async def test_unread_counts_are_per_user_and_waiting_ends_with_a_reply(
    as_admin: Browser, inbox: Inbox, tg: Channel
) -> None:
    _, first = await customer_writes(as_admin, inbox, tg, "Первое", chat_id=7101, at=at())
    _, second = await customer_writes(as_admin, inbox, tg, "Второе", chat_id=7102, at=at())
    await customer_writes(as_admin, inbox, tg, "Ещё вопрос", chat_id=7101, at=at())
    status, page = await as_admin.get("/inbox")
    assert status == 200
    assert listed(page) == [first.id, second.id]  # the newest message on top
    assert unread(page, first.id) == 2 and unread(page, second.id) == 1
    assert waiting(page, first.id) and "Ещё вопрос" in page  # the last message's words
    await as_admin.get(f"/inbox/{first.id}")  # opened: read
    _, page = await as_admin.get("/inbox")
    assert unread(page, first.id) == 0 and unread(page, second.id) == 1
    await customer_writes(as_admin, inbox, tg, "Алло?", chat_id=7101, at=at())
    _, page = await as_admin.get("/inbox")
    assert unread(page, first.id) == 1  # only what came after the opening
    # another user has opened nothing: every customer message is unread for them
    head = await make_user(Role.HEAD, full_name="Head Colleague")
    other = Browser(as_admin.client)
    await as_admin.client.post("/logout", data={"_csrf": as_admin.token})
    await other.login(head.email)
    _, page = await other.get("/inbox")
    assert unread(page, first.id) == 3
    # a reply a person wrote answers the customer: no longer waiting
    await type_reply(other, first.id, "Отвечаю")
    _, page = await other.get("/inbox?state=waiting")
    assert listed(page) == [second.id]
    _, page = await other.get("/inbox?state=answered")
    assert listed(page) == [first.id]


async def test_filters_scope_the_list_and_a_manager_never_sees_anothers(
    browser: Browser, inbox: Inbox, tg: Channel
) -> None:
    anna = await make_user(Role.MANAGER, full_name="Anna Manager")
    boris = await make_user(Role.MANAGER, full_name="Boris Manager")
    _, annas = await customer_writes(browser, inbox, tg, "Анне", chat_id=7201, at=at())
    _, free = await customer_writes(browser, inbox, tg, "Кто-нибудь", chat_id=7202, at=at())
    inquiry = await Inquiry.get(conversation_id=annas.id)
    await inquiries.accept_inquiry(inquiry.id, actor=anna)
    await customer_writes(browser, inbox, tg, "Секрет Анны", chat_id=7201, at=at())

    await browser.login(anna.email)
    _, page = await browser.get("/inbox")
    assert listed(page) == [annas.id, free.id]
    _, page = await browser.get("/inbox?scope=mine")
    assert listed(page) == [annas.id]
    _, page = await browser.get("/inbox?scope=inquiries")
    assert listed(page) == [free.id]
    _, page = await browser.get(f"/inbox?channel={tg.id}&scope=all")
    assert listed(page) == [annas.id, free.id]
    _, page = await browser.get("/inbox?channel=999999&scope=nonsense&state=x&before=junk")
    assert listed(page) == [annas.id, free.id]  # what cannot be a filter is none

    await browser.client.post("/logout", data={"_csrf": browser.token})
    await browser.login(boris.email)
    _, page = await browser.get("/inbox")
    assert listed(page) == [free.id]  # Anna's client is hers
    assert "Секрет Анны" not in page
    _, page = await browser.get("/inbox?scope=mine")
    assert listed(page) == []


async def test_keyset_pages_walk_the_list_once(
    as_admin: Browser, inbox: Inbox, tg: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk_inbox, "PER_PAGE", 2)
    made, moment = [], 0
    for n in range(5):
        moment = at() if n % 2 == 0 else moment  # pairs at one moment: ties across pages
        _, conversation = await customer_writes(as_admin, inbox, tg, chat_id=7300 + n, at=moment)
        made.append(conversation.id)
    seen: list[int] = []
    _, page = await as_admin.get("/inbox")
    while True:
        seen += listed(page)
        older = re.search(r'href="([^"]+)" id="older"', page)
        if not older:
            break
        assert "desk.js" not in page or not seen[2:]  # only the first page is live
        _, page = await as_admin.get(older.group(1).replace("&amp;", "&"))
    assert seen == list(reversed(made))


async def test_a_note_is_shown_to_colleagues_marked_and_never_sent(
    as_admin: Browser, inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    _, conversation = await customer_writes(as_admin, inbox, tg, "Когда привезёте?")
    await as_admin.get(f"/inbox/{conversation.id}")
    status, page = await as_admin.post(
        f"/inbox/{conversation.id}/notes", {"note": "Звонил: <b>платит</b> в пятницу"}
    )
    assert status == 200 and "The note is saved" in page
    assert "Internal note" in page and "the customer does not see it" in page
    assert "&lt;b&gt;платит&lt;/b&gt;" in page  # escaped
    assert await ConversationNote.filter(conversation_id=conversation.id).count() == 1
    assert not await Message.filter(direction="out").exists()
    assert (await inbox.send()).sent == 0
    assert not [m for m in telegram.delivered if "пятницу" in str(m)]
    # an empty note is refused
    status, page = await as_admin.post(f"/inbox/{conversation.id}/notes", {"note": "  "})
    assert await ConversationNote.all().count() == 1
    # a manager who may not see the conversation can neither read nor write its notes
    anna = await make_user(Role.MANAGER, full_name="Anna Manager")
    boris = await make_user(Role.MANAGER, full_name="Boris Manager")
    inquiry = await Inquiry.get(conversation_id=conversation.id)
    await inquiries.accept_inquiry(inquiry.id, actor=anna)
    await as_admin.client.post("/logout", data={"_csrf": as_admin.token})
    await as_admin.login(boris.email)
    status, page = await as_admin.get(f"/inbox/{conversation.id}")
    assert status == 404 and "пятницу" not in page
    status, _ = await as_admin.post(f"/inbox/{conversation.id}/notes", {"note": "чужое"})
    assert status == 404
    assert await ConversationNote.all().count() == 1

"""Inquiries on the desk and in the API: accept (a deal opens, as in the bot), reject with a
reason (none needed while the list is empty), hand over; two takers at once: one wins, the
other is told who; an inquiry the reader may not see is a 404."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from crm import scenarios
from crm.apikeys import create_key
from crm.models import (
    Channel,
    Client,
    Inquiry,
    InquiryStatus,
    Interest,
    ReasonKind,
    Role,
    User,
)
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes


async def waiting(browser: Browser, inbox: Inbox, tg: Channel) -> Inquiry:
    _, conversation = await customer_writes(browser, inbox, tg, "Сколько стоит?")
    return await Inquiry.get(conversation_id=conversation.id)


async def test_a_manager_takes_an_inquiry_from_its_conversation(
    as_manager: Browser, manager: User, inbox: Inbox, tg: Channel
) -> None:
    inquiry = await waiting(as_manager, inbox, tg)
    _, page = await as_manager.get("/inbox")
    assert f'data-inquiry="{inquiry.id}"' in page  # waiting, with its Accept
    _, page = await as_manager.get(f"/inbox/{inquiry.conversation_id}")  # type: ignore[attr-defined]
    assert 'id="accept-inquiry"' in page
    status, page = await as_manager.post(f"/inquiries/{inquiry.id}/accept")
    assert status == 200 and "You took the inquiry" in page
    assert 'id="accept-inquiry"' not in page  # taken: no buttons any more
    interest = await Interest.get()
    assert interest.responsible_id == manager.id  # type: ignore[attr-defined]
    client = await Client.get(id=inquiry.client_id)  # type: ignore[attr-defined]
    assert client.responsible_id == manager.id  # type: ignore[attr-defined]
    assert (await Inquiry.get(id=inquiry.id)).status == InquiryStatus.ACCEPTED


async def test_two_managers_taking_one_inquiry_at_once_one_wins_the_other_is_told_who(
    browser: Browser, app: Any, inbox: Inbox, tg: Channel, admin: User
) -> None:
    anna = await make_user(Role.MANAGER, full_name="Anna Manager")
    boris = await make_user(Role.MANAGER, full_name="Boris Manager")
    inquiry = await waiting(browser, inbox, tg)
    await browser.login(anna.email)
    async with TestClient(TestServer(app), headers={"Accept-Language": "en"}) as other:
        second = Browser(other)
        await second.login(boris.email)
        for b in (browser, second):
            await b.get(f"/inbox/{inquiry.conversation_id}")  # type: ignore[attr-defined]
        pages = await asyncio.gather(
            browser.post(f"/inquiries/{inquiry.id}/accept"),
            second.post(f"/inquiries/{inquiry.id}/accept"),
        )
    texts = [text for _, text in pages]
    won = [t for t in texts if "You took the inquiry" in t]
    lost = [t for t in texts if "has already taken this inquiry" in t]
    assert len(won) == 1 and len(lost) == 1
    winner = (await Inquiry.get(id=inquiry.id).prefetch_related("decided_by")).decided_by
    assert winner is not None and winner.full_name in lost[0]
    assert await Interest.all().count() == 1


async def test_reject_needs_a_reason_only_when_the_list_has_some(
    as_admin: Browser, admin: User, inbox: Inbox, tg: Channel
) -> None:
    inquiry = await waiting(as_admin, inbox, tg)
    await as_admin.get(f"/inbox/{inquiry.conversation_id}")  # type: ignore[attr-defined]
    spam = await scenarios.add_reason(ReasonKind.REJECTION, "Спам", actor=admin)
    _, page = await as_admin.get(f"/inbox/{inquiry.conversation_id}")  # type: ignore[attr-defined]
    assert "Спам" in page
    _, page = await as_admin.post(f"/inquiries/{inquiry.id}/reject")
    assert "Choose a reason from the list" in page
    assert (await Inquiry.get(id=inquiry.id)).status == InquiryStatus.OPEN
    _, page = await as_admin.post(f"/inquiries/{inquiry.id}/reject", {"reason_id": spam.id})
    assert "The inquiry is rejected" in page
    stored = await Inquiry.get(id=inquiry.id)
    assert stored.status == InquiryStatus.REJECTED and stored.rejection_reason_id == spam.id  # type: ignore[attr-defined]


async def test_with_no_reasons_configured_reject_works_without_one(
    as_admin: Browser, inbox: Inbox, tg: Channel
) -> None:
    inquiry = await waiting(as_admin, inbox, tg)
    await as_admin.get(f"/inbox/{inquiry.conversation_id}")  # type: ignore[attr-defined]
    _, page = await as_admin.post(f"/inquiries/{inquiry.id}/reject")
    assert "The inquiry is rejected" in page
    assert (await Inquiry.get(id=inquiry.id)).status == InquiryStatus.REJECTED


async def test_an_inquiry_handed_over_leaves_one_inbox_for_another(
    browser: Browser, inbox: Inbox, tg: Channel, admin: User
) -> None:
    anna = await make_user(Role.MANAGER, full_name="Anna Manager")
    boris = await make_user(Role.MANAGER, full_name="Boris Manager")
    inquiry = await waiting(browser, inbox, tg)
    conversation_id = inquiry.conversation_id  # type: ignore[attr-defined]
    await browser.login(anna.email)
    _, page = await browser.get(f"/inbox/{conversation_id}")
    assert "Boris Manager" in page  # offered
    _, page = await browser.post(f"/inquiries/{inquiry.id}/handover", {"to_user_id": boris.id})
    assert "The inquiry is handed to Boris Manager" in page
    assert f'data-inquiry="{inquiry.id}"' not in page  # gone from Anna's inbox
    status, _ = await browser.get(f"/inbox/{conversation_id}")
    assert status == 404
    _, page = await browser.post(f"/inquiries/{inquiry.id}/accept")
    assert "Not found" in page and not await Interest.exists()
    await browser.login(boris.email)
    _, page = await browser.get("/inbox")
    assert f'data-inquiry="{inquiry.id}"' in page
    _, page = await browser.post(f"/inquiries/{inquiry.id}/accept")
    assert "You took the inquiry" in page
    assert (await Interest.get()).responsible_id == boris.id  # type: ignore[attr-defined]


async def test_the_api_lists_accepts_rejects_and_hands_over(
    browser: Browser, inbox: Inbox, tg: Channel, admin: User
) -> None:
    anna = await make_user(Role.MANAGER, full_name="Anna Manager")
    boris = await make_user(Role.MANAGER, full_name="Boris Manager")
    first = await waiting(browser, inbox, tg)
    _, c2 = await customer_writes(browser, inbox, tg, "Второй", chat_id=555001)
    second = await Inquiry.get(conversation_id=c2.id)
    _, c3 = await customer_writes(browser, inbox, tg, "Третий", chat_id=555002)
    third = await Inquiry.get(conversation_id=c3.id)
    keys = {u.id: (await create_key("k", u.id, actor=None))[1] for u in (anna, boris)}

    async def call(user: User, path: str, json: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {keys[user.id]}", "Accept-Language": "en"}
        method = "GET" if json is None else "POST"
        resp = await browser.client.request(method, "/api/v1" + path, json=json, headers=headers)
        return resp.status, await resp.json()

    status, listed = await call(anna, "/inquiries")
    assert status == 200
    assert [i["id"] for i in listed["items"]] == [first.id, second.id, third.id]
    status, deal = await call(anna, f"/inquiries/{first.id}/accept", {"title": "Доставка"})
    assert status == 201 and deal["title"] == "Доставка" and deal["responsible_id"] == anna.id
    status, error = await call(boris, f"/inquiries/{first.id}/accept", {})
    assert status == 409 and error["error"]["code"] == "inquiry_taken"
    assert "Anna Manager" in error["error"]["message"]
    status, rejected = await call(boris, f"/inquiries/{second.id}/reject", {"reason_id": None})
    assert status == 200 and rejected["status"] == "rejected"
    status, handed = await call(anna, f"/inquiries/{third.id}/handover", {"to_user_id": boris.id})
    assert status == 200 and handed["status"] == "open"
    status, listed = await call(anna, "/inquiries")
    assert listed["items"] == []  # handed to Boris: no longer Anna's to take
    status, _ = await call(anna, f"/inquiries/{third.id}/reject", {})
    assert status == 404
    status, listed = await call(boris, "/inquiries")
    assert [i["id"] for i in listed["items"]] == [third.id]
    status, error = await call(boris, f"/inquiries/{third.id}/handover", {"to_user_id": 999})
    assert status == 422 and "to_user_id" in error["error"]["fields"]

"""Replying from the web: a reply typed on the conversation page reaches the customer's
channel once after the outbox runs, shows its delivery status, can be retried when the
outbox allows, is refused before queueing when the channel cannot take it, and never
reaches or reveals another manager's conversation."""

from __future__ import annotations

import pytest

from crm import channels, inquiries
from crm.models import (
    Channel,
    ChannelIdentity,
    Conversation,
    Inquiry,
    Message,
    MessageStatus,
    Role,
    User,
)
from inbox import reply_limits
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes, type_reply
from tests.fakes.base import load_fixture
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.viber_api import ViberAPI, signed_callback

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
VIBER_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"


async def test_a_reply_typed_in_the_web_reaches_the_customer_once(
    as_admin: Browser, inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    update, conversation = await customer_writes(as_admin, inbox, tg, "Есть доставка?")
    status, page = await as_admin.get(f"/inbox/{conversation.id}")
    assert status == 200 and "Есть доставка?" in page and 'action="/inbox/' in page
    status, page = await type_reply(
        as_admin, conversation.id, "Да, <b>завтра</b>", [("price.png", PNG, "image/png")]
    )
    assert status == 200 and "The reply is queued" in page
    assert "queued" in page and "&lt;b&gt;завтра&lt;/b&gt;" in page  # escaped on the page
    reply = await Message.get(direction="out")
    assert reply.status == MessageStatus.QUEUED and reply.author_id is not None  # type: ignore[attr-defined]
    assert [a["kind"] for a in reply.attachments] == ["photo"]
    assert (await inbox.send()).sent == 1
    assert (await inbox.send()).sent == 0  # never twice
    chat = update["message"]["chat"]["id"]
    delivered = [m for m in telegram.delivered if m["chat"]["id"] == chat]
    assert len(delivered) == 1 and delivered[0].get("caption") == "Да, <b>завтра</b>"
    assert "photo" in delivered[0]
    _, page = await as_admin.get(f"/inbox/{conversation.id}")
    assert 'data-status="sent"' in page


async def test_a_failed_reply_shows_why_and_retries_once(
    as_admin: Browser, inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    update, conversation = await customer_writes(as_admin, inbox, tg)
    chat = update["message"]["chat"]["id"]
    # a permanent failure other than a block (a block also unsubscribes the customer, and
    # a retry then waits for them to write again)
    telegram.fail_next("sendMessage", kind="400")
    await type_reply(as_admin, conversation.id, "Счёт готов")
    await inbox.send()
    reply = await Message.get(direction="out")
    assert reply.status == MessageStatus.DEAD
    _, page = await as_admin.get(f"/inbox/{conversation.id}")
    assert 'data-status="dead"' in page and "chat not found" in page
    assert f"/messages/{reply.id}/retry" in page
    status, page = await as_admin.post(f"/inbox/{conversation.id}/messages/{reply.id}/retry")
    assert status == 200 and "The reply is queued again" in page
    assert (await inbox.send()).sent == 1
    assert [m["text"] for m in telegram.delivered if m["chat"]["id"] == chat] == ["Счёт готов"]
    _, page = await as_admin.get(f"/inbox/{conversation.id}")
    assert f"/messages/{reply.id}/retry" not in page  # sent: nothing to retry
    status, page = await as_admin.post(f"/inbox/{conversation.id}/messages/{reply.id}/retry")
    assert "already been sent" in page
    assert (await inbox.send()).sent == 0


async def test_an_unsubscribed_customer_is_refused_before_queueing(
    as_admin: Browser, inbox: Inbox, tg: Channel
) -> None:
    _, conversation = await customer_writes(as_admin, inbox, tg)
    await ChannelIdentity.filter(id=conversation.identity_id).update(subscribed=False)  # type: ignore[attr-defined]
    status, page = await type_reply(as_admin, conversation.id, "Акция!")
    assert status == 200 and "unsubscribed" in page
    assert not await Message.filter(direction="out").exists()


async def test_a_file_over_the_channel_limit_is_refused_with_the_reason(
    as_admin: Browser, inbox: Inbox, tg: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, conversation = await customer_writes(as_admin, inbox, tg)
    monkeypatch.setitem(reply_limits.FILE_LIMITS, "telegram", {"photo": 16, "document": 32})
    status, page = await type_reply(
        as_admin, conversation.id, "Каталог", [("catalog.pdf", b"%PDF" * 16, "application/pdf")]
    )
    assert status == 200 and "catalog.pdf is larger than Telegram accepts" in page
    assert 'id="err-files"' in page and "Каталог" in page  # the box keeps what was typed
    assert not await Message.filter(direction="out").exists()


async def test_nothing_to_send_is_refused(as_admin: Browser, inbox: Inbox, tg: Channel) -> None:
    _, conversation = await customer_writes(as_admin, inbox, tg)
    status, page = await type_reply(as_admin, conversation.id, "   ")
    assert status == 200 and "Write a message or choose a file" in page
    assert not await Message.filter(direction="out").exists()


async def test_a_viber_file_needs_the_public_url(
    as_admin: Browser, inbox: Inbox, admin: User
) -> None:
    async with ViberAPI(require_webhook=False) as fake:
        viber = await channels.create_channel(
            kind="viber",
            name="Viber",
            credentials={"token": VIBER_TOKEN},
            api_base=fake.base_url,
            actor=admin,
        )
        body, headers = signed_callback(load_fixture("viber", "message_text"), VIBER_TOKEN)
        path = f"/webhooks/viber/{viber.id}"
        assert (await as_admin.client.post(path, data=body, headers=headers)).status == 200
        await inbox.process()
        conversation = await Conversation.get(channel_id=viber.id)
        _, page = await type_reply(as_admin, conversation.id, "Фото", [("a.png", PNG, "image/png")])
        assert "set CRMHUB_PUBLIC_URL" in page
        assert not await Message.filter(direction="out").exists()
        _, page = await type_reply(as_admin, conversation.id, "Без файла")
        assert "The reply is queued" in page  # text alone needs no public address
        assert await Message.filter(direction="out").count() == 1


async def test_a_manager_never_sees_or_answers_another_managers_conversation(
    browser: Browser, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    anna = await make_user(full_name="Anna Manager", role=Role.MANAGER)
    boris = await make_user(full_name="Boris Manager", role=Role.MANAGER)
    _, conversation = await customer_writes(browser, inbox, tg)
    inquiry = await Inquiry.get(conversation_id=conversation.id)
    await inquiries.accept_inquiry(inquiry.id, actor=anna)
    await browser.login(boris.email)
    status, _ = await browser.get(f"/inbox/{conversation.id}")
    assert status == 404
    _, inbox_page = await browser.get("/inbox")
    assert f"/inbox/{conversation.id}" not in inbox_page
    status, _ = await type_reply(browser, conversation.id, "Чужой ответ")
    assert status == 404
    await browser.login(admin.email)
    await type_reply(browser, conversation.id, "Ответ админа")
    await inbox.send()
    reply = await Message.get(direction="out")
    await browser.login(boris.email)
    await Message.filter(id=reply.id).update(status=MessageStatus.DEAD, source_id=None)
    _, page = await browser.post(f"/inbox/{conversation.id}/messages/{reply.id}/retry")
    assert "Not found" in page
    assert (await Message.get(id=reply.id)).status == MessageStatus.DEAD  # not requeued
    assert await Message.filter(direction="out").count() == 1
    assert [m["text"] for m in telegram.delivered] == ["Ответ админа"]

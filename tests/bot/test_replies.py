"""Answering customers from the chat: a reply to a card (or after the Reply button) goes
through the outbox to the customer's own channel; the card shows sent / failed + Retry."""

from __future__ import annotations

import base64

from crm import inquiries
from crm.models import Channel, Inquiry, Message, MessageStatus
from inbox.service import Inbox
from tests.bot.conftest import BotHarness, bound_manager, customer_writes
from tests.fakes.telegram_api import TelegramAPI

ANNA = 630001
CUSTOMER = 5551001


async def test_a_reply_to_the_card_reaches_the_customer(
    harness: BotHarness, shop: Channel, inbox: Inbox, customer_api: TelegramAPI
) -> None:
    await bound_manager(ANNA)
    await customer_writes(shop, "Do you deliver to Kazan?", customer=CUSTOMER)
    await harness.notifier.drain()
    card = harness.last_to(ANNA)

    await harness.send(ANNA, "Yes, <b>tomorrow</b> & free", reply_to=card)
    status = harness.last_to(ANNA)
    assert status["text"] == "⏳ Sending to Anna Smirnova…"
    assert harness.woken  # the outbox was woken
    reply = await Message.get(direction="out")
    assert reply.status == MessageStatus.QUEUED and reply.text == "Yes, <b>tomorrow</b> & free"

    report = await inbox.send()
    await harness.notifier.drain()
    assert report.sent == 1
    (delivered,) = customer_api.delivered
    assert delivered["chat"]["id"] == CUSTOMER
    assert delivered["text"] == "Yes, <b>tomorrow</b> & free"  # plain text to the customer
    assert harness.current(status)["text"] == "✓ Sent to Anna Smirnova"


async def test_a_photo_reply_is_uploaded_to_the_customer_bot(
    harness: BotHarness, shop: Channel, inbox: Inbox, customer_api: TelegramAPI
) -> None:
    await bound_manager(ANNA)
    await customer_writes(shop, "Show me the sofa", customer=CUSTOMER)
    await harness.notifier.drain()
    card = harness.last_to(ANNA)
    picture = harness.api.add_file(b"\x89PNG sofa bytes", "photos/sofa.jpg")

    photo = [{"file_id": picture.file_id, "file_unique_id": "u1", "width": 800, "height": 600}]
    await harness.send(ANNA, reply_to=card, photo=photo, caption="Here it is")
    reply = await Message.get(direction="out")
    (attachment,) = reply.attachments
    assert attachment["kind"] == "photo" and attachment["file_id"] == ""
    assert base64.b64decode(attachment["content_b64"]) == b"\x89PNG sofa bytes"

    assert (await inbox.send()).sent == 1
    (call,) = customer_api.calls_to("sendPhoto")
    assert call.params["photo"].data == b"\x89PNG sofa bytes"
    assert call.params["caption"] == "Here it is"


async def test_a_failed_reply_shows_retry_and_goes_out_after_it(
    harness: BotHarness, shop: Channel, inbox: Inbox, customer_api: TelegramAPI
) -> None:
    await bound_manager(ANNA)
    await customer_writes(shop, "Hello?", customer=CUSTOMER)
    await harness.notifier.drain()
    await harness.send(ANNA, "Hello!", reply_to=harness.last_to(ANNA))
    status = harness.last_to(ANNA)

    # A permanent failure other than a block (a block also unsubscribes the customer, so a
    # retry would not go out until they unblock the bot: tests/inbox/test_inbox_e2e.py).
    customer_api.fail_next("sendMessage", kind="400")
    await inbox.send()
    await harness.notifier.drain()
    failed = harness.current(status)
    assert failed["text"].startswith("⛔ Not delivered: ")
    assert "chat not found" in failed["text"]
    assert (await Message.get(direction="out")).status == MessageStatus.DEAD

    await harness.press(ANNA, failed, "Retry")
    assert harness.current(status)["text"] == "⏳ Sending to Anna Smirnova…"
    assert (await inbox.send()).sent == 1
    await harness.notifier.drain()
    assert harness.current(status)["text"] == "✓ Sent to Anna Smirnova"
    assert [m["text"] for m in customer_api.delivered] == ["Hello!"]


async def test_customer_messages_on_a_deal_reach_its_manager_and_the_reply_button_works(
    harness: BotHarness, shop: Channel, inbox: Inbox, customer_api: TelegramAPI
) -> None:
    anna = await bound_manager(ANNA)
    await customer_writes(shop, "first", customer=CUSTOMER)
    await inquiries.accept_inquiry((await Inquiry.get()).id, actor=anna)
    await customer_writes(shop, "<i>are you there?</i> & hello", customer=CUSTOMER)
    await harness.notifier.drain()

    card = harness.last_to(ANNA)
    assert "<i>are you there?</i> & hello" in card["text"]
    assert "Anna Smirnova" in card["text"]
    await harness.press(ANNA, card, "Reply")
    assert "Write the reply to Anna Smirnova" in harness.last_to(ANNA)["text"]
    await harness.send(ANNA, "Yes, here")
    await harness.send(ANNA, "/deals")  # the reply mode ended with the first message
    assert await Message.filter(direction="out").count() == 1
    await inbox.send()
    assert [m["text"] for m in customer_api.delivered] == ["Yes, here"]


async def test_a_long_customer_message_is_cut_and_show_all_gives_the_rest(
    harness: BotHarness, shop: Channel
) -> None:
    await bound_manager(ANNA)
    text = ("<b>&amp;</b> " * 500).strip() + " END"  # 6,500 characters that look like markup
    await customer_writes(shop, text)
    await harness.notifier.drain()
    (card,) = harness.sent_to(ANNA)
    assert "END" not in card["text"] and "Accept" in str(card["reply_markup"])
    await harness.press(ANNA, card, "Show all")
    parts = harness.sent_to(ANNA)
    assert len(parts) == 2  # the card, and the rest in one message
    assert all(len(p["text"]) <= 4096 for p in parts)
    assert parts[-1]["text"].count("END") == 1
    joined = " ".join(p["text"] for p in parts)
    assert joined.count("<b>&amp;</b>") == 500


async def test_a_document_reply_keeps_its_name(
    harness: BotHarness, shop: Channel, inbox: Inbox, customer_api: TelegramAPI
) -> None:
    await bound_manager(ANNA)
    await customer_writes(shop, "Send the contract please", customer=CUSTOMER)
    await harness.notifier.drain()
    stored = harness.api.add_file(b"%PDF-1.7 contract", "documents/contract.pdf")
    document = {
        "file_id": stored.file_id,
        "file_unique_id": "d1",
        "file_name": "Contract <final>.pdf",
        "mime_type": "application/pdf",
    }
    await harness.send(ANNA, reply_to=harness.last_to(ANNA), document=document)
    assert (await inbox.send()).sent == 1
    (call,) = customer_api.calls_to("sendDocument")
    upload = call.params["document"]
    assert (upload.filename, upload.data) == ("Contract <final>.pdf", b"%PDF-1.7 contract")


async def test_a_voice_message_cannot_be_forwarded(harness: BotHarness, shop: Channel) -> None:
    await bound_manager(ANNA)
    await customer_writes(shop, "Hi", customer=CUSTOMER)
    await harness.notifier.drain()
    voice = {"file_id": "voice-1", "file_unique_id": "v1", "duration": 3}
    await harness.send(ANNA, reply_to=harness.last_to(ANNA), voice=voice)
    assert "Only text, photos and documents" in harness.last_to(ANNA)["text"]
    assert not await Message.filter(direction="out").exists()


def test_the_failure_reads_in_the_managers_language() -> None:
    """crmhub's own send errors are catalog messages: a Russian manager reads them in
    Russian; a platform's text comes through as it is, escaped."""
    from aiogram import Bot

    from bot.callbacks import Signer
    from bot.cards import reply_status_card
    from bot.views import Viewer
    from crm.models import User
    from inbox.channels.viber import NO_PUBLIC_URL

    manager = User(id=1, email="m@example.com", full_name="M", locale="ru", telegram_user_id=7)
    viewer = Viewer(manager, Signer("k" * 32), Bot("1:x"))
    ours = Message(id=5, status=MessageStatus.DEAD, last_error=NO_PUBLIC_URL)
    text = reply_status_card(viewer, ours, "Анна").single()
    assert text.startswith("⛔ Не доставлено: ") and "CRMHUB_PUBLIC_URL" in text
    assert "Viber downloads" not in text  # translated, not the English id
    theirs = Message(id=6, status=MessageStatus.DEAD, last_error="Forbidden: <bot> blocked")
    assert "Forbidden: &lt;bot&gt; blocked" in reply_status_card(viewer, theirs, "Анна").single()

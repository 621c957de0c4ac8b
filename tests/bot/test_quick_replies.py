"""Quick replies in the chat: after Reply, the 📋 Quick replies button lists the shared ones
and the manager's own (never another's); pressing one sends it, filled for the client, as a
typed reply goes (through the outbox, once, a delivery card shown) and ends the reply mode.
And a reply to the card of an older email answers that email's thread."""

from __future__ import annotations

from datetime import UTC, datetime

from crm import channels, inquiries
from crm.models import Channel, Company, Inquiry, Message, QuickReply, User
from inbox import hub
from inbox.channels.base import InboundMessage
from inbox.service import Inbox
from tests.bot.conftest import BotHarness, bound_manager, buttons, customer_writes
from tests.crm import factories
from tests.fakes.telegram_api import TelegramAPI

ANNA = 630001
CUSTOMER = 5551001


async def test_a_quick_reply_is_picked_and_sent_as_a_reply(
    harness: BotHarness, shop: Channel, inbox: Inbox, customer_api: TelegramAPI
) -> None:
    anna = await bound_manager(ANNA, full_name="Ольга Петрова")
    other = await factories.manager()
    await Company.update_or_create(id=1, defaults={"name": "Мебель & Ко"})
    await QuickReply.create(
        title="Приветствие", text="Здравствуйте, {client_name}! {manager_name}, {company_name}."
    )
    await QuickReply.create(title="<b>Моё</b>", text="Моё для {client_name}", owner=anna)
    await QuickReply.create(title="Чужое", text="не моё", owner=other)
    await customer_writes(shop, "first", customer=CUSTOMER, name="Анна <Смирнова>")
    await inquiries.accept_inquiry((await Inquiry.get()).id, actor=anna)
    await customer_writes(shop, "are you there?", customer=CUSTOMER)
    await harness.notifier.drain()

    await harness.press(ANNA, harness.last_to(ANNA), "Reply")
    prompt = harness.last_to(ANNA)
    assert "Write the reply to Анна <Смирнова>" in prompt["text"]  # escaped: shown as text
    await harness.press(ANNA, prompt, "Quick replies")
    listing = harness.last_to(ANNA)
    labels = [b["text"] for b in buttons(listing)]
    assert labels == ["1. Приветствие", "2. <b>Моё</b>"]  # shared first, never another's
    assert (
        "1. Приветствие: Здравствуйте, Анна <Смирнова>! Ольга Петрова, Мебель & Ко."
        in (listing["text"])
    )
    assert "Чужое" not in listing["text"]
    await harness.press(ANNA, listing, "1. Приветствие")
    status = harness.last_to(ANNA)
    assert status["text"] == "⏳ Sending to Анна <Смирнова>…"
    reply = await Message.get(direction="out")
    assert reply.text == "Здравствуйте, Анна <Смирнова>! Ольга Петрова, Мебель & Ко."
    assert harness.woken
    await harness.send(ANNA, "not for the customer")  # the reply mode ended with the pick
    assert await Message.filter(direction="out").count() == 1
    assert (await inbox.send()).sent == 1
    assert [m["text"] for m in customer_api.delivered] == [reply.text]


async def test_without_quick_replies_the_button_says_where_to_add_them(
    harness: BotHarness, shop: Channel
) -> None:
    anna = await bound_manager(ANNA)
    await customer_writes(shop, "first", customer=CUSTOMER)
    await inquiries.accept_inquiry((await Inquiry.get()).id, actor=anna)
    await customer_writes(shop, "hello", customer=CUSTOMER)
    await harness.notifier.drain()
    await harness.press(ANNA, harness.last_to(ANNA), "Reply")
    query = await harness.press(ANNA, harness.last_to(ANNA), "Quick replies")
    assert harness.answer(query)["text"] == "No quick replies yet: add them in the panel."
    assert not await Message.filter(direction="out").exists()


async def test_a_reply_to_an_older_emails_card_answers_that_thread(
    harness: BotHarness, admin: User
) -> None:
    """One mailbox, one customer, two threads: replying to the card of the older email
    answers the older thread (its subject and Message-ID), not the newest one."""
    anna = await bound_manager(ANNA)
    await factories.scenario(require_next_step=False)
    mailbox = await channels.create_channel(
        kind="email",
        name="Почта",
        credentials={"password": "p"},
        settings={
            "address": "shop@example.com",
            "smtp_host": "127.0.0.1",
            "imap_host": "127.0.0.1",
        },
        actor=admin,
    )

    async def email(source_id: str, subject: str) -> None:
        await hub.ingest(
            mailbox,
            InboundMessage(
                source_id=source_id,
                external_user_id="p.ivanov@mail.ru",
                text=f"about {subject}",
                sent_at=datetime.now(UTC),
                meta={"subject": subject, "message_id": source_id, "references": []},
            ),
        )
        await harness.notifier.drain()

    await email("first@mail.ru", "Счёт")
    await inquiries.accept_inquiry((await Inquiry.get()).id, actor=anna)
    await email("second@mail.ru", "Доставка")
    newer_card = harness.last_to(ANNA)
    await email("third@mail.ru", "Re: Счёт")  # a later message of the first thread
    older = [m for m in harness.sent_to(ANNA) if "about Re: Счёт" in m.get("text", "")][-1]
    await harness.send(ANNA, "Счёт во вложении", reply_to=older)
    await harness.send(ANNA, "Завтра", reply_to=newer_card)
    first, second = await Message.filter(direction="out").order_by("id")
    assert first.meta["in_reply_to"] == "third@mail.ru" and first.meta["subject"] == "Re: Счёт"
    assert first.meta["references"] == ["third@mail.ru"]
    assert second.meta["in_reply_to"] == "second@mail.ru"
    assert second.meta["subject"] == "Доставка"

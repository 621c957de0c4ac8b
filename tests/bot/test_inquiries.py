"""Inquiry cards: pushed to every manager who may see the channel, accepted or rejected
from the card, the other managers' cards updated; hostile text and forged buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from crm import scenarios
from crm.models import Channel, Inquiry, InquiryStatus, Interest, ReasonKind, User
from inbox import hub
from inbox.channels.base import InboundMessage
from tests.bot.conftest import BotHarness, bound_manager, button_data, customer_writes

ANNA, BORIS = 620001, 620002
HOSTILE = "<b>Hi</b> & <script>alert(1)</script> price?"


async def test_two_managers_get_cards_and_one_accepts(harness: BotHarness, shop: Channel) -> None:
    anna = await bound_manager(ANNA, full_name="Anna")
    await bound_manager(BORIS, full_name="Boris")

    await customer_writes(shop, HOSTILE, name="Eve <i>&</i> Co")
    await harness.notifier.drain()

    card_a, card_b = harness.last_to(ANNA), harness.last_to(BORIS)
    for card in (card_a, card_b):
        assert HOSTILE in card["text"]  # escaped on the way in, shown verbatim
        assert "Eve <i>&</i> Co" in card["text"]
        assert "Shop bot" in card["text"]
    sent = harness.api.calls_to("sendMessage")
    assert all(c.params["parse_mode"] == "HTML" for c in sent)
    assert "&lt;script&gt;" in sent[-1].params["text"]

    answer = await harness.press(ANNA, card_a, "Accept")
    assert "yours" in harness.answer(answer)["text"]
    inquiry = await Inquiry.get()
    assert inquiry.status == InquiryStatus.ACCEPTED
    interest = await Interest.get()
    assert interest.responsible_id == anna.id  # type: ignore[attr-defined]

    assert "You took this inquiry" in harness.current(card_a)["text"]
    assert "Deal" in str(harness.current(card_a)["reply_markup"])
    b_now = harness.current(card_b)
    assert "Anna took this inquiry" in b_now["text"]
    assert "reply_markup" not in b_now  # nothing left to press
    edits = harness.api.calls_to("editMessageText")
    assert {c.params["chat_id"] for c in edits} == {ANNA, BORIS}

    # Boris pressing his stale card is told who took it
    late = await harness.press_data(BORIS, card_b, button_data(card_b, "Accept"))
    assert harness.answer(late)["text"] == "Anna has already taken this inquiry"
    assert await Interest.all().count() == 1


async def test_reject_with_a_reason_updates_everyone(
    harness: BotHarness, shop: Channel, admin: User
) -> None:
    await scenarios.add_reason(ReasonKind.REJECTION, "Spam", actor=admin)
    await scenarios.add_reason(ReasonKind.REJECTION, "Not our region", actor=admin)
    await bound_manager(ANNA, full_name="Anna")
    await bound_manager(BORIS, full_name="Boris")
    await customer_writes(shop, "buy cheap followers")
    await harness.notifier.drain()

    card = harness.last_to(BORIS)
    await harness.press(BORIS, card, "Reject")
    reasons = harness.current(card)
    assert [b["text"] for row in reasons["reply_markup"]["inline_keyboard"] for b in row] == [
        "Spam",
        "Not our region",
        "« Back",
    ]
    await harness.press(BORIS, reasons, "Spam")

    inquiry = await Inquiry.get().prefetch_related("rejection_reason")
    assert inquiry.status == InquiryStatus.REJECTED
    assert inquiry.rejection_reason.text == "Spam"
    assert "Rejected by Boris: Spam" in harness.last_to(ANNA)["text"]
    assert "Rejected by Boris: Spam" in harness.current(card)["text"]


async def test_forged_and_foreign_buttons_are_refused(harness: BotHarness, shop: Channel) -> None:
    await bound_manager(ANNA)
    await bound_manager(BORIS)
    await customer_writes(shop, "hello")
    await harness.notifier.drain()
    card = harness.last_to(ANNA)
    data = button_data(card, "Accept")

    # Anna's button pressed by Boris's account, a tampered id, a made-up signature
    inquiry = await Inquiry.get()
    signature = data.rpartition("|")[2]
    forged = [
        (BORIS, data),
        (ANNA, f"ia|{inquiry.id + 1}|{signature}"),
        (ANNA, f"ia|{inquiry.id}|AAAAAAAAAAA"),
        (ANNA, "ia|1"),
    ]
    for user, payload in forged:
        query = await harness.press_data(user, card, payload)
        answer = harness.answer(query)
        assert answer["text"] == "This button is not valid. Open the card again."
        assert answer["show_alert"] is True
    assert (await Inquiry.get()).status == InquiryStatus.OPEN
    assert not await Interest.exists()


async def test_inbox_lists_waiting_inquiries_and_opens_one(
    harness: BotHarness, shop: Channel
) -> None:
    await bound_manager(ANNA)
    await customer_writes(shop, "first", customer=1, name="Ivan")
    await customer_writes(shop, "second", customer=2, name="Olga")
    await customer_writes(shop, "more from Olga", customer=2, name="Olga")
    await harness.notifier.drain()
    assert "Another message, still waiting" in harness.last_to(ANNA)["text"]

    await harness.send(ANNA, "/inbox")
    listing = harness.last_to(ANNA)
    assert "Waiting inquiries: 2" in listing["text"]
    await harness.press(ANNA, listing, "2. Olga")
    card = harness.last_to(ANNA)
    assert "Olga" in card["text"] and "second" in card["text"]

    await harness.press(ANNA, card, "Open")
    conversation = harness.last_to(ANNA)
    assert "second" in conversation["text"] and "more from Olga" in conversation["text"]
    assert "Accept" in str(conversation["reply_markup"])


async def test_a_customer_opening_the_chat_shows_as_a_service_line_in_each_managers_language(
    harness: BotHarness, shop: Channel
) -> None:
    await bound_manager(ANNA, full_name="Anna", locale="en")
    await bound_manager(BORIS, full_name="Boris", locale="ru")
    await hub.ingest(
        shop,
        InboundMessage(
            source_id="5551002:900001",
            external_user_id="5551002",
            text="/start spring_<b>sale</b>",
            sent_at=datetime.now(UTC),
            profile_name="Lena",
            lead_source="spring_<b>sale</b>",
            opened_chat=True,
        ),
    )
    await harness.notifier.drain()

    english, russian = harness.last_to(ANNA)["text"], harness.last_to(BORIS)["text"]
    assert "Customer opened the chat (source: spring_<b>sale</b>)" in english
    assert "Клиент открыл чат (источник: spring_<b>sale</b>)" in russian
    for text in (english, russian):
        assert "/start" not in text  # the command is not shown as the customer's words
    sent = harness.api.calls_to("sendMessage")[-1].params["text"]
    assert "spring_&lt;b&gt;sale&lt;/b&gt;" in sent  # escaped for the HTML parse mode

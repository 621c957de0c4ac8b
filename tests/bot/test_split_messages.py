"""A long note or reply is not lost when Telegram splits it: a message arriving within a
few seconds (by Telegram's dates) of a note or a reply is its next part; later ones are
handled as usual. The feed opens a long note in full."""

from __future__ import annotations

import asyncio
import time

from crm import deals
from crm.models import Channel, Interaction, InteractionKind, Message, User
from tests.bot.conftest import BotHarness, bound_manager, buttons, customer_writes
from tests.crm import factories

ANNA = 680001
PART_1 = ("Клиент просит скидку, обсудили условия. " * 110)[:4096]
PART_2 = "Итог: перезвонить в пятницу, подготовить договор."
NOT_UNDERSTOOD = "I did not understand that. /help lists what I can do."


async def deal(manager: User) -> None:
    await factories.scenario(require_next_step=False)
    client = await factories.client(manager, name="Romashka")
    await deals.create_interest(actor=manager, client_id=client.id, title="Sofa")


async def test_a_note_split_by_telegram_is_saved_whole(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    await deal(anna)
    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "Sofa")
    await harness.press(ANNA, harness.last_to(ANNA), "Note")

    sent_at = int(time.time())
    await harness.send(ANNA, PART_1, date=sent_at)
    assert harness.last_to(ANNA)["text"] == "📝 Note saved."
    await harness.send(ANNA, PART_2, date=sent_at + 1)
    assert harness.last_to(ANNA)["text"] == "📝 Added to the note."
    (note,) = await Interaction.filter(kind=InteractionKind.NOTE)
    assert note.content == PART_1.strip() + "\n" + PART_2

    await harness.send(ANNA, "hello?", date=sent_at + 30)  # long after: not a part
    assert harness.last_to(ANNA)["text"] == NOT_UNDERSTOOD
    assert (await Interaction.get(id=note.id)).content.endswith(PART_2)

    # the feed cuts it at 80 characters and opens it whole
    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "Sofa")
    await harness.press(ANNA, harness.last_to(ANNA), "Feed")
    feed = harness.last_to(ANNA)
    assert PART_2 not in feed["text"]
    before = len(harness.sent_to(ANNA))
    await harness.press(ANNA, feed, "📖 1")
    whole = harness.sent_to(ANNA)[before:]
    joined = " ".join(m["text"] for m in whole)
    assert whole[0]["text"].startswith("📝 Note · ")
    squeezed = "".join(joined.split())
    assert squeezed.endswith("".join(PART_2.split()))
    assert "".join(PART_1.split()) in squeezed, "the whole note, nothing lost"


async def test_a_reply_split_by_telegram_reaches_the_customer_whole(
    harness: BotHarness, shop: Channel
) -> None:
    await bound_manager(ANNA)
    await customer_writes(shop, "Do you deliver to Kazan?")
    await harness.notifier.drain()
    card = harness.last_to(ANNA)

    sent_at = int(time.time())
    await harness.send(ANNA, PART_1, reply_to=card, date=sent_at)
    await harness.send(ANNA, PART_2, date=sent_at + 2)  # Telegram's second part: no quote
    replies = await Message.filter(direction="out").order_by("id")
    assert [m.text for m in replies] == [PART_1, PART_2]
    assert all(NOT_UNDERSTOOD not in m["text"] for m in harness.sent_to(ANNA))

    await harness.press(ANNA, card, "Open")
    await harness.press(ANNA, harness.last_to(ANNA), "Reply")
    await harness.send(ANNA, "Part one", date=sent_at + 60)
    await harness.send(ANNA, "part two", date=sent_at + 61)
    await harness.send(ANNA, "unrelated", date=sent_at + 90)
    texts = [m.text for m in await Message.filter(direction="out").order_by("id")]
    assert texts[2:] == ["Part one", "part two"]
    assert harness.last_to(ANNA)["text"] == NOT_UNDERSTOOD
    assert buttons(card)


async def test_parts_handled_at_once_still_make_one_note(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)
    await deal(anna)
    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "Sofa")
    await harness.press(ANNA, harness.last_to(ANNA), "Note")
    sent_at = int(time.time())
    first = {"message": harness.user_message(ANNA, text=PART_1, date=sent_at)}
    second = {"message": harness.user_message(ANNA, text=PART_2, date=sent_at)}
    # as polling hands them over: side by side, in the order Telegram sent them
    await asyncio.gather(harness.feed(first), harness.feed(second))
    (note,) = await Interaction.filter(kind=InteractionKind.NOTE)
    assert note.content == PART_1.strip() + "\n" + PART_2

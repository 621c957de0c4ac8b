"""Nothing lost to Telegram's 4,096-character limit: long customer messages are cut with a
margin and a "Show all" button; a card Telegram refuses is sent shortened, then as a plain
notice; a manager's long query is not echoed whole. The fake refuses what Telegram would."""

from __future__ import annotations

from bot.texts import CARD_QUOTE
from crm.models import Channel
from tests.bot.conftest import BotHarness, bound_manager, customer_writes
from tests.fakes.telegram_api import utf16_length

ANNA = 650001
# 4,000 characters of Cyrillic, markup-like text and emoji (which count twice)
LONG = ("Добрый день! <b>Нужен</b> диван & кресло 😀 " * 100)[:4000]


async def test_a_long_inquiry_is_cut_with_a_margin_and_show_all_sends_the_rest(
    harness: BotHarness, shop: Channel
) -> None:
    await bound_manager(ANNA)
    await customer_writes(shop, LONG)
    await harness.notifier.drain()

    card = harness.last_to(ANNA)
    assert len(harness.sent_to(ANNA)) == 1, "one card, not a card split in two"
    assert utf16_length(card["text"]) < 4096 - 500, "a margin below Telegram's limit"
    assert "Accept" in str(card["reply_markup"])
    shown = card["text"].split("\n", 2)[2]
    assert shown.endswith("…") and utf16_length(shown) <= CARD_QUOTE
    assert LONG.startswith(shown[:-1])

    await harness.press(ANNA, card, "Show all")
    rest = harness.sent_to(ANNA)[1:]
    assert rest and all(utf16_length(m["text"]) <= 4096 for m in rest)
    first, *more = [m["text"] for m in rest]
    assert first.startswith("📖 The rest of the message:\n…")
    tail = first.split("\n…", 1)[1] + "".join(more)
    assert "".join((shown[:-1] + tail).split()) == "".join(LONG.split()), "nothing lost"


async def test_a_refused_card_goes_out_shortened_then_as_a_plain_notice(
    harness: BotHarness, shop: Channel
) -> None:
    await bound_manager(ANNA)
    harness.api.fail_next("sendMessage", kind="400")
    await customer_writes(shop, LONG, name="Anna Smirnova")
    await harness.notifier.drain()
    short = harness.last_to(ANNA)
    assert "New inquiry" in short["text"] and "Accept" in str(short["reply_markup"])
    assert utf16_length(short["text"]) < 1000 and "…" in short["text"]

    harness.api.fail_next("sendMessage", times=2, kind="400")
    await customer_writes(shop, "and one more thing", customer=5551002, name="Oleg")
    await harness.notifier.drain()
    notice = harness.last_to(ANNA)
    assert notice["text"] == (
        "A new inquiry from Oleg (Shop bot) could not be shown here: open /inbox."
    )
    assert "reply_markup" not in notice
    last_call = harness.api.calls_to("sendMessage")[-1]
    assert "parse_mode" not in last_call.params  # plain text: nothing left to refuse


async def test_a_long_client_query_is_not_echoed_whole(harness: BotHarness) -> None:
    await bound_manager(ANNA)
    query = "ООО Ромашка " * 340
    await harness.send(ANNA, "/client " + query[:4088])
    answer = harness.last_to(ANNA)
    assert answer["text"].startswith("No client matches “ООО Ромашка")
    assert "…”" in answer["text"] and utf16_length(answer["text"]) < 200

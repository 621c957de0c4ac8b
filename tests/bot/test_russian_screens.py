"""The bot's main screens in Russian: a deal is "сделка" (never 1C's "интерес"), and no raw
English is left in what a Russian-speaking manager reads."""

from __future__ import annotations

from crm.models import Channel
from tests.bot.conftest import BotHarness, bound_manager, buttons, customer_writes

OLGA = 660001


def everything(message: dict[str, object]) -> str:
    """The text of a bot message with its buttons' labels."""
    return "\n".join([str(message.get("text", ""))] + [b["text"] for b in buttons(message)])


async def test_deal_screens_say_sdelka(harness: BotHarness, shop: Channel) -> None:
    await bound_manager(OLGA, full_name="Ольга", locale="ru")
    await customer_writes(shop, "Хочу купить диван", name="Ринат Хабибуллин")
    await harness.notifier.drain()
    card = harness.last_to(OLGA)
    answer = await harness.press(OLGA, card, "Принять")
    assert harness.answer(answer)["text"] == "Обращение ваше: сделка открыта."
    assert "Сделка" in everything(harness.current(card))

    await harness.send(OLGA, "/deals")
    listing = harness.last_to(OLGA)
    assert "Мои сделки: 1" in listing["text"]
    await harness.send(OLGA, "/help")
    assert "/deals — ваши сделки по этапам" in harness.last_to(OLGA)["text"]

    await harness.press(OLGA, listing, "1.")
    deal_card = harness.current(listing)  # the list becomes the card
    assert "Ринат Хабибуллин" in deal_card["text"]
    screens = [card, listing, deal_card]
    for screen in screens:
        assert "нтерес" not in everything(harness.current(screen)).lower()

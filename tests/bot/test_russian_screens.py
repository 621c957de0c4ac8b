"""The bot's main screens in Russian: a deal is "сделка" (never 1C's "интерес"), and no raw
English (enum values, untranslated labels) is left in what a Russian-speaking manager reads:
the inquiry card, the deal card and its feed, /deals, /today, /client and its card, a
reminder, the overdue nag and the morning digest."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from crm import deals, interactions
from crm.interactions import Plan, plan_interaction
from crm.models import Channel, Interest
from tests.bot.conftest import BotHarness, bound_manager, buttons, customer_writes
from tests.crm import factories
from tests.russian_text import english_words

OLGA, PAVEL = 660001, 660002
NOW = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
DATA = frozenset({"Shop", "bot"})  # the channel's name as its admin wrote it (conftest)
INTERES = re.compile(r"\b[Ии]нтерес(?:ы|а|ов|ом|ам|ами|ах|е|у)?\b")


def everything(message: dict[str, Any]) -> str:
    """The text of a bot message with its buttons' labels."""
    return "\n".join([str(message.get("text", ""))] + [b["text"] for b in buttons(message)])


def english_in(screens: dict[str, dict[str, Any]], harness: BotHarness) -> dict[str, list[str]]:
    found = {}
    for name, message in screens.items():
        text = everything(harness.current(message))
        words = english_words(text, DATA) + INTERES.findall(text)
        if words:
            found[name] = words
    return found


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
    assert english_in({"inquiry": card, "deals": listing}, harness) == {}


async def test_main_screens_have_no_english(harness: BotHarness, shop: Channel) -> None:
    with time_machine.travel(NOW, tick=True):
        olga = await bound_manager(OLGA, full_name="Ольга", locale="ru")
        await customer_writes(shop, "Хочу купить диван", name="Ринат Хабибуллин")
        await harness.notifier.drain()
        inquiry = harness.last_to(OLGA)

        client = await factories.client(olga, name="ИП Хабибуллин Р. Р.", birthday="1980-06-01")
        deal = await deals.create_interest(
            actor=olga, client_id=client.id, title="Кухня", amount=81700
        )
        await deals.create_interest(actor=olga, client_id=client.id, title="Шкаф")
        plans = (("call", 2, "Позвонить"), ("meeting", 4, "Показ"), ("email", 5, "КП"))
        for kind, hours, subject in (*plans, ("task", 6, "Счёт")):
            await plan_interaction(
                Plan(kind=kind, planned_at=NOW + timedelta(hours=hours), subject=subject),
                actor=olga,
                interest_id=deal.id,
            )
        dropped = await plan_interaction(
            Plan(kind="sms", planned_at=NOW + timedelta(days=2), subject="Отменённое"),
            actor=olga,
            interest_id=deal.id,
        )
        await interactions.cancel_interaction(dropped.id, actor=olga)
        await interactions.record_done(
            actor=olga, kind="note", client_id=client.id, interest_id=deal.id, content="Заметка"
        )
        await interactions.record_done(
            actor=olga, kind="message", client_id=client.id, interest_id=deal.id, content="Ок"
        )
        table = await deals.create_interest(actor=olga, client_id=client.id, title="Стол")
        await deals.win(table.id, actor=olga)

    with time_machine.travel(NOW + timedelta(hours=3), tick=True):  # the call is overdue now
        await harness.send(OLGA, "/today")
        today = harness.last_to(OLGA)
        await harness.send(OLGA, "/deals")
        listing = harness.last_to(OLGA)
        await harness.send(OLGA, "/deals")
        deal_card = harness.last_to(OLGA)
        await harness.press(OLGA, deal_card, "Кухня")
        await harness.send(OLGA, "/deals")
        feed = harness.last_to(OLGA)
        await harness.press(OLGA, feed, "Кухня")
        await harness.press(OLGA, feed, "Лента")
        feed = harness.last_to(OLGA)
        await harness.send(OLGA, "/client ИП Хабибуллин")
        client_card = harness.last_to(OLGA)  # one match: its card at once
        await harness.send(OLGA, "/client Хабибуллин")
        found = harness.last_to(OLGA)
        assert await harness.notifier.deliver_due_reminders_once() >= 1
        reminder = harness.last_to(OLGA)
        later = NOW + timedelta(hours=3, minutes=30)
        assert await harness.notifier.nag_overdue_once(now=later) == 1
        nag = harness.last_to(OLGA)
        nine = datetime(2026, 6, 2, 6, 0, tzinfo=UTC)  # 09:00 in Moscow, the next day
        assert await harness.notifier.send_digests_once(now=nine) == 1
        digest = harness.last_to(OLGA)

    screens = {
        "inquiry": inquiry,
        "today": today,
        "deals": listing,
        "deal card": deal_card,
        "feed": feed,
        "client search": found,
        "client card": client_card,
        "reminder": reminder,
        "overdue nag": nag,
        "digest": digest,
    }
    assert "Просрочено" in harness.current(today)["text"]
    assert english_in(screens, harness) == {}
    assert await Interest.filter(client_id=client.id).count() == 3


async def test_names_read_naturally_and_an_inquiry_deal_is_titled_by_its_words(
    harness: BotHarness, shop: Channel
) -> None:
    olga = await bound_manager(OLGA, full_name="Ольга", locale="ru")
    await bound_manager(PAVEL, full_name="Павел", locale="ru")
    words = "Хочу купить диван в гостиную, срочно, с доставкой до подъезда"
    await customer_writes(shop, words, name="Ринат Хабибуллин")
    await harness.notifier.drain()
    await harness.press(OLGA, harness.last_to(OLGA), "Принять")
    interest = await Interest.get()
    assert interest.title == "Telegram: Хочу купить диван в гостиную, срочно, с…"
    assert "Обращение принято. Ответственный: Ольга" in harness.last_to(PAVEL)["text"]

    await customer_writes(shop, "Вы здесь?", name="Ринат Хабибуллин")
    await harness.notifier.drain()
    await harness.press(OLGA, harness.last_to(OLGA), "Ответить")
    prompt = harness.last_to(OLGA)["text"]
    assert prompt.startswith("Ответ клиенту: Ринат Хабибуллин.")
    assert " для " not in prompt

    client = await factories.client(
        olga, kind="individual", name="Хабибуллин Ринат Рустамович", inn="500102030400"
    )
    person = await factories.client(olga, kind="individual", name="Ринат Петров")
    await harness.send(OLGA, "/client Хабибуллин Ринат")
    assert f"{client.name} · ИП" in harness.last_to(OLGA)["text"]
    await harness.send(OLGA, "/client Ринат Петров")
    assert f"{person.name} · Физлицо" in harness.last_to(OLGA)["text"]

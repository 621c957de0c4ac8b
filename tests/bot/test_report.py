"""`/report` in the managers' bot over the reports' known world (tests/crm/reports/world.py,
read on 31 March 2026): a manager sees their own month only, a head the team's table and
the funnel; the chart comes as a photo; the period buttons send another period's report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from bot.texts import visible_length
from tests.bot.conftest import BotHarness, buttons
from tests.bot.report_helpers import bind, plain, world
from tests.crm import factories
from tests.crm.reports.world import NOW, World
from tests.fakes.telegram_api import Upload

ANNA, HEAD, ADMIN = 801, 802, 803


@pytest.fixture
def at_month_end() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


__all__ = ["world"]  # the fixture


def photos(harness: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    found = [c.params for c in harness.api.calls_to("sendPhoto") if c.params["chat_id"] == chat_id]
    return [{**p, "caption": plain(p.get("caption", ""))} for p in found]


def texts(harness: BotHarness, chat_id: int) -> list[str]:
    return [
        plain(c.params["text"])
        for c in harness.api.calls_to("sendMessage")
        if c.params["chat_id"] == chat_id
    ]


pytestmark = pytest.mark.usefixtures("at_month_end")


async def test_a_managers_report_is_their_own_month_with_a_chart(
    harness: BotHarness, world: World
) -> None:
    await bind(world.anna, ANNA)
    await harness.send(ANNA, "/report")
    [photo] = photos(harness, ANNA)
    assert isinstance(photo["photo"], Upload)
    assert photo["photo"].data.startswith(b"\x89PNG")
    caption = photo["caption"]
    assert "My report" in caption and "This month" in caption
    assert "Won: 1 · RUB 100.00" in caption
    assert "Plan: 10% of RUB 1,000.00" in caption
    assert "Open deals: 1 · RUB 30.00" in caption  # D; Boris's C (200) is not hers
    assert "Conversion: 50% (1 won, 1 lost)" in caption
    assert "Overdue steps: 1" in caption
    assert "First reply: median 18 min · target 15 min, met 50%" in caption
    assert "200" not in caption and "Борис" not in caption
    assert texts(harness, ANNA) == []  # no team table for a manager
    labels = [b["text"] for b in buttons(harness.last_to(ANNA))]
    assert labels == ["This week", "• This month", "Last month", "This quarter"]


async def test_a_heads_report_is_the_team_table_and_the_funnel(
    harness: BotHarness, world: World
) -> None:
    await bind(world.head, HEAD)
    await harness.send(HEAD, "/report")
    [photo] = photos(harness, HEAD)
    assert photo["photo"].data.startswith(b"\x89PNG")
    assert "Team report" in photo["caption"]
    assert "Won: 1 · RUB 100.00" in photo["caption"]
    assert "Open deals: 2 · RUB 230.00" in photo["caption"]  # D and C
    assert "Plan: 7% of RUB 1,500.00" in photo["caption"]
    [table] = texts(harness, HEAD)
    lines = table.splitlines()
    anna = next(line for line in lines if "Анна" in line)
    boris = next(line for line in lines if "Борис" in line)
    assert "won 1 · RUB 100.00" in anna and "plan 10%" in anna and "overdue 1" in anna
    assert "reply 18 min" in anna
    assert "won 0" in boris and "plan 0%" in boris and "reply 2 h" in boris
    assert lines.index(anna) < lines.index(boris)  # the best first
    assert "This quarter" in [b["text"] for b in buttons(harness.last_to(HEAD))]


async def test_period_buttons_send_that_periods_report(harness: BotHarness, world: World) -> None:
    await bind(world.admin, ADMIN)
    await harness.send(ADMIN, "/report")
    first = harness.last_to(ADMIN)
    await harness.press(ADMIN, first, "Last month")
    assert "reply_markup" not in harness.current(first)  # the old buttons are gone
    february = photos(harness, ADMIN)[-1]["caption"]  # D entered S1 on 20.02: a funnel
    assert len(photos(harness, ADMIN)) == 2
    assert "Last month" in february and "Feb 1 – 28, 2026" in february
    assert "Won: 0" in february and "Conversion: — (0 won, 0 lost)" in february
    assert "Open deals: 2" in february  # the pipeline is today's
    assert "Анна" in texts(harness, ADMIN)[-1]
    labels = [b["text"] for b in buttons(harness.last_to(ADMIN))]
    assert "• Last month" in labels


async def test_a_manager_cannot_see_the_team_through_a_button(
    harness: BotHarness, world: World
) -> None:
    await bind(world.anna, ANNA)
    await harness.send(ANNA, "/report")
    await harness.press(ANNA, harness.last_to(ANNA), "This quarter")
    caption = photos(harness, ANNA)[-1]["caption"]
    assert "This quarter" in caption and "My report" in caption
    assert "Борис" not in caption and "230" not in caption


async def test_in_russian_the_report_speaks_of_deals(harness: BotHarness, world: World) -> None:
    await bind(world.head, HEAD, locale="ru")
    await harness.send(HEAD, "/report")
    caption = photos(harness, HEAD)[-1]["caption"]
    assert "Отчёт команды" in caption and "Открытые сделки: 2" in caption
    assert "230,00" in caption


async def test_a_long_team_table_is_split_within_telegrams_limits(
    harness: BotHarness, world: World
) -> None:
    for n in range(45):
        await factories.manager(full_name=f"Manager {n:02d} " + "Long-surname " * 12)
    await bind(world.head, HEAD)
    await harness.send(HEAD, "/report")
    [photo] = photos(harness, HEAD)
    assert visible_length(photo["caption"]) <= 1024
    tables = texts(harness, HEAD)  # the fake refuses a longer one, as Telegram does
    assert len(tables) >= 2 and all(visible_length(t) <= 4096 for t in tables)
    assert "…and 7 more: see Reports in the web panel" in tables[-1]  # 47 managers, 40 shown
    assert buttons(harness.last_to(HEAD))  # the buttons under the last part


async def test_a_report_with_nothing_to_draw_is_a_message(harness: BotHarness, db: object) -> None:
    newcomer = await factories.manager(locale="en")
    await bind(newcomer, ANNA)
    await harness.send(ANNA, "/report")
    assert photos(harness, ANNA) == []
    [text] = texts(harness, ANNA)
    assert "My report" in text and "Won: 0" in text and "Open deals: 0" in text
    assert "• This month" in [b["text"] for b in buttons(harness.last_to(ANNA))]


async def test_next_replies_to_later_messages_in_both_reports(
    harness: BotHarness, world: World
) -> None:
    from tests.crm.reports.test_next_response import later_messages

    await later_messages(world)  # Анна answered 20 and 4 working minutes, W3 still waits
    await bind(world.anna, ANNA, locale="ru")
    await harness.send(ANNA, "/report")
    caption = photos(harness, ANNA)[-1]["caption"]
    assert "Следующие ответы: медиана 12 мин · ждут 1" in caption
    await bind(world.head, HEAD)
    await harness.send(HEAD, "/report")
    assert "Next replies: median 18 min · waiting 1" in photos(harness, HEAD)[-1]["caption"]
    lines = texts(harness, HEAD)[-1].splitlines()
    assert "next 12 min" in next(line for line in lines if "Анна" in line)
    assert "next 1 h 38 min" in next(line for line in lines if "Борис" in line)  # 97.5


async def test_no_later_messages_no_next_reply_line(harness: BotHarness, world: World) -> None:
    await bind(world.anna, ANNA)
    await harness.send(ANNA, "/report")
    assert "Next replies" not in photos(harness, ANNA)[-1]["caption"]

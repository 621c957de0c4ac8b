"""A time already past is not planned silently: the planning dialog warns (its reminder
would go off at once) and offers the same time tomorrow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from crm.interactions import same_time_tomorrow
from crm.models import Interaction
from tests.bot.conftest import BotHarness, bound_manager, buttons
from tests.crm import factories

ANNA = 690001
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 15:00 in Moscow


async def test_a_past_time_warns_and_offers_the_same_time_tomorrow(harness: BotHarness) -> None:
    with time_machine.travel(T0, tick=True):
        anna = await bound_manager(ANNA, timezone="Europe/Moscow")
        await factories.client(anna, name="Romashka")
        await harness.send(ANNA, "/client Romashka")
        await harness.press(ANNA, harness.last_to(ANNA), "Task")
        dialog = harness.last_to(ANNA)
        await harness.press(ANNA, dialog, "10 ]")  # today
        await harness.send(ANNA, "09:00")  # six hours ago
        step = harness.last_to(ANNA)
        await harness.press(ANNA, step, "Skip")
        await harness.press(ANNA, harness.current(step), "Skip")
        confirm = harness.current(step)
        assert "This time has passed" in confirm["text"]
        assert "⏭ Same time tomorrow" in [b["text"] for b in buttons(confirm)]

        await harness.press(ANNA, confirm, "Same time tomorrow")
        moved = harness.current(step)
        assert "This time has passed" not in moved["text"]
        assert "Same time tomorrow" not in str(moved.get("reply_markup"))
        await harness.press(ANNA, moved, "Save")

    task = await Interaction.get()
    assert task.planned_at == datetime(2026, 3, 11, 6, 0, tzinfo=UTC)  # 09:00 in Moscow


def test_same_time_tomorrow_only_for_a_past_moment() -> None:
    now = T0
    assert same_time_tomorrow(now + timedelta(minutes=5), "Europe/Moscow", now) is None
    assert same_time_tomorrow(now - timedelta(seconds=30), "Europe/Moscow", now) is None
    last_week = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)  # 10:30 in Moscow
    assert same_time_tomorrow(last_week, "Europe/Moscow", now) == datetime(
        2026, 3, 11, 7, 30, tzinfo=UTC
    )

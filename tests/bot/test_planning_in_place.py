"""The planning dialog as the chat sees it, through the Bot API fake: one message edited in
place for every answer, typed dates and times understood or explained, one-tap presets,
tomorrow offered late in the day, no blank calendar rows, the client's time only when it
differs from the manager's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from crm import deals
from crm.models import Interaction, InteractionKind, InteractionState, Interest, User
from tests.bot.conftest import BotHarness, bound_manager, buttons
from tests.crm import factories

ANNA = 680001
SAMARA = ZoneInfo("Europe/Samara")
NOW = datetime(2026, 5, 12, 6, 0, tzinfo=UTC)  # Tuesday, 10:00 in Samara
LATE = datetime(2026, 5, 12, 16, 30, tzinfo=UTC)  # 20:30 in Samara


async def deal(region: str = "Приморский край", locale: str = "en") -> tuple[User, Interest]:
    await factories.scenario("Sales", ("One", "Two"), require_next_step=False)
    anna = await bound_manager(ANNA, timezone="Europe/Samara", locale=locale)
    client = await factories.client(anna, name="Lotus", region=region)
    interest = await deals.create_interest(actor=anna, client_id=client.id, title="Kitchen")
    return anna, interest


async def open_dialog(harness: BotHarness, kind: str = "Call") -> dict[str, Any]:
    """/deals -> the deal -> Plan -> the kind: the dialog's message, at the date step."""
    await harness.send(ANNA, "/deals")
    await harness.press(ANNA, harness.last_to(ANNA), "1. Kitchen")
    await harness.press(ANNA, harness.last_to(ANNA), "Plan")
    dialog = harness.last_to(ANNA)
    await harness.press(ANNA, dialog, kind)
    return dialog


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for b in buttons(message)]


async def test_typed_answers_edit_the_one_dialog_message(harness: BotHarness) -> None:
    with time_machine.travel(NOW, tick=True):
        _, interest = await deal()
        dialog = await open_dialog(harness)
        count = len(harness.sent_to(ANNA))

        await harness.send(ANNA, "31.02")
        shown = harness.current(dialog)["text"]
        assert "There is no such date (31.02): February 2026 has 28 days." in shown
        assert "choose the date" in shown  # still at the date step
        await harness.send(ANNA, "в обед")
        assert "I did not understand “обед”" in harness.current(dialog)["text"]

        await harness.send(ANNA, "завтра 11")
        shown = harness.current(dialog)["text"]
        assert "Send the subject" in shown and "31.02" not in shown  # explained once
        await harness.send(ANNA, "Prices <2027>")
        shown = harness.current(dialog)["text"]
        assert "Send the details" in shown and "Prices &lt;2027&gt;" not in shown
        assert "Prices <2027>" in shown  # escaped on the way, shown as typed
        await harness.send(ANNA, "Call the buyer")
        assert "Save it?" in harness.current(dialog)["text"]
        # every typed answer edited the dialog: not one message more
        assert len(harness.sent_to(ANNA)) == count
        await harness.press(ANNA, dialog, "Save")

    planned = await Interaction.get(interest_id=interest.id, state=InteractionState.PLANNED)
    assert planned.kind == InteractionKind.CALL
    assert planned.planned_at == datetime(2026, 5, 13, 11, 0, tzinfo=SAMARA)
    assert (planned.subject, planned.content) == ("Prices <2027>", "Call the buyer")


async def test_a_typed_time_at_the_time_step_and_a_day_only(harness: BotHarness) -> None:
    with time_machine.travel(NOW, tick=True):
        _, interest = await deal()
        dialog = await open_dialog(harness, "Meeting")
        await harness.send(ANNA, "через неделю")  # a day: its time next
        shown = harness.current(dialog)["text"]
        assert "May 19, 2026: choose the time" in shown
        await harness.send(ANNA, "25:99")
        assert "There is no such time: “25:99”" in harness.current(dialog)["text"]
        await harness.send(ANNA, "10.30")  # at the time step a dotted pair is a time
        await harness.press(ANNA, dialog, "Save")
    planned = await Interaction.get(interest_id=interest.id)
    assert planned.planned_at == datetime(2026, 5, 19, 10, 30, tzinfo=SAMARA)


async def test_russian_typed_dates(harness: BotHarness) -> None:
    with time_machine.travel(NOW, tick=True):
        _, interest = await deal(locale="ru")
        await harness.send(ANNA, "/deals")
        await harness.press(ANNA, harness.last_to(ANNA), "1. Kitchen")
        await harness.press(ANNA, harness.last_to(ANNA), "Запланировать")
        dialog = harness.last_to(ANNA)
        await harness.press(ANNA, dialog, "Звонок")
        await harness.send(ANNA, "31.02")
        assert "Такой даты нет (31.02)" in harness.current(dialog)["text"]
        await harness.send(ANNA, "пн 10")
        await harness.press(ANNA, dialog, "Сохранить")
    planned = await Interaction.get(interest_id=interest.id)
    assert planned.planned_at == datetime(2026, 5, 18, 10, 0, tzinfo=SAMARA)


async def test_call_tomorrow_with_a_preset_then_save(harness: BotHarness) -> None:
    with time_machine.travel(NOW, tick=True):
        _, interest = await deal()
        dialog = await open_dialog(harness)
        assert labels(harness.current(dialog))[:3] == [
            "Today 17:00",
            "Tomorrow 10:00",
            "In a week, 10:00",
        ]
        await harness.press(ANNA, dialog, "Tomorrow 10:00")
        assert "Send the subject" in harness.current(dialog)["text"]
        await harness.press(ANNA, dialog, "Save")
    planned = await Interaction.get(interest_id=interest.id)
    assert planned.planned_at == datetime(2026, 5, 13, 10, 0, tzinfo=SAMARA)
    assert planned.kind == InteractionKind.CALL and planned.subject == ""


async def test_late_in_the_day_tomorrow_is_offered(harness: BotHarness) -> None:
    with time_machine.travel(LATE, tick=True):
        _, interest = await deal()
        dialog = await open_dialog(harness)
        assert "Today 17:00" not in labels(harness.current(dialog))  # passed
        await harness.press(ANNA, dialog, "[ 12 ]", exact=True)  # today, in the calendar
        shown = harness.current(dialog)
        assert "no working hours are left" in shown["text"]
        assert [t for t in labels(shown) if ":00" in t] == []
        await harness.press(ANNA, dialog, "Tomorrow »")
        shown = harness.current(dialog)
        assert "May 13, 2026: choose the time" in shown["text"]
        await harness.press(ANNA, dialog, "08:00")
        await harness.press(ANNA, dialog, "Save")
    planned = await Interaction.get(interest_id=interest.id)
    assert planned.planned_at == datetime(2026, 5, 13, 8, 0, tzinfo=SAMARA)


async def test_no_blank_calendar_rows_and_the_clients_time_only_when_it_differs(
    harness: BotHarness,
) -> None:
    with time_machine.travel(NOW, tick=True):
        await deal(region="Самарская область")  # the client's clock is the manager's
        dialog = await open_dialog(harness)
        rows = harness.current(dialog)["reply_markup"]["inline_keyboard"]
        assert rows and all(any(b["text"].strip() for b in row) for row in rows)
        # 12 May 2026 is a Tuesday: the weeks of 1-10 May are gone, the 11th (a Monday,
        # already past) stays blank in the week that has today
        days = [b["text"] for row in rows for b in row]
        assert "4" not in days and "10" not in days and "[ 12 ]" in days
        await harness.press(ANNA, dialog, "13", exact=True)
        shown = harness.current(dialog)
        assert "the client's" not in shown["text"]
        assert "10:00" in labels(shown) and not any("👤" in t for t in labels(shown))
        await harness.press(ANNA, dialog, "10:00")
        await harness.press(ANNA, dialog, "Skip")
        await harness.press(ANNA, dialog, "Skip")
        assert "client time" not in harness.current(dialog)["text"]


async def test_text_at_the_kind_step_is_answered_in_the_dialog(harness: BotHarness) -> None:
    with time_machine.travel(NOW, tick=True):
        await deal()
        await harness.send(ANNA, "/deals")
        await harness.press(ANNA, harness.last_to(ANNA), "1. Kitchen")
        await harness.press(ANNA, harness.last_to(ANNA), "Plan")
        dialog = harness.last_to(ANNA)
        count = len(harness.sent_to(ANNA))
        await harness.send(ANNA, "завтра 11")
        assert "Choose the kind with a button." in harness.current(dialog)["text"]
        assert len(harness.sent_to(ANNA)) == count
        await harness.press(ANNA, dialog, "Call")
        assert "Choose the kind" not in harness.current(dialog)["text"]

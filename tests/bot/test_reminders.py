"""Reminders, the overdue nag and the daily digest: driven by scheduler ticks, delivered
exactly once through the claim service, in each manager's timezone; a manager who blocked
the bot is marked and left alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from tortoise import connections

from bot.app import create_bot
from bot.callbacks import Signer
from bot.notify import Notifier
from crm import clients, clock, deals
from crm.interactions import Plan, plan_interaction
from crm.models import (
    DigestSent,
    Interaction,
    InteractionState,
    Interest,
    Scenario,
    User,
)
from tests.bot.conftest import MANAGER_TOKEN, SECRET_KEY, BotHarness, bound_manager, buttons
from tests.crm import factories

ANNA, BORIS = 650001, 650002


@pytest.fixture
async def sales(db: object) -> Scenario:
    return await factories.scenario("Sales", ("First", "Second"), require_next_step=False)


async def deal_with_call(
    manager: User, *, minutes: int = 10, subject: str = "Call about the offer", n: int = 0
) -> Interaction:
    """A deal with a call planned `minutes` from now (the reminder is due 15 min before)."""
    client = await factories.client(manager, name=f"Client {n} <&>")
    interest = await deals.create_interest(actor=manager, client_id=client.id, title=f"Deal {n}")
    return await plan_interaction(
        Plan(kind="call", planned_at=clock.now() + timedelta(minutes=minutes), subject=subject),
        actor=manager,
        interest_id=interest.id,
    )


def reminders_sent(harness: BotHarness, chat_id: int) -> list[str]:
    return [
        c.params["text"]
        for c in harness.api.calls_to("sendMessage")
        if c.params["chat_id"] == chat_id and "Reminder" in c.params["text"]
    ]


@pytest.fixture
async def second_worker(harness: BotHarness) -> AsyncIterator[Notifier]:
    """Another process's notifier: its own Bot session, the same database and Telegram."""
    bot = create_bot(MANAGER_TOKEN, harness.api.base_url)
    yield Notifier(bot, Signer(SECRET_KEY))
    await bot.session.close()


async def test_a_reminder_fires_exactly_once_when_two_ticks_race(
    harness: BotHarness, second_worker: Notifier, sales: Scenario
) -> None:
    anna = await bound_manager(ANNA)
    boris = await bound_manager(BORIS)
    planned = [
        await deal_with_call(anna if n % 2 else boris, subject=f"Call #{n}", n=n) for n in range(30)
    ]
    first, second = await asyncio.gather(
        harness.notifier.deliver_due_reminders_once(),
        second_worker.deliver_due_reminders_once(),
    )
    assert first + second == 30
    texts = reminders_sent(harness, ANNA) + reminders_sent(harness, BORIS)
    for n in range(30):
        assert sum(f"Call #{n}</b>" in t for t in texts) == 1, n
    assert not await Interaction.filter(reminded_at__isnull=True).exists()
    assert await harness.notifier.deliver_due_reminders_once() == 0
    assert len(planned) == 30


async def test_reminder_buttons_snooze_and_complete(harness: BotHarness, sales: Scenario) -> None:
    anna = await bound_manager(ANNA, timezone="Asia/Yekaterinburg")
    call = await deal_with_call(anna)
    assert await harness.notifier.deliver_due_reminders_once() == 1
    reminder = harness.last_to(ANNA)
    assert "⏰ Reminder: 📞 Call" in reminder["text"]
    assert "Client 0 <&>" in reminder["text"]
    assert [b["text"] for b in buttons(reminder)] == [
        "✓ Done",
        "+1 hour",
        "Tomorrow",
        "📂 Open deal",
    ]

    before = clock.now()
    await harness.press(ANNA, reminder, "+1 hour")
    snoozed = await Interaction.get(id=call.id)
    assert snoozed.reminded_at is None
    assert snoozed.remind_at is not None
    assert timedelta(minutes=59) < snoozed.remind_at - before < timedelta(minutes=61)
    snoozed_card = harness.current(reminder)
    assert "I will remind you on" in snoozed_card["text"]
    # the reminder keeps its subject, client, deal and every button
    for kept in ("Call about the offer", "Client 0 <&>", "Deal 0", "⏰ Reminder: 📞 Call"):
        assert kept in snoozed_card["text"], kept
    assert buttons(snoozed_card) == buttons(reminder)
    with time_machine.travel(clock.now() + timedelta(hours=1, minutes=1)):
        assert await harness.notifier.deliver_due_reminders_once() == 1
    again = harness.last_to(ANNA)
    await harness.press(ANNA, again, "Tomorrow")
    tomorrow = await Interaction.get(id=call.id)
    assert tomorrow.remind_at is not None
    local = tomorrow.remind_at.astimezone(ZoneInfo("Asia/Yekaterinburg"))
    assert (local.hour, local.minute) == (9, 0)
    after = harness.current(again)
    assert "Call about the offer" in after["text"] and "Client 0 <&>" in after["text"]
    assert [b["text"] for b in buttons(after)] == [b["text"] for b in buttons(reminder)]
    await harness.press(ANNA, again, "Open deal")
    assert "Deal 0" in harness.last_to(ANNA)["text"]
    await harness.press(ANNA, again, "Done")
    assert (await Interaction.get(id=call.id)).state == InteractionState.DONE
    assert "✓ Done: Call about the offer" in harness.current(again)["text"]


async def test_done_with_a_required_next_step_plans_it_in_the_same_flow(
    harness: BotHarness, db: object
) -> None:
    await factories.scenario("Strict", ("A", "B"), require_next_step=True)
    anna = await bound_manager(ANNA)
    call = await deal_with_call(anna, minutes=60 * 24)
    await Interaction.filter(id=call.id).update(remind_at=clock.now())  # due now
    await harness.notifier.deliver_due_reminders_once()
    reminder = harness.last_to(ANNA)

    await harness.press(ANNA, reminder, "Done")
    assert (await Interaction.get(id=call.id)).state == InteractionState.PLANNED
    dialog = harness.last_to(ANNA)
    assert "Marking done: Call about the offer" in dialog["text"]
    await harness.press(ANNA, dialog, "Meeting")
    zone = ZoneInfo(anna.timezone)
    later = (clock.now() + timedelta(days=2)).astimezone(zone)
    if later.month != clock.now().astimezone(zone).month:
        await harness.press(ANNA, dialog, "»")
    await harness.press(ANNA, dialog, f"{later.day:02d}", exact=True)
    await harness.press(ANNA, dialog, "11:00", exact=True)
    await harness.press(ANNA, dialog, "Skip")
    await harness.press(ANNA, dialog, "Skip")
    await harness.press(ANNA, dialog, "Save")

    assert (await Interaction.get(id=call.id)).state == InteractionState.DONE
    nxt = await Interaction.get(state=InteractionState.PLANNED)
    assert nxt.kind == "meeting" and nxt.interest_id == call.interest_id  # type: ignore[attr-defined]


async def test_the_overdue_nag_comes_once(harness: BotHarness, sales: Scenario) -> None:
    anna = await bound_manager(ANNA)
    call = await deal_with_call(anna)
    await harness.notifier.deliver_due_reminders_once()
    later = clock.now() + timedelta(hours=2)
    assert await harness.notifier.nag_overdue_once(now=later) == 1
    assert "⚠️ Overdue: 📞 Call" in harness.last_to(ANNA)["text"]
    assert await harness.notifier.nag_overdue_once(now=later + timedelta(hours=1)) == 0
    assert (await Interaction.get(id=call.id)).nagged_at is not None


async def test_a_manager_who_blocked_the_bot_is_marked_and_left_alone(
    harness: BotHarness, sales: Scenario
) -> None:
    anna = await bound_manager(ANNA)
    await deal_with_call(anna, n=1)
    harness.api.block(ANNA)
    assert await harness.notifier.deliver_due_reminders_once() == 0
    assert (await User.get(id=anna.id)).telegram_blocked is True
    assert not await Interaction.filter(reminded_at__isnull=True).exists()  # not retried
    attempts = len(harness.api.calls_to("sendMessage"))

    await deal_with_call(anna, n=2)
    assert await harness.notifier.deliver_due_reminders_once() == 0
    nine_in_moscow = datetime.combine(clock.now().date(), time(6), UTC) + timedelta(days=1)
    with time_machine.travel(nine_in_moscow):
        await harness.notifier.send_digests_once()
    assert len(harness.api.calls_to("sendMessage")) == attempts  # no more tries

    harness.api.blocked.clear()
    await harness.send(ANNA, "/today")  # writing to the bot again unblocks
    assert (await User.get(id=anna.id)).telegram_blocked is False


async def test_writing_right_after_being_marked_blocked_unblocks(
    harness: BotHarness, sales: Scenario
) -> None:
    """The acting user is kept a moment between updates; being marked blocked drops it,
    so the next message reads the mark and clears it (not only after the cache expires)."""
    anna = await bound_manager(ANNA)
    await harness.send(ANNA, "/today")  # Anna is now the dispatcher's cached acting user
    await deal_with_call(anna, n=1)
    harness.api.block(ANNA)
    assert await harness.notifier.deliver_due_reminders_once() == 0
    assert (await User.get(id=anna.id)).telegram_blocked is True
    harness.api.blocked.clear()
    await harness.send(ANNA, "/today")
    assert (await User.get(id=anna.id)).telegram_blocked is False


async def test_the_digest_comes_at_nine_in_each_managers_timezone(
    harness: BotHarness, sales: Scenario
) -> None:
    with time_machine.travel(datetime(2026, 3, 9, 12, 0, tzinfo=UTC), tick=False):
        anna = await bound_manager(ANNA, timezone="Europe/Moscow")  # UTC+3
        boris = await bound_manager(BORIS, timezone="Asia/Vladivostok")  # UTC+10
        mine = await factories.client(anna, name="Olga <Birthday>", birthday="1985-03-10")
        await clients.add_person(mine.id, actor=anna, name="Pavel Director", birthday="1970-03-11")
        await factories.client(boris, name="Ivan Far East", birthday="1990-03-10")
        await deals.create_interest(actor=anna, client_id=mine.id, title="Idle deal")
        busy = await deal_with_call(anna, n=7)  # planned: a next step, and overdue tomorrow

    def digests(chat_id: int) -> list[str]:
        return [
            c.params["text"]
            for c in harness.api.calls_to("sendMessage")
            if c.params["chat_id"] == chat_id and "Good morning" in c.params["text"]
        ]

    moments = [
        (datetime(2026, 3, 9, 22, 59, tzinfo=UTC), 0, 0),  # Vladivostok 08:59
        (datetime(2026, 3, 9, 23, 0, tzinfo=UTC), 0, 1),  # Vladivostok 09:00
        (datetime(2026, 3, 10, 5, 59, tzinfo=UTC), 0, 1),  # Moscow 08:59
        (datetime(2026, 3, 10, 6, 0, tzinfo=UTC), 1, 1),  # Moscow 09:00
        (datetime(2026, 3, 10, 6, 1, tzinfo=UTC), 1, 1),  # once a day
        (datetime(2026, 3, 10, 8, 30, tzinfo=UTC), 1, 1),
    ]
    for moment, for_anna, for_boris in moments:
        with time_machine.travel(moment, tick=False):
            await harness.notifier.send_digests_once()
        assert (len(digests(ANNA)), len(digests(BORIS))) == (for_anna, for_boris), moment

    (anna_digest,) = digests(ANNA)
    assert "Good morning! Your day, Mar 10, 2026" in anna_digest
    assert "Olga &lt;Birthday&gt;" in anna_digest  # today
    assert "Pavel Director" in anna_digest  # a key person, tomorrow
    assert "Idle deal" in anna_digest and "Deal 7" not in anna_digest.split("Overdue")[0]
    assert "Overdue: 1" in anna_digest and busy.subject in anna_digest
    (boris_digest,) = digests(BORIS)
    assert "Ivan Far East" in boris_digest and "Olga" not in boris_digest
    assert await DigestSent.filter(sent_at__isnull=False).count() == 2
    assert not await Interest.filter(title="nothing").exists()


async def test_the_digest_reads_as_much_for_240_overdue_as_for_3(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest says how many are overdue and lists 15; the database reads neither more
    queries nor more rows than for the 15 shown, however many are overdue."""
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        anna = await bound_manager(ANNA, timezone="Europe/Moscow")  # 09:00 = 06:00 UTC
        boris = await bound_manager(BORIS, timezone="Asia/Vladivostok")  # 09:00 = 23:00 UTC
        for manager, overdue in ((anna, 240), (boris, 3)):
            client = await factories.client(manager, name=f"Client of {manager.id}")
            for n in range(overdue):
                await plan_interaction(
                    Plan("call", clock.now() + timedelta(hours=1, minutes=n), subject=f"#{n}"),
                    actor=manager,
                    client_id=client.id,
                )
    reads: list[int] = []
    db_client = type(connections.get("default"))
    original = db_client.execute_query

    async def counting(self: Any, sql: str, values: Any = None) -> Any:
        found = await original(self, sql, values)
        reads.append(len(found[1]))
        return found

    monkeypatch.setattr(db_client, "execute_query", counting)
    read = {}
    for chat, moment in (
        (BORIS, datetime(2026, 3, 9, 23, 0, tzinfo=UTC)),
        (ANNA, datetime(2026, 3, 10, 6, 0, tzinfo=UTC)),
    ):
        reads.clear()
        with time_machine.travel(moment, tick=False):
            assert await harness.notifier.send_digests_once() == 1
        read[chat] = (len(reads), sum(reads))
        digest = harness.last_to(chat)["text"]
        overdue = 240 if chat == ANNA else 3
        assert f"Overdue: {overdue}" in digest and "#0" in digest
        assert (f"#{min(overdue, 15) - 1}" in digest) and f"#{min(overdue, 15)}" not in digest
    (queries, rows), (boris_queries, boris_rows) = read[ANNA], read[BORIS]
    assert queries == boris_queries and rows - boris_rows == 15 - 3


async def test_blocking_and_restarting_the_bot_is_noticed_at_once(harness: BotHarness) -> None:
    anna = await bound_manager(ANNA)

    def membership(old: str, new: str) -> dict[str, object]:
        me = {"id": 7100000001, "is_bot": True, "first_name": "CRM Hub"}
        return {
            "my_chat_member": {
                "chat": {"id": ANNA, "type": "private", "first_name": "Anna"},
                "from": {"id": ANNA, "is_bot": False, "first_name": "Anna"},
                "date": 1_780_000_000,
                "old_chat_member": {"status": old, "user": me, "until_date": 0},
                "new_chat_member": {"status": new, "user": me, "until_date": 0},
            }
        }

    await harness.feed(membership("member", "kicked"))
    assert (await User.get(id=anna.id)).telegram_blocked is True
    await harness.feed(membership("kicked", "member"))
    assert (await User.get(id=anna.id)).telegram_blocked is False


async def test_snoozing_a_client_reminder_keeps_its_client_button(
    harness: BotHarness, sales: Scenario
) -> None:
    anna = await bound_manager(ANNA)
    client = await factories.client(anna, name="Lotus")
    await plan_interaction(
        Plan(kind="task", planned_at=clock.now() + timedelta(minutes=5), subject="Send the price"),
        actor=anna,
        client_id=client.id,
    )
    assert await harness.notifier.deliver_due_reminders_once() == 1
    reminder = harness.last_to(ANNA)
    await harness.press(ANNA, reminder, "Tomorrow")
    after = harness.current(reminder)
    assert "Send the price" in after["text"] and "Lotus" in after["text"]
    assert "💤 I will remind you on" in after["text"]
    assert [b["text"] for b in buttons(after)] == ["✓ Done", "+1 hour", "Tomorrow", "👤 Client"]

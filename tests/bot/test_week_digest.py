"""The heads' weekly digest (`bot-week-digest` tick): Monday 09:00 in each head's own time
zone, last week against the week before, once per head and week even with two workers;
admins bound to the bot get it too, managers do not. The known world of the reports:
last week (9-15 March 2026) against 2-8 March."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import time_machine

from bot.report_notify import ReportNotices
from crm.models import User
from tests.bot.conftest import BotHarness
from tests.bot.report_helpers import bind, plain, world
from tests.crm.reports.world import World

ANNA, HEAD, ADMIN = 811, 812, 813
__all__ = ["world"]  # the fixture


def digests(harness: BotHarness, chat_id: int) -> list[str]:
    return [
        plain(c.params["text"])
        for c in harness.api.calls_to("sendMessage")
        if c.params["chat_id"] == chat_id and "Last week" in c.params["text"] and not c.fault
    ]


async def tick(notices: ReportNotices, at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return await notices.send_week_digests_once()


async def test_monday_nine_in_each_heads_zone_once(harness: BotHarness, world: World) -> None:
    await bind(world.head, HEAD, timezone="Asia/Vladivostok")  # UTC+10
    await bind(world.admin, ADMIN, timezone="Europe/Moscow")  # UTC+3
    await bind(world.anna, ANNA)
    notices = ReportNotices(harness.notifier)
    assert await tick(notices, datetime(2026, 3, 15, 22, 59, tzinfo=UTC)) == 0  # 08:59 Mon
    assert await tick(notices, datetime(2026, 3, 15, 23, 0, tzinfo=UTC)) == 1  # 09:00 Mon
    assert (len(digests(harness, HEAD)), len(digests(harness, ADMIN))) == (1, 0)
    assert await tick(notices, datetime(2026, 3, 15, 23, 30, tzinfo=UTC)) == 0  # not twice
    assert await tick(notices, datetime(2026, 3, 16, 5, 59, tzinfo=UTC)) == 0  # Moscow 08:59
    other = ReportNotices(harness.notifier)  # a second worker
    with time_machine.travel(datetime(2026, 3, 16, 6, 0, tzinfo=UTC), tick=False):
        sent = await asyncio.gather(
            notices.send_week_digests_once(), other.send_week_digests_once()
        )
    assert sum(sent) == 1
    assert (len(digests(harness, HEAD)), len(digests(harness, ADMIN))) == (1, 1)
    assert digests(harness, ANNA) == []  # managers get their daily digest, not this one
    assert await tick(notices, datetime(2026, 3, 23, 6, 0, tzinfo=UTC)) == 1  # next Monday
    assert len(digests(harness, ADMIN)) == 2

    [digest] = digests(harness, HEAD)
    assert "Last week, Mar 9 – 15, 2026" in digest
    # won: none last week, A (100) the week before
    assert "Won: 0 · RUB 0.00 (−1, −RUB 100.00 on the week before)" in digest
    assert "New deals: 1 (−1)" in digest  # C; A and B the week before
    assert "Lost: 0 (−1)" in digest
    assert "Inquiries: 3 (+1)" in digest  # Q3, Q4, Q5; Q1, Q2 the week before
    assert "First reply: median 2 h (was 18 min)" in digest


async def test_not_on_other_days_or_after_noon(harness: BotHarness, world: World) -> None:
    await bind(world.head, HEAD, timezone="Europe/Moscow")
    notices = ReportNotices(harness.notifier)
    assert await tick(notices, datetime(2026, 3, 17, 6, 0, tzinfo=UTC)) == 0  # Tuesday 09:00
    assert await tick(notices, datetime(2026, 3, 16, 9, 0, tzinfo=UTC)) == 0  # Monday noon
    assert await tick(notices, datetime(2026, 3, 16, 8, 59, tzinfo=UTC)) == 1  # 11:59, late


async def test_a_failed_send_is_tried_again_and_a_blocked_head_is_left_alone(
    harness: BotHarness, world: World
) -> None:
    await bind(world.head, HEAD, timezone="Europe/Moscow")
    notices = ReportNotices(harness.notifier)
    harness.api.fail_next("sendMessage", kind="502")  # a proxy's HTML error page
    assert await tick(notices, datetime(2026, 3, 16, 6, 0, tzinfo=UTC)) == 0
    assert digests(harness, HEAD) == []  # the claim was given back
    assert await tick(notices, datetime(2026, 3, 16, 6, 1, tzinfo=UTC)) == 1
    assert await tick(notices, datetime(2026, 3, 16, 6, 2, tzinfo=UTC)) == 0
    assert len(digests(harness, HEAD)) == 1

    await bind(world.admin, ADMIN, timezone="Europe/Moscow")
    harness.api.block(ADMIN)
    assert await tick(notices, datetime(2026, 3, 16, 6, 3, tzinfo=UTC)) == 0
    assert (await User.get(id=world.admin.id)).telegram_blocked is True
    calls = len(harness.api.calls_to("sendMessage"))
    assert await tick(notices, datetime(2026, 3, 16, 6, 4, tzinfo=UTC)) == 0
    assert len(harness.api.calls_to("sendMessage")) == calls  # not tried again

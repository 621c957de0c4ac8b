"""First-reply SLA nudges from the `bot-sla` tick: the responsible manager when a customer
has waited the company's target in working minutes, the heads at twice it; each once per
inquiry even with two workers ticking; never for an answered inquiry; only in working
time (Moscow, 09:00-18:00 Monday to Friday, target 15 minutes)."""

from __future__ import annotations

import asyncio
import html
import itertools
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.app import ManagerBot
from bot.report_notify import ReportNotices
from crm import channels, clients, company, conversations
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Direction,
    Inquiry,
    Message,
    MessageStatus,
    NoticeSent,
    Role,
    User,
)
from crm.users import create_user
from tests.bot.conftest import BotHarness, bound_manager, buttons
from tests.bot.report_helpers import bind

MSK = ZoneInfo("Europe/Moscow")
ANNA, HEAD = 901, 902
_seq = itertools.count(1)


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=MSK)  # 2 March 2026 is a Monday


@pytest.fixture
async def sla_shop(db: object) -> Channel:
    await company.update_company(
        {
            "default_timezone": "Europe/Moscow",
            "work_day_start": time(9),
            "work_day_end": time(18),
            "work_days": "12345",
            "sla_first_reply_minutes": 15,
        },
        actor=None,
    )
    return await channels.create_channel(
        kind=ChannelKind.TELEGRAM, name="Shop bot", credentials={"token": "1:x"}, actor=None
    )


async def waiting(
    channel: Channel, responsible: User | None, at: datetime, name: str = "Customer <1>"
) -> Conversation:
    """A customer's first message at `at`: an open inquiry."""
    n = next(_seq)
    with time_machine.travel(at, tick=False):
        client = await clients.create_client(actor=responsible, name=name)
        identity = await ChannelIdentity.create(channel=channel, external_id=str(n), client=client)
        conversation = await Conversation.create(
            channel=channel, identity=identity, client=client, last_message_at=at
        )
        await Message.create(
            conversation=conversation,
            channel=channel,
            direction=Direction.IN,
            text="Hello",
            source_id=f"in-{n}",
            status=MessageStatus.RECEIVED,
            sent_at=at,
        )
        await Inquiry.create(
            conversation=conversation, client=client, channel=channel, first_message_at=at
        )
    return conversation


async def tick(notices: ReportNotices, at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return await notices.nudge_sla_once()


def nudges(harness: BotHarness, chat_id: int) -> list[str]:
    return [
        html.unescape(c.params["text"])
        for c in harness.api.calls_to("sendMessage")
        if c.params["chat_id"] == chat_id and "waiting for a reply" in c.params["text"]
    ]


async def people() -> tuple[User, User]:
    anna = await bound_manager(ANNA, timezone="Europe/Moscow")
    head = await create_user(
        email="head@example.com", full_name="Head", role=Role.HEAD, locale="en", actor=None
    )
    return anna, await bind(head, HEAD)


async def test_the_manager_at_the_sla_and_the_heads_at_twice_it_once_each(
    harness: BotHarness, sla_shop: Channel
) -> None:
    anna, _ = await people()
    await waiting(sla_shop, anna, msk(2, 10))
    notices = ReportNotices(harness.notifier)
    assert await tick(notices, msk(2, 10, 14)) == 0
    assert await tick(notices, msk(2, 10, 15)) == 1
    [nudge] = nudges(harness, ANNA)
    assert "Customer <1> has been waiting for a reply for 15 min (target 15 min)" in nudge
    assert "&lt;1&gt;" in harness.api.calls_to("sendMessage")[-1].params["text"]  # escaped
    labels = [b["text"] for b in buttons(harness.last_to(ANNA))]
    assert any("Accept" in label for label in labels) and any("Reply" in x for x in labels)
    assert nudges(harness, HEAD) == []
    assert await tick(notices, msk(2, 10, 20)) == 0  # once
    assert await tick(notices, msk(2, 10, 30)) == 1
    [escalated] = nudges(harness, HEAD)
    assert "30 min, twice the target of 15 min" in escalated
    assert f"Responsible: {anna.full_name}" in escalated
    assert await tick(notices, msk(2, 11, 30)) == 0
    assert len(nudges(harness, ANNA)) == 1 and len(nudges(harness, HEAD)) == 1


async def test_two_workers_ticking_at_once_send_each_nudge_once(
    harness: BotHarness, sla_shop: Channel
) -> None:
    anna, _ = await people()
    await waiting(sla_shop, anna, msk(2, 10))
    workers = [ReportNotices(harness.notifier), ReportNotices(harness.notifier)]
    with time_machine.travel(msk(2, 10, 40), tick=False):  # past both: both due at once
        sent = await asyncio.gather(*(w.nudge_sla_once() for w in workers))
    assert sum(sent) == 2
    assert len(nudges(harness, ANNA)) == 1 and len(nudges(harness, HEAD)) == 1
    assert await NoticeSent.filter(sent_at__isnull=False).count() == 2


async def test_an_answered_inquiry_is_never_nudged(harness: BotHarness, sla_shop: Channel) -> None:
    anna, _ = await people()
    conversation = await waiting(sla_shop, anna, msk(2, 10))
    with time_machine.travel(msk(2, 10, 5), tick=False):
        await conversations.queue_reply(conversation.id, actor=anna, text="Hello! How can I help?")
    robot = await waiting(sla_shop, anna, msk(2, 10), "Customer <2>")
    with time_machine.travel(msk(2, 10, 1), tick=False):  # a stage robot: not a reply
        await conversations.queue_reply(robot.id, actor=None, text="We will answer soon")
    notices = ReportNotices(harness.notifier)
    assert await tick(notices, msk(2, 11)) == 2  # the robot's customer: Anna, then the heads
    assert len(nudges(harness, ANNA)) == 1 and len(nudges(harness, HEAD)) == 1
    assert "Customer <2>" in nudges(harness, ANNA)[0]


async def test_only_working_minutes_count_and_nobody_is_nudged_after_hours(
    harness: BotHarness, sla_shop: Channel
) -> None:
    anna, _ = await people()
    await waiting(sla_shop, anna, msk(2, 17, 55))  # 5 working minutes left on Monday
    notices = ReportNotices(harness.notifier)
    assert await tick(notices, msk(2, 18, 30)) == 0
    assert await tick(notices, msk(2, 23)) == 0
    assert await tick(notices, msk(3, 9, 9)) == 0  # 14 working minutes
    assert await tick(notices, msk(3, 9, 10)) == 1
    assert "for 15 min" in nudges(harness, ANNA)[0]


async def test_a_customer_nobody_is_responsible_for_reaches_the_heads(
    harness: BotHarness, sla_shop: Channel
) -> None:
    await people()
    await waiting(sla_shop, None, msk(2, 10))
    notices = ReportNotices(harness.notifier)
    assert await tick(notices, msk(2, 10, 20)) == 0
    assert await tick(notices, msk(2, 10, 30)) == 1
    [escalated] = nudges(harness, HEAD)
    assert "Nobody is responsible for this client yet." in escalated
    assert nudges(harness, ANNA) == []


def test_the_bot_registers_both_ticks() -> None:
    bot = ManagerBot(token="1:x", secret_key="k" * 32, wake_outbox=lambda: None)
    ticks = bot.ticks()
    assert ticks["bot-sla"][0] == bot.report_notices.nudge_sla_once
    assert ticks["bot-week-digest"][0] == bot.report_notices.send_week_digests_once

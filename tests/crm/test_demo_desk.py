"""A fresh demo shows a working desk (crm.demo.desk), read through the services the inbox
and the SLA use: inquiries waiting to be taken for several managers (a few past the SLA,
some still within it, some from leads nobody is responsible for), conversations whose
customer wrote last, each manager seeing only their own; made at the weekend, the desk is
the last working day's."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from tortoise.context import TortoiseContext

from crm import demo
from crm.conversations import conversations_of
from crm.demo.desk import last_working
from crm.inquiries import open_inquiries
from crm.models import Client, Direction, Inquiry, InquiryStatus, Message, Role, User
from crm.sla import waiting_past_sla

MONDAY_NOON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)


async def _last_direction(conversation_id: int) -> Direction:
    message = await Message.filter(conversation_id=conversation_id).order_by("-id").first()
    assert message is not None
    return message.direction


async def test_a_fresh_demo_has_waiting_inquiries_and_unanswered_customers(
    db: TortoiseContext,
) -> None:
    await demo.generate(800, seed=4, now=MONDAY_NOON)
    managers = await User.filter(role=Role.MANAGER).order_by("id")
    waiting_for: Counter[int] = Counter()
    unanswered_for: Counter[int] = Counter()
    for manager in managers:
        for inquiry in await open_inquiries(manager, limit=500):
            client = await Client.get(id=inquiry.client_id)  # type: ignore[attr-defined]
            assert client.responsible_id in (None, manager.id)  # type: ignore[attr-defined]
            if client.responsible_id == manager.id:  # type: ignore[attr-defined]
                waiting_for[manager.id] += 1
        for conversation in await conversations_of(manager, limit=10):
            if await _last_direction(conversation.id) == Direction.IN:
                unanswered_for[manager.id] += 1
    assert len(waiting_for) >= 5, waiting_for
    assert len(unanswered_for) >= 10, unanswered_for
    # leads nobody is responsible for wait too, for everyone to take
    leads = await Inquiry.filter(status=InquiryStatus.OPEN, client__responsible_id=None).count()
    assert leads >= 1
    # the newest conversations of a manager: the customers who wrote last come first
    sla, past = await waiting_past_sla(MONDAY_NOON)
    assert sla == 15
    waiting = await Inquiry.filter(
        status=InquiryStatus.OPEN, first_message_at__gte=datetime(2026, 3, 2, tzinfo=UTC)
    ).count()
    assert 3 <= len([w for w in past if w.status == InquiryStatus.OPEN]) < waiting
    assert any(w.status == InquiryStatus.ACCEPTED for w in past)  # taken, not answered
    assert all(w.since <= MONDAY_NOON for w in past)


async def test_at_the_weekend_the_desk_is_the_last_working_days(db: TortoiseContext) -> None:
    friday_close = datetime(2026, 3, 6, 14, 59, tzinfo=UTC)  # 17:59 in Moscow
    assert last_working(int(SATURDAY.timestamp())) == int(friday_close.timestamp())
    assert last_working(int(MONDAY_NOON.timestamp())) == int(MONDAY_NOON.timestamp())
    await demo.generate(300, seed=9, now=SATURDAY)
    newest = await Inquiry.filter(status=InquiryStatus.OPEN).order_by("-first_message_at").first()
    assert newest is not None and newest.first_message_at <= friday_close
    assert newest.first_message_at >= datetime(2026, 3, 6, 9, tzinfo=UTC)
    assert not await Message.filter(created_at__gt=friday_close).exists()

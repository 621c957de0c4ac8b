"""A conversation's waiting time (`Conversation.waiting_since`), kept by the inbox on
both of its ingest paths (one message, a batch of known senders) and by replies: the
customer's first message since a person last answered; a robot's answer does not end it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm import channels, conversations
from crm.models import Channel, Conversation, User
from inbox import batch, hub
from inbox.channels.base import InboundMessage
from tests.crm import factories

FIRST = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def said(n: int, minute: int) -> InboundMessage:
    return InboundMessage(
        source_id=f"w{n}",
        external_user_id="5550100",
        text=f"сообщение {n}",
        sent_at=FIRST.replace(minute=minute),
        profile_name="Анна",
    )


@pytest.fixture
async def admin(db: object) -> User:
    await factories.scenario(require_next_step=False)
    return await factories.admin()


@pytest.fixture
async def tg(admin: User) -> Channel:
    return await channels.create_channel(
        kind="telegram", name="Бот", credentials={"token": "1:x"}, actor=admin
    )


async def test_waiting_starts_at_the_first_unanswered_message_and_ends_with_a_reply(
    admin: User, tg: Channel
) -> None:
    await hub.ingest(tg, said(1, 0))
    conversation = await Conversation.get()
    assert conversation.waiting_since == FIRST
    await batch.ingest_many(tg, [said(2, 5), said(3, 6)])  # the fast path: a known sender
    conversation = await Conversation.get()
    assert conversation.waiting_since == FIRST  # still since the first one
    assert conversation.last_message_at == FIRST.replace(minute=6)
    await conversations.queue_reply(conversation.id, actor=None, text="Робот: спасибо")
    assert (await Conversation.get()).waiting_since == FIRST  # an automatic answer
    await conversations.queue_reply(conversation.id, actor=admin, text="Здравствуйте!")
    assert (await Conversation.get()).waiting_since is None
    await batch.ingest_many(tg, [said(4, 20), said(5, 21)])
    assert (await Conversation.get()).waiting_since == FIRST.replace(minute=20)
    await conversations.queue_reply(conversation.id, actor=admin, text="Отвечаю")
    await hub.ingest(tg, said(6, 30))
    assert (await Conversation.get()).waiting_since == FIRST.replace(minute=30)

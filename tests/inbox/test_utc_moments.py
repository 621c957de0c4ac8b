"""Letters keep their sender's UTC offset in the Date header (`14:00 +0300`); the inbox
stores and orders them as the moments they are. On SQLite tortoise keeps datetimes as ISO
text, so `14:00+03:00` stored as is sorts after `11:30+00:00` although it is earlier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm import channels, conversations
from crm.models import Channel, Conversation, Message, User
from inbox import batch, hub
from inbox.channels.base import InboundMessage
from inbox.channels.email_mime import parse_email
from tests.crm import factories

MOSCOW_LETTER = "Fri, 27 Nov 2026 14:00:00 +0300"  # 11:00 UTC: the earlier one
LONDON_LETTER = "Fri, 27 Nov 2026 11:30:00 +0000"  # 11:30 UTC: the later one
EARLIER = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 27, 11, 30, tzinfo=UTC)


def letter(sender: str, date: str, n: int) -> InboundMessage:
    raw = (
        f"From: {sender}\r\nTo: sales@example.com\r\nSubject: Price {n}\r\n"
        f"Message-ID: <{n}.{sender}>\r\nDate: {date}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHow much?\r\n"
    ).encode()
    return parse_email(raw)


@pytest.fixture
async def admin(db: object) -> User:
    await factories.scenario(require_next_step=False)
    return await factories.admin()


@pytest.fixture
async def mailbox(admin: User) -> Channel:
    return await channels.create_channel(
        kind="email",
        name="Почта",
        credentials={"password": "p"},
        settings={"address": "sales@example.com"},
        actor=admin,
    )


async def _stored_text(conversation_id: int) -> str:
    conn = Conversation._meta.db
    _, rows = await conn.execute_query(
        f"SELECT CAST(last_message_at AS TEXT) FROM conversations WHERE id = {int(conversation_id)}"
    )
    return str(rows[0][0])


async def _assert_order(admin: User, backend: str) -> None:
    listed = await conversations.conversations_of(admin)
    senders = [(await c.identity).external_id for c in listed]  # type: ignore[attr-defined]
    assert senders == ["london@example.org", "moscow@example.ru"]
    assert [c.last_message_at for c in listed] == [LATER, EARLIER]
    # The comparison the database makes agrees: only the later letter is after 11:15.
    after = await Conversation.filter(
        last_message_at__gt=datetime(2026, 11, 27, 11, 15, tzinfo=UTC)
    ).values_list("id", flat=True)
    assert list(after) == [listed[0].id]
    if backend == "sqlite":  # PostgreSQL's timestamptz keeps no offset
        for conversation in listed:
            assert (await _stored_text(conversation.id)).endswith("+00:00")


@pytest.mark.parametrize("moscow_first", [True, False])
async def test_letters_with_offsets_order_conversations_by_moment(
    admin: User, mailbox: Channel, backend: str, moscow_first: bool
) -> None:
    moscow = letter("moscow@example.ru", MOSCOW_LETTER, 1)
    london = letter("london@example.org", LONDON_LETTER, 2)
    for item in [moscow, london] if moscow_first else [london, moscow]:
        await hub.ingest(mailbox, item)
    await _assert_order(admin, backend)


@pytest.mark.parametrize("moscow_first", [True, False])
async def test_a_batch_of_known_senders_stores_moments_in_utc(
    admin: User, mailbox: Channel, backend: str, moscow_first: bool
) -> None:
    # Both senders already wrote (their inquiries wait), so the batch takes the fast path.
    for n, sender in enumerate(["moscow@example.ru", "london@example.org"]):
        await hub.ingest(mailbox, letter(sender, "Thu, 26 Nov 2026 09:00:00 +0000", 10 + n))
    plain = [
        InboundMessage(m.source_id, m.external_user_id, m.text, m.sent_at, meta=m.meta)
        for m in (
            letter("moscow@example.ru", MOSCOW_LETTER, 1),
            letter("london@example.org", LONDON_LETTER, 2),
        )
    ]
    await batch.ingest_many(mailbox, plain if moscow_first else plain[::-1])
    await _assert_order(admin, backend)
    stored = await Message.filter(source_id__in=[m.source_id for m in plain]).order_by("-sent_at")
    assert [m.sent_at for m in stored] == [LATER, EARLIER]

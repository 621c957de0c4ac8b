"""A client's kept last contact (`clients.last_contact_at`, crm.last_contact) equals the
latest done interaction's moment after every write that changes it: a customer's message
into a deal's feed (one at a time and in a batch), the messages fed in when an inquiry is
accepted, a note, a completed, cancelled and restored interaction, a merge and its undo;
a reply (no interaction) leaves it. The migration's backfill gives the same values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from crm import channels, conversations, inquiries, last_contact, merge
from crm.interactions import (
    Plan,
    cancel_interaction,
    complete_interaction,
    plan_interaction,
    record_done,
    restore_interaction,
)
from crm.models import Channel, Client, Conversation, Inquiry, User
from inbox import batch, hub
from inbox.channels.base import InboundMessage
from tests.crm import factories

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def said(n: int, minutes: int, user: str = "1001", name: str = "Анна Смирнова") -> InboundMessage:
    return InboundMessage(
        source_id=f"{user}:{n}",
        external_user_id=user,
        text=f"сообщение {n}",
        sent_at=NOW + timedelta(minutes=minutes),
        profile_name=name,
    )


async def expected() -> dict[int, datetime]:
    """Every client's last contact as crm.client_list has always defined it."""
    conn = connections.get("default")
    _, rows = await conn.execute_query(
        "SELECT c.id, (SELECT MAX(i.sort_at) FROM interactions i"
        " WHERE i.client_id = c.id AND i.state = 'done') FROM clients c"
    )
    found = {}
    for ident, at in rows:
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        found[int(ident)] = at.astimezone(UTC) if at is not None else last_contact.NEVER
    return found


async def kept() -> dict[int, datetime]:
    return {c.id: c.last_contact_at for c in await Client.all()}


async def assert_kept() -> None:
    assert await kept() == await expected()


@pytest.fixture
async def admin(db: object) -> User:
    await factories.scenario(require_next_step=False)
    return await factories.admin()


@pytest.fixture
async def tg(admin: User) -> Channel:
    return await channels.create_channel(
        kind="telegram", name="Бот", credentials={"token": "1:x"}, actor=admin
    )


async def test_messages_into_a_deal_move_it_and_a_reply_does_not(admin: User, tg: Channel) -> None:
    await hub.ingest(tg, said(1, 0))  # an inquiry: no interaction yet
    client = await Client.get()
    assert client.last_contact_at == last_contact.NEVER
    await hub.ingest(tg, said(2, 1))
    await inquiries.accept_inquiry((await Inquiry.get()).id, actor=admin)  # fed in
    assert (await Client.get()).last_contact_at == NOW + timedelta(minutes=1)
    await assert_kept()
    await hub.ingest(tg, said(3, 5))  # one at a time (hub)
    assert (await Client.get()).last_contact_at == NOW + timedelta(minutes=5)
    await batch.ingest_many(tg, [said(4, 7), said(5, 9)])  # the fast path: a known sender
    assert (await Client.get()).last_contact_at == NOW + timedelta(minutes=9)
    await assert_kept()
    conversation = await Conversation.get()
    await conversations.queue_reply(conversation.id, actor=admin, text="Здравствуйте!")
    assert (await Client.get()).last_contact_at == NOW + timedelta(minutes=9)  # no interaction
    await batch.ingest_many(tg, [said(6, 2)])  # an older message (late delivery): stays
    assert (await Client.get()).last_contact_at == NOW + timedelta(minutes=9)
    await assert_kept()


async def test_a_batch_of_several_clients(admin: User, tg: Channel) -> None:
    for user, name in (("1001", "Анна"), ("2002", "Борис")):
        await hub.ingest(tg, said(1, 0, user, name))
    for inquiry in await Inquiry.all():
        await inquiries.accept_inquiry(inquiry.id, actor=admin)
    await batch.ingest_many(
        tg, [said(2, 3, "1001", "Анна"), said(2, 4, "2002", "Борис"), said(3, 6, "1001", "Анна")]
    )
    moments = {c.name: c.last_contact_at for c in await Client.all()}
    assert moments == {"Анна": NOW + timedelta(minutes=6), "Борис": NOW + timedelta(minutes=4)}
    await assert_kept()


async def test_done_cancelled_and_restored_interactions(admin: User) -> None:
    client = await factories.client(admin, name="Ромашка")
    await record_done(actor=admin, kind="note", client_id=client.id, at=NOW)
    assert (await Client.get(id=client.id)).last_contact_at == NOW
    planned = await plan_interaction(
        Plan(kind="call", planned_at=NOW + timedelta(days=1)), actor=admin, client_id=client.id
    )
    assert (await Client.get(id=client.id)).last_contact_at == NOW  # planned: not a contact
    done, _ = await complete_interaction(planned.id, actor=admin)
    assert (await Client.get(id=client.id)).last_contact_at == done.done_at
    await cancel_interaction(done.id, actor=admin)  # the last one no longer counts
    assert (await Client.get(id=client.id)).last_contact_at == NOW
    await restore_interaction(done.id, actor=admin)
    assert (await Client.get(id=client.id)).last_contact_at == done.done_at
    await assert_kept()


async def test_a_merge_and_its_undo(admin: User) -> None:
    survivor = await factories.client(admin, name="Ромашка")
    merged = await factories.client(admin, name="Ромашка ООО")
    await record_done(actor=admin, kind="call", client_id=survivor.id, at=NOW)
    await record_done(actor=admin, kind="call", client_id=merged.id, at=NOW + timedelta(days=2))
    record = await merge.merge_clients(survivor.id, merged.id, actor=admin)
    assert (await Client.get(id=survivor.id)).last_contact_at == NOW + timedelta(days=2)
    assert (await Client.get(id=merged.id)).last_contact_at == last_contact.NEVER
    await assert_kept()
    await merge.undo_merge(record.id, actor=admin)
    assert (await Client.get(id=survivor.id)).last_contact_at == NOW
    assert (await Client.get(id=merged.id)).last_contact_at == NOW + timedelta(days=2)
    await assert_kept()


async def test_the_backfill_gives_the_same_values(admin: User) -> None:
    first = await factories.client(admin, name="Первый")
    second = await factories.client(admin, name="Второй")
    await factories.client(admin, name="Третий")  # never contacted
    await record_done(actor=admin, kind="call", client_id=first.id, at=NOW)
    await record_done(actor=admin, kind="call", client_id=second.id, at=NOW - timedelta(days=1))
    await record_done(actor=admin, kind="call", client_id=second.id, at=NOW + timedelta(days=1))
    wanted = await kept()
    await Client.all().update(last_contact_at=last_contact.NEVER)  # as the new column is
    await last_contact.backfill(connections.get("default"))
    assert await kept() == wanted == await expected()

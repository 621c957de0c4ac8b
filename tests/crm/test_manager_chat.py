"""The bot's bookkeeping and card reads in `crm.manager_chat`, on both backends: the deal
card's one read equals what the ORM gives and keeps the access rule; a card recorded twice
is one row, the newer meaning kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crm import deals, manager_chat, scenarios
from crm.access import interest_owner
from crm.interactions import Plan, cancel_interaction, plan_interaction, record_done
from crm.models import (
    CardKind,
    Channel,
    ChannelIdentity,
    ChannelKind,
    ChatCard,
    Conversation,
    Direction,
    Interaction,
    InteractionKind,
    Interest,
    Message,
    MessageStatus,
    ReasonKind,
    User,
)
from tests.crm import factories

SOON = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


async def conversation_with(interest: Interest, texts: list[str], *, last: datetime) -> int:
    client = await interest.client
    channel = await Channel.create(kind=ChannelKind.TELEGRAM, name="Bot", credentials={})
    identity = await ChannelIdentity.create(
        channel=channel, external_id=f"c{interest.id}-{last.timestamp()}", client=client
    )
    conversation = await Conversation.create(
        channel=channel, identity=identity, client=client, interest=interest, last_message_at=last
    )
    for n, text in enumerate(texts):
        await Message.create(
            conversation=conversation,
            channel=channel,
            direction=Direction.IN if n % 2 == 0 else Direction.OUT,
            text=text,
            source_id=f"{conversation.id}-{n}",
            status=MessageStatus.RECEIVED,
            sent_at=last - timedelta(minutes=len(texts) - n),
        )
    return conversation.id


async def test_the_deal_view_is_what_the_orm_reads(db: object) -> None:
    await factories.scenario()
    anna = await factories.manager()
    client = await factories.client(anna, name="Romashka <LLC>")
    interest = await deals.create_interest(
        actor=anna, client_id=client.id, title="Sofa", amount=Decimal("1500.50")
    )
    later = await plan_interaction(
        Plan(kind="meeting", planned_at=SOON + timedelta(days=2), subject="Later"),
        actor=anna,
        interest_id=interest.id,
    )
    cancelled = await plan_interaction(
        Plan(kind="call", planned_at=SOON - timedelta(days=1), subject="Cancelled"),
        actor=anna,
        interest_id=interest.id,
    )
    await cancel_interaction(cancelled.id, actor=anna)
    soonest = await plan_interaction(
        Plan(kind="call", planned_at=SOON, subject="Soonest"), actor=anna, interest_id=interest.id
    )
    await record_done(
        actor=anna, kind=InteractionKind.NOTE, client_id=client.id, interest_id=interest.id
    )
    await conversation_with(interest, ["old 1", "old 2"], last=SOON - timedelta(days=3))
    newest = await conversation_with(interest, ["a", "b", "c"], last=SOON - timedelta(days=1))

    view = await manager_chat.deal_view(interest.id, owner=anna.id)

    assert view is not None
    expected = await Interest.get(id=interest.id).select_related("client", "stage")
    for name in Interest._meta.fields_map:
        if name not in Interest._meta.fetch_fields:
            assert getattr(view.interest, name) == getattr(expected, name), name
    assert view.interest.client.name == "Romashka <LLC>" == expected.client.name
    assert view.interest.stage.id == expected.stage.id and view.interest.stage.name
    assert view.planned is not None and view.planned.id == soonest.id != later.id
    orm_planned = await Interaction.get(id=soonest.id)
    for name in ("kind", "subject", "planned_at", "sort_at", "state"):
        assert getattr(view.planned, name) == getattr(orm_planned, name), name
    assert view.conversation_id == newest
    assert [m.text for m in view.messages] == ["a", "b", "c"]  # the last three, oldest first
    assert [m.direction for m in view.messages] == [Direction.IN, Direction.OUT, Direction.IN]
    orm_messages = await Message.filter(id__in=[m.id for m in view.messages]).order_by("id")
    assert [m.sent_at for m in view.messages] == [m.sent_at for m in orm_messages]
    assert view.loss_reason is None


async def test_a_deal_without_plan_or_messages_and_a_lost_one(db: object) -> None:
    admin = await factories.admin()
    await factories.scenario()
    reason = await scenarios.add_reason(ReasonKind.LOSS, "Too <expensive>", actor=admin)
    anna = await factories.manager()
    client = await factories.client(anna)
    interest = await deals.create_interest(actor=anna, client_id=client.id, title="Chairs")

    bare = await manager_chat.deal_view(interest.id, owner=anna.id)
    assert bare is not None
    assert (bare.planned, bare.conversation_id, bare.messages) == (None, None, [])

    await deals.lose(interest.id, reason.id, actor=anna)
    lost = await manager_chat.deal_view(interest.id, owner=anna.id)
    assert lost is not None and lost.loss_reason == "Too <expensive>"


async def test_the_deal_view_keeps_the_access_rule(db: object) -> None:
    await factories.scenario()
    admin = await factories.admin()
    anna, boris, carl = [await factories.manager() for _ in range(3)]
    client = await factories.client(anna)
    interest = await deals.create_interest(actor=anna, client_id=client.id, title="Sofa")

    assert await manager_chat.deal_view(interest.id, owner=boris.id) is None
    assert await manager_chat.deal_view(interest.id + 1000, owner=None) is None
    assert await manager_chat.deal_view(interest.id, owner=None) is not None
    # Carl is responsible for the deal, Anna still for its client: both see it
    await Interest.filter(id=interest.id).update(responsible_id=carl.id)
    assert await manager_chat.deal_view(interest.id, owner=carl.id) is not None
    assert await manager_chat.deal_view(interest.id, owner=anna.id) is not None
    assert await manager_chat.deal_view(interest.id, owner=boris.id) is None
    assert await interest_owner(admin) is None
    assert await interest_owner(boris) == boris.id


async def test_a_card_recorded_again_is_replaced(db: object) -> None:
    anna: User = await factories.manager()
    await manager_chat.record_card(anna.id, 777, 10, CardKind.DEAL)
    first = await ChatCard.get(chat_id=777, chat_message_id=10)
    await manager_chat.record_card(anna.id, 777, 10, CardKind.MESSAGE, conversation_id=None)
    await manager_chat.record_card(anna.id, 777, 11, CardKind.INQUIRY)

    cards = await ChatCard.filter(chat_id=777).order_by("chat_message_id")
    assert [(c.chat_message_id, c.kind) for c in cards] == [
        (10, CardKind.MESSAGE),
        (11, CardKind.INQUIRY),
    ]
    assert cards[0].id == first.id and cards[0].created_at == first.created_at
    assert cards[0].updated_at >= first.updated_at
    assert await manager_chat.card_at(anna.id, 777, 10) is not None

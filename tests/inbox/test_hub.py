"""The hub on a real database: identities, conversations, messages, inquiries, interests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm import channels, clients, conversations, deals, duplicates, inquiries, scenarios
from crm.errors import Conflict, NotFound
from crm.interactions import interest_feed
from crm.models import (
    Channel,
    ChannelIdentity,
    Client,
    Conversation,
    Inquiry,
    InquiryStatus,
    Interaction,
    InteractionKind,
    Message,
    MessageStatus,
    ReasonKind,
    User,
)
from inbox import events, hub
from inbox.channels.base import Attachment, InboundMessage, StatusUpdate, SubscriptionChange
from tests.crm import factories

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def msg(
    source_id: str, user: str = "1001", text: str = "Здравствуйте", **kw: Any
) -> InboundMessage:
    return InboundMessage(
        source_id=source_id,
        external_user_id=user,
        text=text,
        sent_at=kw.pop("sent_at", NOW),
        profile_name=kw.pop("profile_name", "Анна Смирнова"),
        **kw,
    )


@pytest.fixture
async def seen(db: object) -> AsyncIterator[list[events.Event]]:
    got: list[events.Event] = []

    async def listen(event: events.Event) -> None:
        got.append(event)

    unsubscribe = events.subscribe(listen)
    yield got
    unsubscribe()


@pytest.fixture
async def team(db: object) -> dict[str, User]:
    return {
        "admin": await factories.admin(),
        "anna": await factories.manager(),
        "boris": await factories.manager(),
    }


@pytest.fixture
async def tg(team: dict[str, User]) -> Channel:
    await factories.scenario(require_next_step=False)
    return await channels.create_channel(
        kind="telegram", name="Бот магазина", credentials={"token": "1:x"}, actor=team["admin"]
    )


async def test_unknown_sender_becomes_a_lead_with_an_inquiry(
    tg: Channel, seen: list[events.Event]
) -> None:
    out = await hub.ingest(tg, msg("1:1", lead_source="promo42"))
    assert out.message is not None and not out.duplicate
    client = await Client.get(id=(await ChannelIdentity.get(external_id="1001")).client_id)  # type: ignore[attr-defined]
    assert client.is_lead and client.name == "Анна Смирнова" and client.lead_source == "promo42"
    assert client.responsible_id is None  # type: ignore[attr-defined]
    inquiry = await Inquiry.get()
    assert inquiry.status == InquiryStatus.OPEN and inquiry.first_message_at == NOW
    assert seen == [events.InquiryOpened(inquiry.id, out.message.id)]
    second = await hub.ingest(tg, msg("1:2", text="Есть в наличии?"))
    assert await Inquiry.all().count() == 1
    assert seen[-1] == events.InquiryMessage(inquiry.id, second.message.id)  # type: ignore[union-attr]
    assert await Conversation.all().count() == 1


async def test_a_redelivered_message_is_stored_once(tg: Channel, seen: list[events.Event]) -> None:
    for _ in range(3):
        await hub.ingest(tg, msg("1:7"))
    assert await Message.all().count() == 1
    assert await Client.all().count() == 1
    assert len(seen) == 1


async def test_an_edit_updates_the_text_and_keeps_the_original(tg: Channel) -> None:
    await hub.ingest(tg, msg("1:5", text="Нужно 10 штук"))
    await hub.ingest(tg, msg("1:5", text="Нужно 12 штук", edit=True))
    stored = await Message.get(source_id="1:5")
    assert stored.text == "Нужно 12 штук" and stored.original_text == "Нужно 10 штук"
    await hub.ingest(tg, msg("1:5", text="Нужно 15 штук", edit=True))
    stored = await Message.get(source_id="1:5")
    assert stored.text == "Нужно 15 штук" and stored.original_text == "Нужно 10 штук"
    assert await Message.all().count() == 1


async def test_a_known_phone_attaches_the_sender_to_the_existing_client(
    tg: Channel, team: dict[str, User]
) -> None:
    known = await factories.client(team["anna"], name="ИП Смирнова", phones=["+7 916 123-45-67"])
    await hub.ingest(tg, msg("1:1", phone="89161234567"))
    identity = await ChannelIdentity.get(external_id="1001")
    assert identity.client_id == known.id  # type: ignore[attr-defined]
    assert await Client.all().count() == 1


async def test_a_contact_shared_later_joins_the_lead_to_the_client(
    tg: Channel, team: dict[str, User]
) -> None:
    known = await factories.client(team["anna"], name="ИП Смирнова", phones=["+79161234567"])
    await hub.ingest(tg, msg("1:1"))
    lead_id = (await ChannelIdentity.get(external_id="1001")).client_id  # type: ignore[attr-defined]
    assert lead_id != known.id
    await hub.ingest(tg, msg("1:2", text="", phone="+7 916 123 45 67"))
    identity = await ChannelIdentity.get(external_id="1001")
    assert identity.client_id == known.id  # type: ignore[attr-defined]
    lead = await Client.get(id=lead_id)
    assert lead.merged_into_id == known.id  # type: ignore[attr-defined]
    assert await Conversation.filter(client_id=known.id).count() == 1


async def test_a_key_persons_phone_only_suggests_a_merge(
    tg: Channel, team: dict[str, User], seen: list[events.Event]
) -> None:
    company = await factories.client(team["anna"], name="ООО Ромашка")
    await clients.add_person(
        company.id, actor=team["anna"], name="Ольга Ким", role="закупки", phone="+79161234567"
    )
    await hub.ingest(tg, msg("1:1", phone="+7 916 123-45-67"))
    lead_id = (await ChannelIdentity.get(external_id="1001")).client_id  # type: ignore[attr-defined]
    assert lead_id != company.id  # not joined on a guess
    assert events.MergeSuggested(lead_id, company.id, "person_phone") in seen
    # the suggestion stays where people look: each client's card lists the other
    viewer = team["admin"]
    from_lead = await duplicates.find_duplicates(lead_id, actor=viewer)
    from_company = await duplicates.find_duplicates(company.id, actor=viewer)
    assert [(c.client.id, c.reasons) for c in from_lead] == [(company.id, ("person_phone",))]
    assert [(c.client.id, c.reasons) for c in from_company] == [(lead_id, ("person_phone",))]


async def test_a_message_on_an_open_interest_joins_its_feed(
    tg: Channel, team: dict[str, User], seen: list[events.Event]
) -> None:
    anna = team["anna"]
    await hub.ingest(tg, msg("1:1"))
    inquiry = await Inquiry.get()
    interest = await inquiries.accept_inquiry(inquiry.id, actor=anna)
    out = await hub.ingest(
        tg,
        msg(
            "1:2",
            text="Пришлите счёт",
            sent_at=NOW + timedelta(minutes=3),
            attachments=(Attachment("document", "F1", "ТЗ.pdf"),),
        ),
    )
    assert seen[-1] == events.InterestMessage(interest.id, out.message.id, anna.id)  # type: ignore[union-attr]
    feed = await interest_feed(interest.id, actor=anna)
    kinds = [(i.kind, i.content) for i in feed]
    assert (InteractionKind.MESSAGE, "Пришлите счёт") in kinds
    assert await Inquiry.all().count() == 1  # no new inquiry while the interest is open
    stored = await Message.get(id=out.message.id)  # type: ignore[union-attr]
    assert stored.attachments[0]["name"] == "ТЗ.pdf"


async def test_accept_records_the_response_time_and_links_the_conversation(
    tg: Channel, team: dict[str, User]
) -> None:
    import time_machine

    await hub.ingest(tg, msg("1:1"))
    inquiry = await Inquiry.get()
    with time_machine.travel(NOW + timedelta(minutes=7), tick=False):
        interest = await inquiries.accept_inquiry(inquiry.id, actor=team["anna"])
    inquiry = await Inquiry.get(id=inquiry.id)
    assert inquiry.status == InquiryStatus.ACCEPTED and inquiry.response_seconds == 420
    assert inquiry.decided_by_id == team["anna"].id  # type: ignore[attr-defined]
    conversation = await Conversation.get()
    assert conversation.interest_id == interest.id  # type: ignore[attr-defined]
    client = await Client.get(id=interest.client_id)  # type: ignore[attr-defined]
    assert client.responsible_id == team["anna"].id  # type: ignore[attr-defined]
    assert interest.responsible_id == team["anna"].id  # type: ignore[attr-defined]
    # The first message is in the new interest's feed.
    feed = await interest_feed(interest.id, actor=team["anna"])
    assert [i.content for i in feed if i.kind == InteractionKind.MESSAGE] == ["Здравствуйте"]
    with pytest.raises(Conflict) as taken:
        await inquiries.accept_inquiry(inquiry.id, actor=team["boris"])
    assert team["anna"].full_name in taken.value.render("ru")


async def test_reject_needs_a_rejection_reason(tg: Channel, team: dict[str, User]) -> None:
    await hub.ingest(tg, msg("1:1"))
    inquiry = await Inquiry.get()
    loss = await scenarios.add_reason(ReasonKind.LOSS, "Дорого", actor=None)
    spam = await scenarios.add_reason(ReasonKind.REJECTION, "Спам", actor=None)
    with pytest.raises(Exception, match="reason"):
        await inquiries.reject_inquiry(inquiry.id, loss.id, actor=team["boris"])
    rejected = await inquiries.reject_inquiry(inquiry.id, spam.id, actor=team["boris"])
    assert rejected.status == InquiryStatus.REJECTED
    assert rejected.rejection_reason_id == spam.id  # type: ignore[attr-defined]
    # The next message after a rejection opens a new inquiry.
    await hub.ingest(tg, msg("1:2"))
    assert await Inquiry.filter(status=InquiryStatus.OPEN).count() == 1


async def test_inquiries_follow_channel_visibility(team: dict[str, User]) -> None:
    await factories.scenario(require_next_step=False)
    private = await channels.create_channel(
        kind="telegram",
        name="Только Анна",
        credentials={"token": "2:y"},
        visibility="user",
        responsible_id=team["anna"].id,
        actor=team["admin"],
    )
    await hub.ingest(private, msg("2:1", user="77"))
    inquiry = await Inquiry.get()
    assert [i.id for i in await inquiries.open_inquiries(team["anna"])] == [inquiry.id]
    assert await inquiries.open_inquiries(team["boris"]) == []
    with pytest.raises(NotFound):
        await inquiries.accept_inquiry(inquiry.id, actor=team["boris"])
    conversation = await Conversation.get()
    await conversations.messages_of(team["anna"], conversation.id)
    with pytest.raises(NotFound):
        await conversations.messages_of(team["boris"], conversation.id)


async def test_email_replies_join_their_thread(team: dict[str, User]) -> None:
    await factories.scenario(require_next_step=False)
    mailbox = await channels.create_channel(
        kind="email",
        name="Почта",
        credentials={"password": "p"},
        settings={"address": "sales@example.com"},
        actor=team["admin"],
    )
    first = InboundMessage(
        source_id="a1@mail.ru",
        external_user_id="ivan@mail.ru",
        email="ivan@mail.ru",
        text="Прайс?",
        sent_at=NOW,
        profile_name="Иван",
        meta={"subject": "Прайс"},
    )
    await hub.ingest(mailbox, first)
    colleague = InboundMessage(
        source_id="b2@corp.ru",
        external_user_id="petr@corp.ru",
        email="petr@corp.ru",
        text="Присоединяюсь",
        sent_at=NOW,
        profile_name="Пётр",
        thread_ids=("a1@mail.ru",),
    )
    await hub.ingest(mailbox, colleague)
    assert await Conversation.all().count() == 1
    assert await Message.all().count() == 2
    # A new letter without threading headers from the first sender stays in his conversation.
    await hub.ingest(mailbox, InboundMessage("c3@mail.ru", "ivan@mail.ru", "Ещё", NOW))
    assert await Conversation.all().count() == 1


async def test_statuses_only_move_forward(tg: Channel, team: dict[str, User]) -> None:
    await hub.ingest(tg, msg("1:1"))
    conversation = await Conversation.get()
    reply = await conversations.queue_reply(conversation.id, actor=team["admin"], text="Да")
    await Message.filter(id=reply.id).update(status=MessageStatus.SENT, source_id="1:2")
    await hub.ingest(tg, StatusUpdate("1:2", "seen"))
    await hub.ingest(tg, StatusUpdate("1:2", "delivered"))
    assert (await Message.get(id=reply.id)).status == MessageStatus.SEEN
    await hub.ingest(tg, StatusUpdate("1:2", "failed", error="blocked"))
    stored = await Message.get(id=reply.id)
    assert stored.status == MessageStatus.FAILED and stored.last_error == "blocked"


async def test_unsubscribed_customers_get_nothing(tg: Channel, team: dict[str, User]) -> None:
    await hub.ingest(tg, msg("1:1"))
    conversation = await Conversation.get()
    await hub.ingest(tg, SubscriptionChange("1001", subscribed=False))
    with pytest.raises(Conflict):
        await conversations.queue_reply(conversation.id, actor=team["admin"], text="Скидка!")
    assert not await Message.filter(direction="out").exists()
    # Writing to us again re-subscribes.
    await hub.ingest(tg, msg("1:3"))
    await conversations.queue_reply(conversation.id, actor=team["admin"], text="Здравствуйте!")


async def test_an_interest_created_from_the_client_catches_later_messages(
    tg: Channel, team: dict[str, User]
) -> None:
    anna = team["anna"]
    await hub.ingest(tg, msg("1:1"))
    client_id = (await ChannelIdentity.get(external_id="1001")).client_id  # type: ignore[attr-defined]
    await Client.filter(id=client_id).update(responsible_id=anna.id)
    sc = await factories.scenario("Опт", require_next_step=False)
    interest = await deals.create_interest(
        client_id=client_id, scenario_id=sc.id, title="Опт", actor=anna
    )
    await hub.ingest(tg, msg("1:2", text="Когда доставка?"))
    assert await Interaction.filter(interest_id=interest.id, kind="message").count() == 1
    assert (await Conversation.get()).interest_id == interest.id  # type: ignore[attr-defined]


async def test_a_batch_of_known_senders_is_stored_in_order_with_its_side_effects(
    tg: Channel, team: dict[str, User], seen: list[events.Event]
) -> None:
    from inbox import batch

    anna = team["anna"]
    await hub.ingest(tg, msg("1:1", user="1001"))  # waits as an inquiry
    await hub.ingest(tg, msg("2:1", user="2002", profile_name="Борис"))
    taken = await Inquiry.get(client__name="Борис")
    interest = await inquiries.accept_inquiry(taken.id, actor=anna)
    seen.clear()
    result = await batch.ingest_many(
        tg,
        [
            msg("1:2", user="1001", text="первое"),
            msg("2:2", user="2002", text="по сделке"),
            msg("1:3", user="1001", text="второе"),
            msg("1:2", user="1001", text="первое"),  # repeated within the batch
            msg("3:1", user="3003", profile_name="Новый"),  # unknown: the slow path
            msg("1:1", user="1001"),  # stored before
        ],
    )
    assert [o.duplicate for o in result] == [False, False, False, True, False, True]
    texts = [
        m.text
        for m in await Message.filter(conversation__identity__external_id="1001").order_by("id")
    ]
    assert texts == ["Здравствуйте", "первое", "второе"]
    assert await Inquiry.filter(status=InquiryStatus.OPEN).count() == 2  # 1001 and the new one
    feed = await interest_feed(interest.id, actor=anna)
    assert "по сделке" in [i.content for i in feed]
    conversation = await Conversation.get(identity__external_id="1001")
    assert conversation.last_message_at == NOW
    first_inquiry = await Inquiry.get(client__name="Анна Смирнова")
    kinds = [type(e).__name__ for e in seen]
    assert kinds.count("InquiryMessage") == 2 and kinds.count("InterestMessage") == 1
    assert events.InquiryMessage(first_inquiry.id, result[0].message.id) in seen  # type: ignore[union-attr]
    assert kinds.count("InquiryOpened") == 1


async def test_committed_batch_messages_are_announced_even_when_a_later_event_fails(
    tg: Channel, seen: list[events.Event]
) -> None:
    from inbox import batch

    await hub.ingest(tg, msg("1:1", user="1001"))
    seen.clear()
    with pytest.raises(Exception):  # noqa: B017 - any failure of the slow event
        await batch.ingest_many(
            tg, [msg("1:2", user="1001", text="ещё"), msg("4:1", user="4" * 300, phone="+7916")]
        )
    stored = await Message.get(source_id="1:2")
    assert [type(e).__name__ for e in seen] == ["InquiryMessage"]
    assert seen[0].message_id == stored.id  # type: ignore[union-attr]


async def test_an_overlong_platform_id_is_stored_by_its_hash_and_still_deduplicates(
    tg: Channel,
) -> None:
    long_id = "<" + "a" * 400 + "@mail.example>"
    for _ in range(2):
        await hub.ingest(tg, hub.keyed(msg(long_id)))
    stored = await Message.get()
    assert stored.source_id == hub.source_key(long_id) and len(stored.source_id) < 100
    reply = hub.keyed(msg("r1", user="1001", thread_ids=(long_id,)))
    assert isinstance(reply, InboundMessage) and reply.thread_ids == (stored.source_id,)


async def test_an_inquiry_from_another_managers_client_stays_theirs(
    tg: Channel, team: dict[str, User]
) -> None:
    anna, boris = team["anna"], team["boris"]
    await factories.client(anna, name="Клиент Анны", phones=["+79160000001"])
    await hub.ingest(tg, msg("1:1", phone="+79160000001"))
    inquiry = await Inquiry.get()
    assert [i.id for i in await inquiries.open_inquiries(anna)] == [inquiry.id]
    assert await inquiries.open_inquiries(boris) == []
    with pytest.raises(NotFound):
        await inquiries.accept_inquiry(inquiry.id, actor=boris)
    assert (await inquiries.accept_inquiry(inquiry.id, actor=team["admin"])).id

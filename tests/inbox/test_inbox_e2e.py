"""The inbox through its real paths: HTTP into the webhook routes, processing, the outbox
sending through each adapter to the platform fakes on loopback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from crm import channels, clock, conversations
from crm.errors import Conflict
from crm.models import (
    Channel,
    ChannelIdentity,
    Conversation,
    Inquiry,
    Message,
    MessageStatus,
    RawEvent,
    RawEventStatus,
    User,
)
from inbox import outbox
from inbox.service import Inbox
from tests.fakes.base import load_fixture
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.viber_api import ViberAPI, signed_callback
from tests.fakes.vk_api import VkAPI
from tests.inbox.conftest import VIBER_TOKEN, interrupt, post, tg_headers


async def customer_wrote(
    http: Any, inbox: Inbox, tg: Channel
) -> tuple[dict[str, Any], Conversation]:
    """The Telegram fixture's customer message, through the webhook and processed."""
    update = load_fixture("telegram", "message_text")
    response = await post(http, f"/webhooks/telegram/{tg.id}", update, **tg_headers(tg))
    assert response.status == 200
    await inbox.process()
    return update, await Conversation.get()


async def test_a_telegram_webhook_delivered_three_times_makes_one_message(
    http: Any, inbox: Inbox, tg: Channel
) -> None:
    update = load_fixture("telegram", "message_text")
    for _ in range(3):
        response = await post(http, f"/webhooks/telegram/{tg.id}", update, **tg_headers(tg))
        assert response.status == 200
    assert await RawEvent.all().count() == 3  # persisted before the acknowledgement
    await inbox.process()
    assert await Message.all().count() == 1
    assert await Inquiry.all().count() == 1
    assert await RawEvent.filter(status=RawEventStatus.PROCESSED).count() == 3
    stored = await Message.get()
    assert stored.text == update["message"]["text"]


async def test_forged_and_unknown_webhooks_are_refused_and_store_nothing(
    http: Any, tg: Channel, admin: User
) -> None:
    update = load_fixture("telegram", "message_text")
    path = f"/webhooks/telegram/{tg.id}"
    assert (await post(http, path, update)).status == 401
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
    assert (await post(http, path, update, **wrong)).status == 401
    assert (await post(http, "/webhooks/telegram/999", update, **tg_headers(tg))).status == 404
    assert (await post(http, f"/webhooks/vk/{tg.id}", update, **tg_headers(tg))).status == 404
    await channels.set_active(tg.id, False, actor=admin)
    assert (await post(http, path, update, **tg_headers(tg))).status == 404
    assert not await RawEvent.exists()


async def test_an_unparsable_body_is_kept_and_acknowledged(
    http: Any, inbox: Inbox, tg: Channel
) -> None:
    response = await post(http, f"/webhooks/telegram/{tg.id}", b"{not json", **tg_headers(tg))
    assert response.status == 200
    await inbox.process()
    raw = await RawEvent.get()
    assert raw.status == RawEventStatus.UNPARSED and raw.body == "{not json"
    assert not await Message.exists()


async def test_a_reply_survives_429_and_502_and_is_delivered_once(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    update, conversation = await customer_wrote(http, inbox, tg)
    reply = await conversations.queue_reply(
        conversation.id, actor=admin, text="Да, <b>есть</b> & ждём"
    )
    telegram.fail_next("sendMessage", kind="429", retry_after=3)
    await inbox.send()
    stored = await Message.get(id=reply.id)
    assert stored.status == MessageStatus.FAILED and stored.attempts == 1
    assert stored.next_attempt_at is not None
    assert stored.next_attempt_at - clock.now() >= timedelta(seconds=2)  # retry_after honoured
    assert await inbox.send() == outbox.SendReport()  # not due yet
    telegram.fail_next("sendMessage", kind="502")
    with time_machine.travel(clock.now() + timedelta(seconds=4)):
        await inbox.send()
    assert (await Message.get(id=reply.id)).attempts == 2
    with time_machine.travel(clock.now() + timedelta(minutes=1)):
        report = await inbox.send()
        assert report.sent == 1
        assert await inbox.send() == outbox.SendReport()
    stored = await Message.get(id=reply.id)
    assert stored.status == MessageStatus.SENT and stored.source_id
    chat_id = update["message"]["chat"]["id"]
    delivered = [m for m in telegram.delivered if m["chat"]["id"] == chat_id]
    assert [m["text"] for m in delivered] == ["Да, <b>есть</b> & ждём"]  # sent as plain text


async def test_a_dead_letter_replays(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    _update, conversation = await customer_wrote(http, inbox, tg)
    reply = await conversations.queue_reply(conversation.id, actor=admin, text="Счёт во вложении")
    telegram.fail_next("sendMessage", kind="500")
    await inbox.send()
    stored = await Message.get(id=reply.id)
    assert stored.status == MessageStatus.FAILED
    await outbox.retry(reply.id)
    telegram.fail_next("sendMessage", kind="400")
    await inbox.send()
    stored = await Message.get(id=reply.id)
    assert stored.status == MessageStatus.DEAD and "chat not found" in stored.last_error
    assert [m.id for m in await outbox.dead_letters()] == [reply.id]
    await outbox.retry(reply.id)
    assert (await inbox.send()).sent == 1
    assert (await Message.get(id=reply.id)).status == MessageStatus.SENT
    with pytest.raises(Exception, match="already"):
        await outbox.retry(reply.id)


async def test_a_customer_who_blocks_the_telegram_bot_is_unsubscribed(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    update, conversation = await customer_wrote(http, inbox, tg)
    path = f"/webhooks/telegram/{tg.id}"

    async def member_update(name: str) -> None:
        response = await post(http, path, load_fixture("telegram", name), **tg_headers(tg))
        assert response.status == 200
        await inbox.process()

    await member_update("my_chat_member_kicked")
    identity = await ChannelIdentity.get(channel_id=tg.id)
    assert not identity.subscribed
    with pytest.raises(Conflict, match="unsubscribed"):
        await conversations.queue_reply(conversation.id, actor=admin, text="Акция!")
    await member_update("my_chat_member_member")
    assert (await ChannelIdentity.get(id=identity.id)).subscribed
    reply = await conversations.queue_reply(conversation.id, actor=admin, text="С возвращением")
    assert (await inbox.send()).sent == 1
    assert (await Message.get(id=reply.id)).status == MessageStatus.SENT

    # Blocked without Telegram telling us first: the send says so, once, and marks them.
    telegram.block(update["message"]["chat"]["id"])
    blocked = await conversations.queue_reply(conversation.id, actor=admin, text="Счёт")
    assert (await inbox.send()).dead == 1
    stored = await Message.get(id=blocked.id)
    assert stored.status == MessageStatus.DEAD and "blocked" in stored.last_error
    assert not (await ChannelIdentity.get(id=identity.id)).subscribed
    assert len(telegram.calls_to("sendMessage")) == 2
    await outbox.retry(blocked.id)  # a replay does not knock on the blocked chat again
    assert (await inbox.send()).dead == 1
    assert len(telegram.calls_to("sendMessage")) == 2
    # Writing again re-opens the channel.
    telegram.blocked.clear()
    again = dict(load_fixture("telegram", "message_text"), update_id=812345099)
    again["message"] = dict(again["message"], message_id=102)
    assert (await post(http, path, again, **tg_headers(tg))).status == 200
    await inbox.process()
    assert (await ChannelIdentity.get(id=identity.id)).subscribed


async def test_an_interrupted_send_is_dead_lettered_not_repeated(
    http: Any, inbox: Inbox, tg: Channel, admin: User, telegram: TelegramAPI
) -> None:
    _update, conversation = await customer_wrote(http, inbox, tg)
    reply = await conversations.queue_reply(conversation.id, actor=admin, text="Привет")
    # A worker marked it SENDING and died before recording the outcome.
    await Message.filter(id=reply.id).update(
        status=MessageStatus.SENDING, claimed_until=clock.now() - timedelta(seconds=1)
    )
    await inbox.send()
    stored = await Message.get(id=reply.id)
    assert stored.status == MessageStatus.DEAD and "may or may not" in stored.last_error
    assert telegram.calls_to("sendMessage") == []


# --- VK -------------------------------------------------------------------------------------


async def test_vk_callback_confirms_dedups_and_ignores_our_echo(
    http: Any, inbox: Inbox, vk: Channel, admin: User, vk_fake: VkAPI
) -> None:
    path = f"/webhooks/vk/{vk.id}"
    confirmation = await post(http, path, load_fixture("vk", "confirmation"))
    assert (await confirmation.text()) == "a1b2c3d4"
    event = load_fixture("vk", "message_new")
    for _ in range(3):
        response = await post(http, path, event)
        assert (response.status, await response.text()) == (200, "ok")
    forged = dict(event, secret="nope")
    assert (await post(http, path, forged)).status == 401
    vk_fake.add_user(612345678, "Ольга", "Кузнецова")
    await inbox.process()
    assert await Message.all().count() == 1
    conversation = await Conversation.get().prefetch_related("client")
    assert conversation.client.name == "Ольга Кузнецова"  # VK events carry no names: asked
    reply = await conversations.queue_reply(conversation.id, actor=admin, text="Здравствуйте!")
    assert (await inbox.send()).sent == 1
    sent = vk_fake.calls_to("messages.send")
    assert len(sent) == 1 and int(sent[0].params["random_id"]) == reply.id
    # VK echoes our own message back as message_reply: it is not a second message.
    echo = load_fixture("vk", "message_reply")
    await post(http, path, echo)
    await inbox.process()
    assert await Message.all().count() == 2


async def test_vk_interrupted_send_is_repeated_safely_with_the_same_random_id(
    http: Any, inbox: Inbox, vk: Channel, admin: User, vk_fake: VkAPI
) -> None:
    await post(http, f"/webhooks/vk/{vk.id}", load_fixture("vk", "message_new"))
    await inbox.process()
    conversation = await Conversation.get()
    reply = await conversations.queue_reply(conversation.id, actor=admin, text="Цена 100 ₽")
    assert (await inbox.send()).sent == 1
    await interrupt(reply.id)  # the platform already has the message
    assert (await inbox.send()).sent == 1
    sends = vk_fake.calls_to("messages.send")
    assert len(sends) == 2 and {int(c.params["random_id"]) for c in sends} == {reply.id}
    assert len(vk_fake.delivered) == 1  # VK dropped the repeat by random_id


# --- Viber ----------------------------------------------------------------------------------


async def test_viber_signed_callbacks_statuses_and_unsubscribe(
    http: Any, inbox: Inbox, viber: Channel, admin: User, viber_fake: ViberAPI
) -> None:
    path = f"/webhooks/viber/{viber.id}"
    event = load_fixture("viber", "message_text")
    body, headers = signed_callback(event, VIBER_TOKEN)
    for _ in range(3):
        assert (await http.post(path, data=body, headers=headers)).status == 200
    bad = dict(headers, **{"X-Viber-Content-Signature": "0" * 64})
    assert (await http.post(path, data=body, headers=bad)).status == 401
    await inbox.process()
    assert await Message.all().count() == 1
    conversation = await Conversation.get()
    reply = await conversations.queue_reply(conversation.id, actor=admin, text="Добрый день")
    assert (await inbox.send()).sent == 1
    stored = await Message.get(id=reply.id)
    assert viber_fake.delivered[0].payload["sender"]["name"] == "Магазин"
    delivered = dict(load_fixture("viber", "delivered"), message_token=int(stored.source_id or 0))
    delivered["user_id"] = event["sender"]["id"]
    body, headers = signed_callback(delivered, VIBER_TOKEN)
    await http.post(path, data=body, headers=headers)
    await inbox.process()
    assert (await Message.get(id=reply.id)).status == MessageStatus.DELIVERED
    unsubscribed = dict(load_fixture("viber", "unsubscribed"), user_id=event["sender"]["id"])
    body, headers = signed_callback(unsubscribed, VIBER_TOKEN)
    await http.post(path, data=body, headers=headers)
    await inbox.process()
    with pytest.raises(Exception, match="unsubscribed"):
        await conversations.queue_reply(conversation.id, actor=admin, text="Акция!")
    assert len(viber_fake.delivered) == 1


async def test_telegram_polling_mode_stores_each_update_once(
    inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    telegram.push_update(load_fixture("telegram", "message_text"))
    telegram.push_update(load_fixture("telegram", "edited_message"))
    assert await inbox.poll_once(tg) == 2
    assert await inbox.poll_once(tg) == 0  # the offset moved on
    assert (await Channel.get(id=tg.id)).state["offset"] > 0
    await inbox.process()
    assert await RawEvent.filter(status=RawEventStatus.PROCESSED).count() == 2
    # The edit of message 101 updated it instead of adding one.
    stored = await Message.get()
    edited = load_fixture("telegram", "edited_message")["edited_message"]
    assert stored.text == edited["text"]
    assert stored.original_text == load_fixture("telegram", "message_text")["message"]["text"]


async def test_a_stage_robot_message_reaches_the_customer_once(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    from crm import deals, scenarios
    from crm.models import Client, Scenario

    update, _ = await customer_wrote(http, inbox, tg)
    scenario = await Scenario.get()
    stages = await scenarios.stages_of(scenario.id)
    await scenarios.add_stage_action(
        stages[1].id, "send_message", {"template": "{client_name}, счёт готов"}, actor=admin
    )
    client = await Client.get()
    interest = await deals.create_interest(
        client_id=client.id, title="Заказ", scenario_id=scenario.id, actor=admin
    )
    await deals.move_stage(interest.id, stages[1].id, actor=admin)
    for _ in range(2):  # two ticks
        await inbox.run_robots()
        await inbox.send()
    chat_id = update["message"]["chat"]["id"]
    texts = [m["text"] for m in telegram.delivered if m["chat"]["id"] == chat_id]
    assert texts == [f"{client.name}, счёт готов"]


async def test_a_poisonous_body_does_not_hold_up_the_rest(
    http: Any, inbox: Inbox, tg: Channel
) -> None:
    poison = load_fixture("telegram", "message_text")
    poison["message"]["date"] = 1e20  # overflows datetime: not a ValueError
    good = load_fixture("telegram", "message_photo_caption")
    for body in (poison, good):
        assert (
            await post(http, f"/webhooks/telegram/{tg.id}", body, **tg_headers(tg))
        ).status == 200
    await inbox.process()
    statuses = [r.status for r in await RawEvent.all().order_by("id")]
    assert statuses == [RawEventStatus.UNPARSED, RawEventStatus.PROCESSED]
    assert await Message.all().count() == 1


async def test_a_connection_dropped_mid_send_is_not_repeated_blindly(
    http: Any, inbox: Inbox, tg: Channel, telegram: TelegramAPI, admin: User
) -> None:
    _update, conversation = await customer_wrote(http, inbox, tg)
    reply = await conversations.queue_reply(conversation.id, actor=admin, text="Итог")
    telegram.fail_next("sendMessage", kind="disconnect")  # did Telegram get it? we cannot know
    await inbox.send()
    stored = await Message.get(id=reply.id)
    assert stored.status == MessageStatus.DEAD and "may or may not" in stored.last_error
    assert await inbox.send() == outbox.SendReport()  # a person decides: `crmhub outbox retry`


async def test_vk_retries_a_dropped_connection_safely(
    http: Any, inbox: Inbox, vk: Channel, admin: User, vk_fake: VkAPI
) -> None:
    await post(http, f"/webhooks/vk/{vk.id}", load_fixture("vk", "message_new"))
    await inbox.process()
    conversation = await Conversation.get()
    reply = await conversations.queue_reply(conversation.id, actor=admin, text="Итог")
    vk_fake.fail_next("messages.send", kind="disconnect")
    await inbox.send()
    assert (await Message.get(id=reply.id)).status == MessageStatus.FAILED
    with time_machine.travel(clock.now() + timedelta(minutes=1)):
        assert (await inbox.send()).sent == 1
    assert len(vk_fake.delivered) == 1

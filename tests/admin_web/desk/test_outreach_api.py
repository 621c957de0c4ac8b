"""Writing first by API (/api/v1/clients/{id}/channels and /messages): the channels
offered and every other with its reason's code; a message through an offered messenger
or mailbox is sent by the outbox once; each refused channel answers 409 with its reason's
code and queues nothing; a manager's key reaches only their own clients."""

from __future__ import annotations

from crm.apikeys import create_key
from crm.models import Channel, ChannelIdentity, Conversation, Message, Role, User
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.test_api import Api
from tests.crm import factories
from tests.fakes.telegram_api import TelegramAPI


async def test_channels_offered_and_refused_with_codes_and_writing_first(
    as_admin: Browser, admin: User, inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    _, key = await create_key("outreach", admin.id, actor=None)
    api = Api(as_admin.client, key)
    client = await factories.client(admin, name="Пётр")
    mailbox = await Channel.create(
        kind="email", name="Продажи", credentials={"password": "p"}, settings={"address": "s@b.ru"}
    )
    vk_off = await Channel.create(kind="vk", name="ВК", credentials={}, is_active=False)
    status, body = await api.call("GET", f"/clients/{client.id}/channels")
    assert status == 200
    assert body["offered"] == []
    codes = {(n["kind"], n["channel_id"]): n["code"] for n in body["not_offered"]}
    assert codes == {
        ("email", mailbox.id): "no_email_address",
        ("telegram", tg.id): "never_wrote",
        ("vk", vk_off.id): "switched_off",  # not "none connected": it is there, off
        ("viber", None): "no_channel",
    }
    reasons = {n["code"]: n["reason"] for n in body["not_offered"]}
    assert reasons["never_wrote"] == (
        "The client has never written here, and a bot cannot write first"
    )
    # each refused channel: 409 with its reason's code, nothing queued
    refusals = (
        (tg.id, "never_wrote"),
        (mailbox.id, "no_email_address"),
        (vk_off.id, "switched_off"),
    )
    for channel_id, code in refusals:
        status, body = await api.call(
            "POST",
            f"/clients/{client.id}/messages",
            {"channel_id": channel_id, "text": "Привет", "subject": "s", "address": "a@b.ru"},
        )
        assert (status, body["error"]["code"]) == (409, code), body
    identity = await ChannelIdentity.create(channel=tg, external_id="4242", client=client)
    await ChannelIdentity.filter(id=identity.id).update(subscribed=False)
    status, body = await api.call(
        "POST", f"/clients/{client.id}/messages", {"channel_id": tg.id, "text": "Привет"}
    )
    assert (status, body["error"]["code"]) == (409, "unsubscribed")
    status, body = await api.call(
        "POST", f"/clients/{client.id}/messages", {"channel_id": 999_999, "text": "Привет"}
    )
    assert status == 404
    assert not await Message.exists() and not await Conversation.exists()
    # subscribed: offered, and written to once
    await ChannelIdentity.filter(id=identity.id).update(subscribed=True, display_name="Петя")
    status, body = await api.call("GET", f"/clients/{client.id}/channels")
    assert [(o["channel_id"], o["recipient"]) for o in body["offered"]] == [(tg.id, "Петя")]
    status, body = await api.call(
        "POST", f"/clients/{client.id}/messages", {"channel_id": tg.id, "text": "Добрый день"}
    )
    assert status == 201, body
    conversation = await Conversation.get(client_id=client.id)
    assert body["conversation_id"] == conversation.id and body["status"] == "queued"
    assert (await inbox.send()).sent == 1
    assert (await inbox.send()).sent == 0
    assert [m["text"] for m in telegram.delivered if m["chat"]["id"] == 4242] == ["Добрый день"]


async def test_email_needs_a_subject_and_an_offered_address(as_admin: Browser, admin: User) -> None:
    _, key = await create_key("outreach", admin.id, actor=None)
    api = Api(as_admin.client, key)
    client = await factories.client(admin, name="Почтовый", emails=["a@example.com"])
    mailbox = await Channel.create(
        kind="email", name="Продажи", credentials={"password": "p"}, settings={"address": "s@b.ru"}
    )
    _, body = await api.call("GET", f"/clients/{client.id}/channels")
    assert body["offered"] == [
        {
            "channel_id": mailbox.id,
            "kind": "email",
            "name": "Продажи",
            "addresses": ["a@example.com"],
            "recipient": None,
        }
    ]
    path = f"/clients/{client.id}/messages"
    status, body = await api.call(
        "POST", path, {"channel_id": mailbox.id, "text": "t", "address": "a@example.com"}
    )
    assert status == 422 and "subject" in body["error"]["fields"]
    status, body = await api.call(
        "POST", path, {"channel_id": mailbox.id, "text": "t", "subject": "s", "address": "x@y.ru"}
    )
    assert status == 422 and "address" in body["error"]["fields"]
    assert not await Message.exists()
    status, body = await api.call(
        "POST",
        path,
        {"channel_id": mailbox.id, "text": "t", "subject": "КП", "address": "a@example.com"},
    )
    assert status == 201
    message = await Message.get(id=body["id"])
    assert message.meta == {"subject": "КП", "new_thread": True}


async def test_a_managers_key_reaches_only_own_clients(
    browser: Browser, admin: User, tg: Channel
) -> None:
    ivan = await make_user(Role.MANAGER, email="ivan@example.com", full_name="Ivan")
    _, key = await create_key("ivan", ivan.id, actor=None)
    api = Api(browser.client, key)
    own = await factories.client(admin, name="Свой", responsible_id=ivan.id)
    other = await factories.client(admin, name="Чужой")
    await ChannelIdentity.create(channel=tg, external_id="1", client=own)
    await ChannelIdentity.create(channel=tg, external_id="2", client=other)
    status, _ = await api.call("GET", f"/clients/{other.id}/channels")
    assert status == 404
    status, _ = await api.call(
        "POST", f"/clients/{other.id}/messages", {"channel_id": tg.id, "text": "Привет"}
    )
    assert status == 404
    assert not await Conversation.filter(client_id=other.id).exists()
    status, body = await api.call("GET", f"/clients/{own.id}/channels")
    assert status == 200 and [o["channel_id"] for o in body["offered"]] == [tg.id]
    status, _ = await api.call(
        "POST", f"/clients/{own.id}/messages", {"channel_id": tg.id, "text": "Привет"}
    )
    assert status == 201
    assert await Conversation.filter(client_id=own.id).count() == 1

"""Writing first from the client card: a message on Telegram or VK where the client has a
subscribed identity goes through the outbox to the channel's fake once, creating the
conversation; every channel not offered says why (no identity, unsubscribed, no mailbox,
no email address); a manager writes only to their own clients. Email (a mailbox, a
subject, the answer's thread): tests/inbox/test_email_outreach.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crm import channels
from crm.models import Channel, ChannelIdentity, Client, Conversation, Message, Role, User
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes
from tests.crm import factories
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.vk_api import VkAPI

VK_PEER = 190_000_123


@pytest.fixture
async def vk_fake() -> AsyncIterator[VkAPI]:
    async with VkAPI() as fake:
        yield fake


@pytest.fixture
async def vk(admin: User, vk_fake: VkAPI) -> Channel:
    return await channels.create_channel(
        kind="vk",
        name="Сообщество",
        credentials={"token": "vk1.a.community-token", "secret": "s3cr3t", "confirmation": "a1"},
        settings={"group_id": vk_fake.group_id},
        api_base=vk_fake.base_url,
        actor=admin,
    )


async def test_writing_first_on_vk_creates_the_conversation_and_sends_once(
    as_admin: Browser, admin: User, inbox: Inbox, tg: Channel, vk: Channel, vk_fake: VkAPI
) -> None:
    client = await factories.client(admin, name="Пётр <Иванов>")
    # his VK id is known (a merge brought it), but he never wrote there
    await ChannelIdentity.create(channel=vk, external_id=str(VK_PEER), client=client)
    status, card = await as_admin.get(f"/clients/{client.id}")
    assert status == 200 and f'href="/clients/{client.id}/write"' in card
    status, page = await as_admin.get(f"/clients/{client.id}/write")
    assert status == 200
    assert f'name="channel_id" value="{vk.id}"' in page
    assert f'name="channel_id" value="{tg.id}"' not in page
    assert "never written here, and a bot cannot write first" in page  # Telegram
    assert "No mailbox is connected" in page
    assert "Viber" in page and "No channel of this kind is connected" in page
    status, page = await as_admin.post(
        f"/clients/{client.id}/write", {"channel_id": str(vk.id), "text": "Добрый день, <b>!"}
    )
    assert status == 200 and "The message is queued" in page
    conversation = await Conversation.get(client_id=client.id)
    assert as_admin.page == f"/inbox/{conversation.id}"
    assert "Добрый день, &lt;b&gt;!" in page  # the thread, escaped
    assert (await inbox.send()).sent == 1
    assert (await inbox.send()).sent == 0
    assert [(m.peer_id, m.text) for m in vk_fake.delivered] == [(VK_PEER, "Добрый день, <b>!")]
    # again: the same conversation, not a second one
    await as_admin.post(f"/clients/{client.id}/write", {"channel_id": str(vk.id), "text": "Ещё"})
    assert await Conversation.filter(client_id=client.id).count() == 1
    assert await Message.filter(conversation_id=conversation.id).count() == 2


async def test_an_unsubscribed_identity_is_not_offered_and_is_refused(
    as_admin: Browser, admin: User, inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    update, conversation = await customer_writes(as_admin, inbox, tg, "Привет")
    client = await Client.get(id=conversation.client_id)  # type: ignore[attr-defined]
    _, page = await as_admin.get(f"/clients/{client.id}/write")
    assert f'name="channel_id" value="{tg.id}"' in page
    await ChannelIdentity.filter(client_id=client.id).update(subscribed=False)
    _, page = await as_admin.get(f"/clients/{client.id}/write")
    assert f'name="channel_id" value="{tg.id}"' not in page
    assert "The client unsubscribed or blocked this channel" in page
    assert "There is no channel to write to this client through." in page
    _, page = await as_admin.post(
        f"/clients/{client.id}/write", {"channel_id": str(tg.id), "text": "Алло"}
    )
    assert "The client unsubscribed or blocked this channel" in page
    assert not await Message.filter(direction="out").exists()
    # written to on Telegram once subscribed again: into the conversation they started
    await ChannelIdentity.filter(client_id=client.id).update(subscribed=True)
    await as_admin.post(f"/clients/{client.id}/write", {"channel_id": str(tg.id), "text": "Алло"})
    assert (await inbox.send()).sent == 1
    chat = update["message"]["chat"]["id"]
    assert [m["text"] for m in telegram.delivered if m["chat"]["id"] == chat] == ["Алло"]
    assert (await Message.get(direction="out")).conversation_id == conversation.id  # type: ignore[attr-defined]


async def test_no_email_address_and_a_managers_own_clients_only(
    browser: Browser, admin: User, tg: Channel
) -> None:
    ivan = await make_user(Role.MANAGER, email="ivan@example.com", full_name="Ivan")
    own = await factories.client(admin, name="Свой", responsible_id=ivan.id)
    other = await factories.client(admin, name="Чужой", emails=["x@example.com"])
    await Channel.create(
        kind="email", name="Почта", credentials={"password": "p"}, settings={"address": "a@b.ru"}
    )
    await browser.login(ivan.email)
    status, page = await browser.get(f"/clients/{own.id}/write")
    assert status == 200 and "The client has no email address" in page
    status, _ = await browser.get(f"/clients/{other.id}/write")
    assert status == 404
    identity = await ChannelIdentity.create(channel=tg, external_id="777", client=other)
    _, page = await browser.post(
        f"/clients/{other.id}/write", {"channel_id": str(tg.id), "text": "Привет"}
    )
    assert "Not found" in page
    assert not await Conversation.filter(identity_id=identity.id).exists()


async def test_an_address_that_unsubscribed_from_a_mailbox_is_not_offered_from_it(
    as_admin: Browser, admin: User
) -> None:
    client = await factories.client(admin, name="Почтовый", emails=["a@example.com"])
    mailbox = await Channel.create(
        kind="email", name="Продажи", credentials={"password": "p"}, settings={"address": "s@b.ru"}
    )
    _, page = await as_admin.get(f"/clients/{client.id}/write")
    assert f'name="channel_id" value="{mailbox.id}"' in page and "a@example.com" in page
    await ChannelIdentity.create(
        channel=mailbox, external_id="a@example.com", client=client, subscribed=False
    )
    _, page = await as_admin.get(f"/clients/{client.id}/write")
    assert f'name="channel_id" value="{mailbox.id}"' not in page
    assert "The client unsubscribed or blocked this channel" in page
    _, page = await as_admin.post(
        f"/clients/{client.id}/write",
        {"channel_id": str(mailbox.id), "address": "a@example.com", "subject": "s", "text": "t"},
    )
    assert "The client unsubscribed or blocked this channel" in page
    assert not await Message.exists()

"""Writing first from the client card: a message on Telegram or VK where the client has a
subscribed identity goes through the outbox to the channel's fake once, creating the
conversation; every channel not offered says why (no identity, unsubscribed, no mailbox,
no email address); a manager writes only to their own clients; photos and documents go
along, and a file the channel cannot take is refused before anything is created. Email (a mailbox, a
subject, the answer's thread): tests/inbox/test_email_outreach.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from crm import channels
from crm.models import Channel, ChannelIdentity, Client, Conversation, Message, Role, User
from inbox import reply_limits
from inbox.service import Inbox
from tests.admin_web.conftest import Browser, make_user
from tests.admin_web.desk.conftest import customer_writes
from tests.admin_web.desk.test_reply import PNG, VIBER_TOKEN
from tests.crm import factories
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.viber_api import ViberAPI
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


async def write_with_files(
    browser: Browser, client_id: int, fields: dict[str, str], files: list[tuple[str, bytes, str]]
) -> tuple[int, str]:
    """Open the write page and send its form (multipart, as the browser does)."""
    await browser.get(f"/clients/{client_id}/write")
    form = aiohttp.FormData()
    form.add_field("_csrf", browser.token)
    form.add_field("_back", f"/clients/{client_id}/write")
    for name, value in fields.items():
        form.add_field(name, value)
    for name, content, mime in files:
        form.add_field("files", content, filename=name, content_type=mime)
    response = await browser.client.post(f"/clients/{client_id}/write", data=form)
    return response.status, await response.text()


async def test_writing_first_with_a_photo_and_a_file_alone(
    as_admin: Browser, admin: User, inbox: Inbox, tg: Channel, telegram: TelegramAPI
) -> None:
    client = await factories.client(admin, name="Фото")
    await ChannelIdentity.create(channel=tg, external_id="5151", client=client)
    _, page = await as_admin.get(f"/clients/{client.id}/write")
    assert 'enctype="multipart/form-data"' in page and 'name="files"' in page
    status, page = await write_with_files(
        as_admin,
        client.id,
        {"channel_id": str(tg.id), "text": "Наш каталог"},
        [("price.png", PNG, "image/png")],
    )
    assert status == 200 and "The message is queued" in page
    status, page = await write_with_files(
        as_admin, client.id, {"channel_id": str(tg.id), "text": " "}, [("a.pdf", b"%PDF", "x/y")]
    )
    assert "The message is queued" in page
    assert [m.attachments[0]["kind"] for m in await Message.all().order_by("id")] == [
        "photo",
        "document",
    ]
    assert (await inbox.send()).sent == 2
    assert (await inbox.send()).sent == 0
    delivered = [m for m in telegram.delivered if m["chat"]["id"] == 5151]
    assert [("photo" in m, m.get("caption")) for m in delivered] == [
        (True, "Наш каталог"),
        (False, None),
    ]
    assert "document" in delivered[1]
    _, page = await write_with_files(as_admin, client.id, {"channel_id": str(tg.id)}, [])
    assert "Write a message or choose a file" in page
    assert await Message.all().count() == 2


async def test_a_file_the_channel_cannot_take_is_refused_before_anything_is_created(
    as_admin: Browser, admin: User, tg: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await factories.client(admin, name="Большой файл")
    await ChannelIdentity.create(channel=tg, external_id="6161", client=client)
    monkeypatch.setitem(reply_limits.FILE_LIMITS, "telegram", {"photo": 16, "document": 32})
    status, page = await write_with_files(
        as_admin,
        client.id,
        {"channel_id": str(tg.id), "text": "Каталог"},
        [("catalog.pdf", b"%PDF" * 16, "application/pdf")],
    )
    assert status == 200 and "catalog.pdf is larger than Telegram accepts" in page
    assert 'id="err-files"' in page and "Каталог" in page  # the form keeps what was typed
    assert not await Conversation.exists() and not await Message.exists()
    async with ViberAPI(require_webhook=False) as fake:
        viber = await channels.create_channel(
            kind="viber",
            name="Viber",
            credentials={"token": VIBER_TOKEN},
            api_base=fake.base_url,
            actor=admin,
        )
        await ChannelIdentity.create(channel=viber, external_id="vb-1", client=client)
        _, page = await write_with_files(
            as_admin,
            client.id,
            {"channel_id": str(viber.id), "text": "Фото"},
            [("a.png", PNG, "image/png")],
        )
        assert "set CRMHUB_PUBLIC_URL" in page
        assert not await Conversation.exists() and not await Message.exists()

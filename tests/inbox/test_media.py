"""Managers' files reaching VK and Viber customers through the real path: a reply queued with
the file's bytes (as the bot queues it), sent by the outbox to the platform fakes; Viber
fetching the file from crmhub's own signed /media/ links."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, unused_port

from crm import clock, conversations
from crm.models import Channel, Conversation, Message, MessageStatus, User
from inbox.channels.viber import NO_PUBLIC_URL
from inbox.service import Inbox
from tests.fakes.base import load_fixture
from tests.fakes.viber_api import ViberAPI, signed_callback
from tests.fakes.vk_api import VkAPI
from tests.inbox.conftest import VIBER_TOKEN, interrupt

SECRET_KEY = "the-install-secret-key"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF sofa photo"
OFFER = b"%PDF-1.7 commercial offer"


def queued(kind: str, name: str, mime: str, content: bytes) -> dict[str, Any]:
    """A manager's file as bot/replies.py queues it: the bytes themselves."""
    encoded = base64.b64encode(content).decode()
    return {"kind": kind, "name": name, "mime": mime, "size": len(content), "content_b64": encoded}


def photo() -> dict[str, Any]:
    return queued("photo", "photo.jpg", "image/jpeg", PHOTO)


def offer() -> dict[str, Any]:
    return queued("document", "КП «Диван».pdf", "application/pdf", OFFER)


@pytest.fixture
def port() -> int:
    return unused_port()


@pytest.fixture
async def inbox(db: object, port: int) -> AsyncIterator[Inbox]:
    hub = Inbox(public_url=f"http://127.0.0.1:{port}/", secret_key=SECRET_KEY, channel_ttl=0.0)
    yield hub
    await hub.adapters.close()


@pytest.fixture
async def http(inbox: Inbox, port: int) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The web app on the port the public URL names: Viber's downloads reach it."""
    app = web.Application()
    inbox.mount(app)
    async with TestClient(TestServer(app, host="127.0.0.1", port=port)) as client:
        yield client


async def post(http: Any, path: str, body: dict[str, Any], **headers: str) -> Any:
    data = json.dumps(body, ensure_ascii=False).encode()
    return await http.post(path, data=data, headers={"Content-Type": "application/json", **headers})


# --- VK -------------------------------------------------------------------------------------


@pytest.fixture
async def vk_conversation(http: Any, inbox: Inbox, vk: Channel) -> Conversation:
    assert (await post(http, f"/webhooks/vk/{vk.id}", load_fixture("vk", "message_new"))).ok
    await inbox.process()
    return await Conversation.get()


async def test_vk_customer_receives_the_photo_and_the_document(
    inbox: Inbox, vk_conversation: Conversation, admin: User, vk_fake: VkAPI
) -> None:
    with_photo = await conversations.queue_reply(
        vk_conversation.id, actor=admin, text="Вот ваш диван", attachments=[photo()]
    )
    with_offer = await conversations.queue_reply(
        vk_conversation.id, actor=admin, text="", attachments=[offer()]
    )
    assert (await inbox.send()).sent == 2
    first, second = vk_fake.delivered
    assert (first.peer_id, first.text, first.random_id) == (
        612345678,
        "Вот ваш диван",
        with_photo.id,
    )
    assert [(m.kind, m.content) for m in vk_fake.media_of(first)] == [("photo", PHOTO)]
    assert [(m.kind, m.content, m.title) for m in vk_fake.media_of(second)] == [
        ("doc", OFFER, "КП «Диван».pdf")
    ]
    stored = await Message.get(id=with_offer.id)
    assert stored.status == MessageStatus.SENT and stored.source_id == str(second.id)


async def test_vk_send_repeated_after_a_crash_shows_one_message(
    inbox: Inbox, vk_conversation: Conversation, admin: User, vk_fake: VkAPI
) -> None:
    reply = await conversations.queue_reply(
        vk_conversation.id, actor=admin, text="Фото", attachments=[photo()]
    )
    assert (await inbox.send()).sent == 1
    await interrupt(reply.id)  # the platform already has the message
    assert (await inbox.send()).sent == 1
    assert len(vk_fake.uploads) == 2  # uploaded twice, harmless
    assert len(vk_fake.delivered) == 1  # but VK dropped the repeat by random_id
    assert (await Message.get(id=reply.id)).source_id == str(vk_fake.delivered[0].id)


async def test_vk_upload_failure_is_retried(
    inbox: Inbox, vk_conversation: Conversation, admin: User, vk_fake: VkAPI
) -> None:
    reply = await conversations.queue_reply(
        vk_conversation.id, actor=admin, text="", attachments=[offer()]
    )
    vk_fake.fail_next("upload", kind="502")
    assert (await inbox.send()).failed == 1
    assert (await Message.get(id=reply.id)).status == MessageStatus.FAILED
    with time_machine.travel(clock.now() + timedelta(minutes=1)):
        assert (await inbox.send()).sent == 1
    assert [m.content for m in vk_fake.media_of(vk_fake.delivered[0])] == [OFFER]


# --- Viber ----------------------------------------------------------------------------------


async def viber_customer_wrote(http: Any, inbox: Inbox, channel: Channel) -> Conversation:
    body, headers = signed_callback(load_fixture("viber", "message_text"), VIBER_TOKEN)
    assert (await http.post(f"/webhooks/viber/{channel.id}", data=body, headers=headers)).ok
    await inbox.process()
    return await Conversation.get()


async def test_viber_customer_downloads_the_photo_and_the_document(
    http: Any, inbox: Inbox, viber: Channel, admin: User, viber_fake: ViberAPI
) -> None:
    conversation = await viber_customer_wrote(http, inbox, viber)
    await conversations.queue_reply(
        conversation.id, actor=admin, text="Вот ваш диван", attachments=[photo()]
    )
    await conversations.queue_reply(
        conversation.id, actor=admin, text="Коммерческое предложение", attachments=[offer()]
    )
    assert (await inbox.send()).sent == 2
    picture, text, file = viber_fake.delivered
    assert (picture.type, picture.text) == ("picture", "Вот ваш диван")
    assert picture.media is not None and picture.media.content == PHOTO
    assert picture.media.content_type == "image/jpeg"
    assert picture.media.content_disposition.startswith("inline;")
    assert (text.type, text.text) == ("text", "Коммерческое предложение")
    assert file.type == "file" and file.payload["file_name"] == "КП «Диван».pdf"
    assert file.payload["size"] == len(OFFER)
    assert file.media is not None and file.media.content == OFFER
    assert file.media.content_type == "application/pdf"
    assert file.media.content_disposition == (
        "attachment; filename=\"__ _______.pdf\"; filename*=UTF-8''"
        "%D0%9A%D0%9F%20%C2%AB%D0%94%D0%B8%D0%B2%D0%B0%D0%BD%C2%BB.pdf"
    )


async def test_viber_without_a_public_url_dead_letters_files(
    http: Any, admin: User, viber: Channel, viber_fake: ViberAPI
) -> None:
    inbox = Inbox(secret_key=SECRET_KEY, channel_ttl=0.0)  # CRMHUB_PUBLIC_URL unset
    try:
        conversation = await viber_customer_wrote(http, inbox, viber)
        reply = await conversations.queue_reply(
            conversation.id, actor=admin, text="Фото", attachments=[photo()]
        )
        assert (await inbox.send()).dead == 1
    finally:
        await inbox.adapters.close()
    stored = await Message.get(id=reply.id)
    assert stored.status == MessageStatus.DEAD and stored.last_error == NO_PUBLIC_URL
    assert "CRMHUB_PUBLIC_URL" in stored.last_error
    assert viber_fake.delivered == []


# --- the /media/ route ----------------------------------------------------------------------


@pytest.fixture
async def link(http: Any, inbox: Inbox, viber: Channel, admin: User) -> str:
    """The path of a queued reply's photo, as Viber is given it."""
    conversation = await viber_customer_wrote(http, inbox, viber)
    reply = await conversations.queue_reply(
        conversation.id, actor=admin, text="", attachments=[photo(), offer()]
    )
    assert inbox.media is not None
    return urlsplit(inbox.media.url(reply.id, 0, "photo.jpg")).path


async def test_a_signed_link_serves_the_bytes(http: Any, link: str) -> None:
    response = await http.get(link)
    assert response.status == 200 and await response.read() == PHOTO
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    renamed = link.rsplit("/", 1)[0] + "/anything.png"  # the name is not trusted
    assert await (await http.get(renamed)).read() == PHOTO


async def test_forged_and_expired_links_are_refused(http: Any, link: str) -> None:
    _, _, message_id, index, token, name = link.split("/")
    expires, signature = token.split(".")
    forged = [
        f"/media/{message_id}/1/{token}/{name}",  # another attachment
        f"/media/{int(message_id) + 1}/{index}/{token}/{name}",  # another message
        f"/media/{message_id}/{index}/{int(expires) + 86400}.{signature}/{name}",  # longer
        f"/media/{message_id}/{index}/{expires}.{'0' * 64}/{name}",
        f"/media/{message_id}/{index}/{expires}.{signature[:-2]}/{name}",
    ]
    for path in forged:
        response = await http.get(path)
        assert response.status == 404, path
        assert PHOTO not in await response.read()
    with time_machine.travel(clock.now() + timedelta(days=1, seconds=1)):
        expired = await http.get(link)
        assert expired.status == 403 and PHOTO not in await expired.read()


async def test_links_only_open_outgoing_files_that_exist(
    http: Any, inbox: Inbox, viber: Channel, admin: User
) -> None:
    assert inbox.media is not None
    conversation = await viber_customer_wrote(http, inbox, viber)
    incoming = await Message.get(conversation_id=conversation.id)
    text_only = await conversations.queue_reply(conversation.id, actor=admin, text="Привет")
    for message_id, index in ((incoming.id, 0), (text_only.id, 0), (999_999, 0)):
        path = urlsplit(inbox.media.url(message_id, index, "a.jpg")).path
        assert (await http.get(path)).status == 404
    other = Inbox(public_url="http://x", secret_key="another install")
    assert other.media is not None
    path = urlsplit(other.media.url(text_only.id, 0, "a.jpg")).path
    assert (await http.get(path)).status == 404

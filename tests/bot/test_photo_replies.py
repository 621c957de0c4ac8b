"""A manager answers a VK or a Viber customer's card in the bot with a photo or a document:
the bot takes the file from its own Telegram, queues it, and the outbox delivers it by the
platform's own protocol: VK's upload servers (`photos.getMessagesUploadServer` -> POST ->
`photos.saveMessagesPhoto`, `docs.*` likewise) and an attachment on `messages.send`; Viber
downloading crmhub's signed `/media/...` link of a `picture` or `file` message."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, unused_port

from crm.models import Channel, Message, MessageStatus
from inbox import hub
from inbox.channels.base import InboundMessage
from inbox.service import Inbox
from tests.bot.conftest import BotHarness, bound_manager
from tests.fakes.viber_api import ViberAPI
from tests.fakes.vk_api import VkAPI
from tests.inbox import conftest as inbox_setup

ANNA = 630001
VK_CUSTOMER = 612345678
VIBER_CUSTOMER = "pttm25kSGUo1919sBORWyA=="
SECRET_KEY = "the-install-secret-key"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF sofa photo"
OFFER = b"%PDF-1.7 commercial offer"
_ids = itertools.count(1)


@pytest.fixture
def port() -> int:
    return unused_port()


@pytest.fixture
async def inbox(db: object, port: int) -> AsyncIterator[Inbox]:
    """The hub with a public URL (Viber fetches files from it) and its web app on that
    port, so the Viber fake's downloads reach crmhub's /media/ route."""
    running = Inbox(public_url=f"http://127.0.0.1:{port}/", secret_key=SECRET_KEY)
    app = web.Application()
    running.mount(app)
    async with TestClient(TestServer(app, host="127.0.0.1", port=port)):
        yield running
    await running.adapters.close()


# The platform fakes and their channels, as the inbox's end-to-end tests set them up.
vk_fake = inbox_setup.vk_fake
vk = inbox_setup.vk
viber_fake = inbox_setup.viber_fake
viber = inbox_setup.viber


async def customer_writes(channel: Channel, customer: str, text: str) -> None:
    await hub.ingest(
        channel,
        InboundMessage(
            source_id=f"{customer}:{next(_ids)}",
            external_user_id=customer,
            text=text,
            sent_at=datetime.now(UTC),
            profile_name="Olga Petrova",
        ),
    )


async def reply_with_files(harness: BotHarness) -> None:
    """Anna answers the customer's card with a captioned photo, then with a document."""
    card = harness.last_to(ANNA)
    picture = harness.api.add_file(PHOTO, "photos/sofa.jpg")
    photo = [
        {"file_id": "small", "file_unique_id": "s1", "width": 90, "height": 60},
        {"file_id": picture.file_id, "file_unique_id": "u1", "width": 800, "height": 600},
    ]
    await harness.send(ANNA, reply_to=card, photo=photo, caption="Here is the sofa")
    stored = harness.api.add_file(OFFER, "documents/offer.pdf")
    document = {
        "file_id": stored.file_id,
        "file_unique_id": "d1",
        "file_name": "Offer «Sofa».pdf",
        "mime_type": "application/pdf",
    }
    await harness.send(ANNA, reply_to=card, document=document)
    replies = await Message.filter(direction="out").order_by("id")
    assert [r.status for r in replies] == [MessageStatus.QUEUED] * 2


async def test_a_vk_customer_gets_the_photo_and_the_document_through_vk_uploads(
    harness: BotHarness, vk: Channel, inbox: Inbox, vk_fake: VkAPI
) -> None:
    await bound_manager(ANNA)
    await customer_writes(vk, str(VK_CUSTOMER), "Can I see the sofa?")
    await harness.notifier.drain()
    await reply_with_files(harness)

    assert (await inbox.send()).sent == 2
    methods = [c.method for c in vk_fake.calls]
    for step in (
        "photos.getMessagesUploadServer",
        "photos.saveMessagesPhoto",
        "docs.getMessagesUploadServer",
        "docs.save",
    ):
        assert step in methods
    assert [(u.kind, u.content) for u in vk_fake.uploads] == [("photo", PHOTO), ("doc", OFFER)]
    with_photo, with_offer = vk_fake.delivered
    assert (with_photo.peer_id, with_photo.text) == (VK_CUSTOMER, "Here is the sofa")
    assert [(m.kind, m.content) for m in vk_fake.media_of(with_photo)] == [("photo", PHOTO)]
    assert [(m.kind, m.content, m.title) for m in vk_fake.media_of(with_offer)] == [
        ("doc", OFFER, "Offer «Sofa».pdf")
    ]
    replies = await Message.filter(direction="out").order_by("id")
    assert [int(m.random_id) for m in (with_photo, with_offer)] == [r.id for r in replies]
    assert all(r.status == MessageStatus.SENT for r in replies)


async def test_a_viber_customer_gets_the_photo_and_the_document_by_media_links(
    harness: BotHarness, viber: Channel, inbox: Inbox, viber_fake: ViberAPI
) -> None:
    await bound_manager(ANNA)
    await customer_writes(viber, VIBER_CUSTOMER, "Can I see the sofa?")
    await harness.notifier.drain()
    await reply_with_files(harness)

    assert (await inbox.send()).sent == 2
    picture, file = viber_fake.delivered
    assert (picture.receiver, picture.type, picture.text) == (
        VIBER_CUSTOMER,
        "picture",
        "Here is the sofa",
    )
    assert picture.media is not None and picture.media.content == PHOTO
    assert picture.media.content_type == "image/jpeg"
    assert (file.type, file.payload["file_name"], file.payload["size"]) == (
        "file",
        "Offer «Sofa».pdf",
        len(OFFER),
    )
    assert file.media is not None and file.media.content == OFFER
    assert file.media.content_type == "application/pdf"
    assert all(m.media is not None and "/media/" in m.media.url for m in (picture, file))
    replies = await Message.filter(direction="out").order_by("id")
    assert [r.source_id for r in replies] == [str(m.message_token) for m in (picture, file)]

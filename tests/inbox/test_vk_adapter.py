"""VkAdapter against the loopback VK API fake, with recorded Callback API payloads."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from crm.errors import ExternalError
from inbox.channels.base import (
    Attachment,
    ChannelConfig,
    InboundMessage,
    OutboundMessage,
    SendError,
    SubscriptionChange,
)
from inbox.channels.vk import VkAdapter
from tests.fakes.base import fixture_path, load_fixture
from tests.fakes.vk_api import VkAPI

VK_TOKEN = "vk1.a.community-token"
SECRET = "s3cr3t_Callback_K3y"
GROUP_ID = 229000001
IRINA = 612345678


def config(base_url: str, *, group_id: int = GROUP_ID, **credentials: Any) -> ChannelConfig:
    creds = {"token": VK_TOKEN, "secret": SECRET, "confirmation": "a1b2c3d4", **credentials}
    return ChannelConfig(
        id=2, kind="vk", credentials=creds, settings={"group_id": group_id}, api_base=base_url
    )


@pytest.fixture
async def vk_fake() -> AsyncIterator[VkAPI]:
    async with VkAPI(tokens={VK_TOKEN}) as fake:
        yield fake


@pytest.fixture
async def adapter(vk_fake: VkAPI) -> AsyncIterator[VkAdapter]:
    adapter = VkAdapter(config(vk_fake.base_url))
    yield adapter
    await adapter.close()


def raw(name: str) -> bytes:
    return fixture_path("vk", name).read_bytes()


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def only_message(adapter: VkAdapter, body: bytes) -> InboundMessage:
    (event,) = adapter.parse(body)
    assert isinstance(event, InboundMessage)
    return event


# -- webhook ---------------------------------------------------------------------------------


def test_verify_checks_secret_and_community() -> None:
    adapter = VkAdapter(config(""))
    assert adapter.verify({}, raw("message_new"))
    forged = load_fixture("vk", "message_new") | {"secret": "guess"}
    assert not adapter.verify({}, encode(forged))
    missing = load_fixture("vk", "message_new")
    del missing["secret"]
    assert not adapter.verify({}, encode(missing))
    assert not VkAdapter(config("", group_id=1)).verify({}, raw("message_new"))
    assert not VkAdapter(config("", secret="")).verify({}, raw("message_new"))
    assert not adapter.verify({}, b"not json")


def test_handshake_answers_the_confirmation_code() -> None:
    adapter = VkAdapter(config(""))
    assert adapter.handshake(raw("confirmation")) == "a1b2c3d4"
    assert adapter.handshake(raw("message_new")) is None
    assert VkAdapter(config("", group_id=1)).handshake(raw("confirmation")) is None
    assert adapter.parse(raw("confirmation")) == []
    assert VkAdapter.ack == "ok"


def test_parse_message_new_and_edit() -> None:
    adapter = VkAdapter(config(""))
    message = only_message(adapter, raw("message_new"))
    assert message.source_id == "1543"
    assert message.external_user_id == str(IRINA)
    assert message.text.endswith("Нужен к 15 июня.")
    assert message.sent_at == datetime(2024, 5, 31, 8, 2, 23, tzinfo=UTC)
    assert not message.edit and message.attachments == ()

    edited = only_message(adapter, raw("message_edit"))
    assert edited.edit and edited.source_id == message.source_id
    assert edited.text.endswith("Нужен к 10 июня.")


def test_parse_photo_takes_the_largest_size() -> None:
    message = only_message(VkAdapter(config("")), raw("message_new_photo"))
    assert message.source_id == "1544"
    (photo,) = message.attachments
    assert photo.kind == "photo" and "photo_z.jpg" in photo.file_id
    assert photo.extra["vk"] == "photo612345678_457239123_9c1d2e3f4a5b6c7d8e"


def test_parse_other_attachments_and_referral() -> None:
    event = load_fixture("vk", "message_new")
    message = event["object"]["message"]
    message["ref"] = "promo_spring"
    message["attachments"] = [
        {
            "type": "doc",
            "doc": {
                "id": 7,
                "owner_id": IRINA,
                "title": "Смета.pdf",
                "size": 9,
                "url": "https://vk.com/doc7",
            },
        },
        {
            "type": "audio_message",
            "audio_message": {
                "id": 8,
                "owner_id": IRINA,
                "duration": 4,
                "link_ogg": "https://psv4.userapi.com/a.ogg",
            },
        },
        {
            "type": "sticker",
            "sticker": {
                "sticker_id": 9,
                "images": [
                    {"url": "https://vk.com/s64.png", "width": 64},
                    {"url": "https://vk.com/s128.png", "width": 128},
                ],
            },
        },
        {"type": "wall", "wall": {"id": 10, "owner_id": -GROUP_ID, "text": "Акция"}},
        {"type": "link", "link": {"url": "https://example.com/sofa", "title": "Диван"}},
    ]
    parsed = only_message(VkAdapter(config("")), encode(event))
    assert parsed.lead_source == "promo_spring"
    assert [(a.kind, a.file_id) for a in parsed.attachments] == [
        ("document", "https://vk.com/doc7"),
        ("voice", "https://psv4.userapi.com/a.ogg"),
        ("sticker", "https://vk.com/s128.png"),
        ("link", f"https://vk.com/wall-{GROUP_ID}_10"),
        ("link", "https://example.com/sofa"),
    ]


def test_parse_leaves_out_our_echoes_and_chats() -> None:
    adapter = VkAdapter(config(""))
    assert adapter.parse(raw("message_reply")) == []
    chat = load_fixture("vk", "message_new")
    chat["object"]["message"]["peer_id"] = 2_000_000_001
    assert adapter.parse(encode(chat)) == []
    assert adapter.parse(encode({"type": "message_typing_state", "object": {}})) == []


def test_parse_without_message_id_uses_the_conversation_id() -> None:
    event = load_fixture("vk", "message_new")
    event["object"]["message"]["id"] = 0
    assert only_message(VkAdapter(config("")), encode(event)).source_id == f"c{IRINA}:87"


def test_parse_message_allow_and_deny() -> None:
    adapter = VkAdapter(config(""))
    allow = {"type": "message_allow", "object": {"user_id": IRINA, "key": "promo"}}
    deny = {"type": "message_deny", "object": {"user_id": IRINA}}
    assert adapter.parse(encode(allow)) == [SubscriptionChange(str(IRINA), subscribed=True)]
    assert adapter.parse(encode(deny)) == [SubscriptionChange(str(IRINA), subscribed=False)]


@pytest.mark.parametrize(
    "body", [b"{oops", b'"text"', b'{"type": "message_new", "object": {"message": {}}}']
)
def test_parse_rejects_garbage(body: bytes) -> None:
    with pytest.raises(ValueError):
        VkAdapter(config("")).parse(body)


# -- sending ---------------------------------------------------------------------------------


async def test_send_uses_our_id_as_random_id(vk_fake: VkAPI, adapter: VkAdapter) -> None:
    message = OutboundMessage(42, str(IRINA), "Здравствуйте! Гарнитур в наличии.")
    sent = await adapter.send(message)
    assert sent == str(vk_fake.delivered[0].id)
    assert await adapter.send(message) == sent  # a retry is deduplicated by VK
    assert len(vk_fake.delivered) == 1
    call = vk_fake.calls_to("messages.send")[0]
    assert call.params["random_id"] == 42 and call.params["peer_id"] == IRINA
    assert call.token == VK_TOKEN and call.params["v"] == "5.199"


async def test_send_forwards_vk_attachments(vk_fake: VkAPI, adapter: VkAdapter) -> None:
    photo = Attachment(kind="photo", file_id="https://x/y.jpg", extra={"vk": "photo-1_2_ab"})
    document = Attachment(kind="document", file_id="doc612345678_7")
    elsewhere = Attachment(kind="document", file_id="https://example.com/a.pdf")
    await adapter.send(OutboundMessage(43, str(IRINA), "", (photo, document, elsewhere)))
    assert vk_fake.delivered[0].attachment == "photo-1_2_ab,doc612345678_7"
    with pytest.raises(SendError) as empty:
        await adapter.send(OutboundMessage(44, str(IRINA), "", (elsewhere,)))
    assert empty.value.permanent
    with pytest.raises(SendError) as not_a_peer:
        await adapter.send(OutboundMessage(45, "irina@example.com", "Привет"))
    assert not_a_peer.value.permanent


def queued_file(kind: str, content: bytes, name: str, mime: str) -> Attachment:
    """An attachment as the bot queues a manager's file: the bytes themselves."""
    extra = {"content_b64": base64.b64encode(content).decode()}
    return Attachment(kind=kind, name=name, mime=mime, size=len(content), extra=extra)


PHOTO = queued_file("photo", b"\xff\xd8\xff\xe0 sofa", "photo.jpg", "image/jpeg")
OFFER = queued_file("document", b"%PDF-1.7 offer", "Предложение.pdf", "application/pdf")


async def test_send_uploads_queued_files_the_documented_way(
    vk_fake: VkAPI, adapter: VkAdapter
) -> None:
    sent = await adapter.send(OutboundMessage(46, str(IRINA), "Вот диван и КП", (PHOTO, OFFER)))
    (message,) = vk_fake.delivered
    assert sent == str(message.id) and message.text == "Вот диван и КП"
    photo, offer = vk_fake.media_of(message)
    assert (photo.kind, photo.content) == ("photo", b"\xff\xd8\xff\xe0 sofa")
    assert (offer.kind, offer.content, offer.title) == ("doc", b"%PDF-1.7 offer", "Предложение.pdf")
    assert message.attachment == f"{photo.ref},{offer.ref}" and photo.access_key
    methods = [c.method for c in vk_fake.calls]
    assert methods == [
        "photos.getMessagesUploadServer",
        "upload",
        "photos.saveMessagesPhoto",
        "docs.getMessagesUploadServer",
        "upload",
        "docs.save",
        "messages.send",
    ]
    assert vk_fake.calls_to("photos.getMessagesUploadServer")[0].params["peer_id"] == IRINA
    assert vk_fake.calls_to("docs.getMessagesUploadServer")[0].params["type"] == "doc"
    uploads = [(u.field, u.filename, u.content_type) for u in vk_fake.uploads]
    assert uploads == [
        ("photo", "photo.jpg", "image/jpeg"),
        ("file", "Предложение.pdf", "application/pdf"),
    ]


async def test_a_repeated_send_with_files_shows_one_message(
    vk_fake: VkAPI, adapter: VkAdapter
) -> None:
    message = OutboundMessage(47, str(IRINA), "", (PHOTO,))
    first = await adapter.send(message)
    assert await adapter.send(message) == first  # uploaded again, dropped by random_id
    assert len(vk_fake.delivered) == 1 and len(vk_fake.uploads) == 2
    assert vk_fake.media_of(vk_fake.delivered[0])[0].content == b"\xff\xd8\xff\xe0 sofa"


@pytest.mark.parametrize(
    ("method", "kind", "permanent"),
    [
        ("upload", "500", False),
        ("upload", "disconnect", False),
        ("upload", "refused", True),
        ("photos.getMessagesUploadServer", "10", False),
        ("photos.getMessagesUploadServer", "401", True),
        ("photos.saveMessagesPhoto", "429", False),
        ("docs.save", "500", False),
    ],
)
async def test_upload_errors_are_mapped(
    vk_fake: VkAPI, adapter: VkAdapter, method: str, kind: str, permanent: bool
) -> None:
    vk_fake.fail_next(method, kind=kind)
    message = OutboundMessage(48, str(IRINA), "КП", (OFFER if "docs" in method else PHOTO,))
    with pytest.raises(SendError) as failed:
        await adapter.send(message)
    assert failed.value.permanent is permanent
    assert vk_fake.delivered == []
    assert await adapter.send(message)
    assert len(vk_fake.delivered) == 1


async def test_a_broken_queued_file_fails_for_good(vk_fake: VkAPI, adapter: VkAdapter) -> None:
    broken = Attachment(kind="document", name="a.pdf", extra={"content_b64": "not base64!"})
    with pytest.raises(SendError, match="base64") as failed:
        await adapter.send(OutboundMessage(49, str(IRINA), "КП", (broken,)))
    assert failed.value.permanent and vk_fake.calls == []


@pytest.mark.parametrize(
    ("kind", "permanent", "retry_after"),
    [
        ("429", False, 1.0),
        ("9", False, 10.0),
        ("10", False, None),
        ("401", True, None),
        ("403", True, None),
        ("902", True, None),
        ("500", False, None),
        ("disconnect", False, None),
    ],
)
async def test_send_errors_are_mapped(
    vk_fake: VkAPI, adapter: VkAdapter, kind: str, permanent: bool, retry_after: float | None
) -> None:
    vk_fake.fail_next("messages.send", kind=kind)
    with pytest.raises(SendError) as failed:
        await adapter.send(OutboundMessage(5, str(IRINA), "Здравствуйте"))
    assert (failed.value.permanent, failed.value.retry_after) == (permanent, retry_after)
    assert await adapter.send(OutboundMessage(5, str(IRINA), "Здравствуйте"))


async def test_send_to_a_user_who_did_not_allow_messages(
    vk_fake: VkAPI, adapter: VkAdapter
) -> None:
    vk_fake.deny_messages(IRINA)
    with pytest.raises(SendError, match="901") as failed:
        await adapter.send(OutboundMessage(5, str(IRINA), "Здравствуйте"))
    assert failed.value.permanent


# -- administration --------------------------------------------------------------------------


async def test_check(vk_fake: VkAPI, adapter: VkAdapter) -> None:
    assert await adapter.check() == "CRM Hub"
    await adapter.set_webhook("https://crm.example.com/hooks/vk/2")  # the admin does it by hand
    assert [c.method for c in vk_fake.calls] == ["groups.getById"]


async def test_check_failures(vk_fake: VkAPI) -> None:
    adapter = VkAdapter(config(vk_fake.base_url, token="vk1.a.revoked"))
    other = VkAdapter(config(vk_fake.base_url, group_id=1))
    try:
        with pytest.raises(ExternalError, match="VK refused the token") as refused:
            await adapter.check()
        assert refused.value.code == "channel_token_refused"
        with pytest.raises(ExternalError, match="belongs to community 229000001, not 1"):
            await other.check()
        vk_fake.fail_next("groups.getById", kind="502")
        with pytest.raises(ExternalError, match="The request to VK failed"):
            await other.check()
    finally:
        await adapter.close()
        await other.close()


async def test_poll_returns_events_once(vk_fake: VkAPI, adapter: VkAdapter) -> None:
    start = await adapter.poll({}, timeout=0)  # the cursor starts at "now", as on VK
    assert start.bodies == [] and set(start.state) == {"server", "key", "ts"}
    vk_fake.push_event(load_fixture("vk", "message_new"))
    vk_fake.push_event(load_fixture("vk", "message_edit"))
    result = await adapter.poll(start.state, timeout=0)
    assert [json.loads(body)["type"] for body in result.bodies] == ["message_new", "message_edit"]
    assert result.state == {**start.state, "ts": "3"}
    events = [event for body in result.bodies for event in adapter.parse(body)]
    assert [e.source_id for e in events if isinstance(e, InboundMessage)] == ["1543", "1543"]

    again = await adapter.poll(result.state, timeout=0)
    assert again.bodies == [] and again.state == result.state
    assert len(vk_fake.calls_to("groups.getLongPollServer")) == 1


async def test_poll_renews_an_expired_key(vk_fake: VkAPI, adapter: VkAdapter) -> None:
    state = (await adapter.poll({}, timeout=0)).state
    vk_fake.fail_next("longpoll", kind="failed2")
    renewed = await adapter.poll(state, timeout=0)
    assert renewed.bodies == [] and renewed.state["key"] == vk_fake.longpoll_key
    assert len(vk_fake.calls_to("groups.getLongPollServer")) == 2

    vk_fake.push_event(load_fixture("vk", "message_new"))
    result = await adapter.poll(renewed.state, timeout=0)
    assert len(result.bodies) == 1

    vk_fake.fail_next("longpoll", kind="failed1")
    behind = await adapter.poll(result.state, timeout=0)
    assert behind.bodies == [] and behind.state["ts"] == vk_fake.longpoll_ts
    vk_fake.fail_next("longpoll", kind="500")
    with pytest.raises(ExternalError):
        await adapter.poll(behind.state, timeout=0)


async def test_poll_leaves_our_own_replies_out() -> None:
    async with VkAPI(echo_replies=True) as fake:
        adapter = VkAdapter(config(fake.base_url))
        try:
            state = (await adapter.poll({}, timeout=0)).state
            await adapter.send(OutboundMessage(7, str(IRINA), "Эхо"))
            result = await adapter.poll(state, timeout=0)
            assert [json.loads(body)["type"] for body in result.bodies] == ["message_reply"]
            assert adapter.parse(result.bodies[0]) == []
        finally:
            await adapter.close()


async def test_poll_waits_until_an_event_arrives(vk_fake: VkAPI, adapter: VkAdapter) -> None:
    state = (await adapter.poll({}, timeout=0)).state
    started = time.monotonic()
    poll = asyncio.create_task(adapter.poll(state, timeout=5))
    await vk_fake.wait_for_calls("longpoll", count=2)
    vk_fake.push_event(load_fixture("vk", "message_new_photo"))
    result = await poll
    assert time.monotonic() - started < 2 and len(result.bodies) == 1
    assert vk_fake.calls_to("longpoll")[-1].params["wait"] == "5"


async def test_check_without_network_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = VkAdapter(config(f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(ExternalError) as failed:
            await adapter.check()
    finally:
        await adapter.close()
    assert failed.value.code == "channel_unreachable"
    assert f"No connection to 127.0.0.1:{port}" in str(failed.value)
    assert "Нет связи с" in failed.value.render("ru")

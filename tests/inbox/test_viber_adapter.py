"""ViberAdapter against the loopback Viber REST API fake, with recorded callback payloads."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from crm.errors import ExternalError
from inbox.channels.base import (
    Attachment,
    ChannelConfig,
    InboundMessage,
    OutboundMessage,
    SendError,
    StatusUpdate,
    SubscriptionChange,
)
from inbox.channels.viber import NO_PUBLIC_URL, ViberAdapter
from inbox.media import MediaLinks
from tests.fakes.base import fixture_path, load_fixture
from tests.fakes.viber_api import ViberAPI, signature, signed_callback

VIBER_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"
OLGA = "pttm25kSGUo1919sBORWyA=="
SIGNATURE = "X-Viber-Content-Signature"


def config(
    base_url: str, *, token: str = VIBER_TOKEN, media: MediaLinks | None = None, **settings: Any
) -> ChannelConfig:
    return ChannelConfig(
        id=3,
        kind="viber",
        credentials={"token": token},
        settings={"sender_name": "Мебель на заказ", **settings},
        api_base=base_url,
        media=media,
    )


@pytest.fixture
async def viber() -> AsyncIterator[ViberAPI]:
    async with ViberAPI(tokens={VIBER_TOKEN}, require_webhook=False) as fake:
        yield fake


@pytest.fixture
async def adapter(viber: ViberAPI) -> AsyncIterator[ViberAdapter]:
    adapter = ViberAdapter(config(viber.base_url))
    yield adapter
    await adapter.close()


def raw(name: str) -> bytes:
    return fixture_path("viber", name).read_bytes()


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def only_message(adapter: ViberAdapter, body: bytes) -> InboundMessage:
    (event,) = adapter.parse(body)
    assert isinstance(event, InboundMessage)
    return event


# -- webhook ---------------------------------------------------------------------------------


def test_verify_checks_the_signature() -> None:
    adapter = ViberAdapter(config(""))
    body, headers = signed_callback(load_fixture("viber", "message_text"), VIBER_TOKEN)
    assert adapter.verify(headers, body)
    assert adapter.verify({"x-viber-content-signature": signature(body, VIBER_TOKEN)}, body)
    assert not adapter.verify(headers, body + b" ")
    assert not adapter.verify({SIGNATURE: signature(body, "another-token")}, body)
    assert not adapter.verify({}, body)
    assert not ViberAdapter(config("", token="")).verify(headers, body)


def test_handshake_answers_the_webhook_event() -> None:
    adapter = ViberAdapter(config(""))
    assert adapter.handshake(raw("webhook")) == ""
    assert adapter.handshake(raw("message_text")) is None
    assert adapter.parse(raw("webhook")) == []


def test_parse_text() -> None:
    message = only_message(ViberAdapter(config("")), raw("message_text"))
    assert message.source_id == "5741311803571721091"
    assert (message.external_user_id, message.profile_name) == (OLGA, "Ольга Петрова")
    assert message.text.startswith("Добрый вечер!")
    assert message.sent_at == datetime(2024, 5, 31, 8, 6, 40, 123000, tzinfo=UTC)
    assert message.attachments == ()


def test_parse_media() -> None:
    adapter = ViberAdapter(config(""))
    picture = only_message(adapter, raw("message_picture"))
    assert picture.text == "Фото ниши под шкаф"
    (photo,) = picture.attachments
    assert (photo.kind, photo.name, photo.size) == ("photo", "IMG_20240531_101512.jpg", 183422)
    assert photo.file_id.endswith("a695e0.jpg") and "thumbnail" in photo.extra
    assert picture.meta["tracking_data"] == "deal:42"

    file = only_message(adapter, raw("message_file"))
    assert [(a.kind, a.name, a.size) for a in file.attachments] == [
        ("document", "Договор поставки №17.pdf", 52394)
    ]

    location = only_message(adapter, raw("message_location"))
    assert location.attachments == (
        Attachment(
            kind="location",
            extra={
                "latitude": 55.751244,
                "longitude": 37.618423,
                "address": "Красная площадь, 1, Москва",
            },
        ),
    )


def test_a_shared_contact_never_identifies_the_sender() -> None:
    adapter = ViberAdapter(config(""))
    foreign = only_message(adapter, raw("message_contact"))  # "Сергей Иванов", sent by Ольга
    assert foreign.phone is None and foreign.meta["foreign_contact"]
    assert foreign.attachments[0].extra == {"phone": "+79031234567"}
    # Even under the sender's own name: Viber cannot prove whose number it is, and a
    # stranger could otherwise attach their chat to any client whose phone they know.
    event = load_fixture("viber", "message_contact")
    event["message"]["contact"] = {"name": "Ольга Петрова", "phone_number": "+79161112233"}
    assert only_message(adapter, encode(event)).phone is None


def test_parse_subscriptions_and_statuses() -> None:
    adapter = ViberAdapter(config(""))
    assert adapter.parse(raw("subscribed")) == [SubscriptionChange(OLGA, True, "Ольга Петрова")]
    assert adapter.parse(raw("unsubscribed")) == [SubscriptionChange(OLGA, False)]
    assert adapter.parse(raw("conversation_started")) == []  # opened the chat, not subscribed
    started = load_fixture("viber", "conversation_started") | {"subscribed": True}
    assert adapter.parse(encode(started)) == [SubscriptionChange(OLGA, True, "Ольга Петрова")]
    token = "5741311803571721087"
    assert adapter.parse(raw("delivered")) == [StatusUpdate(token, "delivered")]
    assert adapter.parse(raw("seen")) == [StatusUpdate(token, "seen")]
    assert adapter.parse(raw("failed")) == [StatusUpdate(token, "failed", "failure description")]


@pytest.mark.parametrize(
    "body", [b"\xff", b"[]", b'{"event": "message", "message_token": 1, "timestamp": 1}']
)
def test_parse_rejects_garbage(body: bytes) -> None:
    with pytest.raises(ValueError):
        ViberAdapter(config("")).parse(body)


# -- sending ---------------------------------------------------------------------------------


async def test_send_text(viber: ViberAPI, adapter: ViberAdapter) -> None:
    token = await adapter.send(OutboundMessage(42, OLGA, "Замер в субботу в 15:00 подойдёт?"))
    (delivered,) = viber.delivered
    assert token == str(delivered.message_token)
    assert delivered.payload == {
        "receiver": OLGA,
        "sender": {"name": "Мебель на заказ"},
        "tracking_data": "42",
        "type": "text",
        "text": "Замер в субботу в 15:00 подойдёт?",
    }
    assert viber.calls_to("send_message")[0].token == VIBER_TOKEN


async def test_send_attachments_and_default_sender(viber: ViberAPI) -> None:
    adapter = ViberAdapter(config(viber.base_url, sender_name="", sender_avatar="https://a/b.jpg"))
    try:
        photo = Attachment(kind="photo", file_id="https://example.com/sofa.jpg")
        offer = Attachment(kind="document", file_id="https://example.com/o.pdf", size=10)
        token = await adapter.send(OutboundMessage(1, OLGA, "Диван", (photo, offer)))
    finally:
        await adapter.close()
    picture, file = viber.delivered
    assert token == str(picture.message_token)
    assert (picture.type, picture.text, picture.payload["media"]) == (
        "picture",
        "Диван",
        "https://example.com/sofa.jpg",
    )
    assert (file.type, file.payload["file_name"]) == ("file", "o.pdf")
    assert picture.payload["sender"] == {"name": "CRM Hub", "avatar": "https://a/b.jpg"}


# Not loopback: the fake trusts such URLs without fetching them (tests/inbox/test_media.py
# serves them for real).
LINKS = MediaLinks("https://crm.example.com/", "install-secret")


def queued_file(kind: str, content: bytes, name: str, mime: str) -> Attachment:
    extra = {"content_b64": base64.b64encode(content).decode()}
    return Attachment(kind=kind, name=name, mime=mime, size=len(content), extra=extra)


def link_of(url: str) -> tuple[int, int, int, str, str]:
    _, _, message_id, index, token, name = urlsplit(url).path.split("/")
    expires, signature = token.split(".")
    return int(message_id), int(index), int(expires), signature, name


async def test_send_queued_files_by_signed_links(viber: ViberAPI) -> None:
    adapter = ViberAdapter(config(viber.base_url, media=LINKS))
    photo = queued_file("photo", b"\xff\xd8 sofa", "photo.jpg", "image/jpeg")
    offer = queued_file("document", b"%PDF offer", "КП диван.pdf", "application/pdf")
    try:
        token = await adapter.send(OutboundMessage(77, OLGA, "Диван и КП", (photo, offer)))
    finally:
        await adapter.close()
    picture, file = viber.delivered
    assert token == str(picture.message_token)
    assert (picture.type, picture.text) == ("picture", "Диван и КП")
    assert picture.payload["media"].startswith("https://crm.example.com/media/77/0/")
    assert (file.type, file.payload["size"], file.payload["file_name"]) == (
        "file",
        len(b"%PDF offer"),
        "КП диван.pdf",
    )
    message_id, index, expires, signature, name = link_of(file.payload["media"])
    assert (message_id, index, name) == (77, 1, "%D0%9A%D0%9F%20%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD.pdf")
    now = datetime.now(UTC)
    assert LINKS.check(message_id, index, expires, signature, now=now) == 200
    assert 23 * 3600 < expires - now.timestamp() <= 24 * 3600  # a day


async def test_pictures_viber_would_not_show_go_as_files(viber: ViberAPI) -> None:
    adapter = ViberAdapter(config(viber.base_url, media=LINKS))
    webp = queued_file("photo", b"RIFF webp", "photo.webp", "image/webp")
    huge = queued_file("photo", b"\xff" * (1024**2 + 1), "big", "image/jpeg")
    long_text = "Описание " * 100  # too long for a picture's description: a message of its own
    small = queued_file("photo", b"\x89PNG", "", "image/png")
    try:
        await adapter.send(OutboundMessage(78, OLGA, "", (webp, huge)))
        await adapter.send(OutboundMessage(79, OLGA, long_text, (small,)))
    finally:
        await adapter.close()
    kinds = [(m.type, m.payload.get("file_name")) for m in viber.delivered]
    assert kinds == [
        ("file", "photo.webp"),
        ("file", "big.jpg"),
        ("text", None),
        ("picture", None),
    ]
    assert viber.delivered[2].text == long_text and viber.delivered[3].text == ""
    assert viber.delivered[3].payload["media"].endswith("/photo.png")


async def test_queued_files_need_a_public_url(viber: ViberAPI) -> None:
    photo = queued_file("photo", b"\xff\xd8", "photo.jpg", "image/jpeg")
    for media in (None, MediaLinks("", "install-secret")):
        adapter = ViberAdapter(config(viber.base_url, media=media))
        with pytest.raises(SendError) as failed:
            await adapter.send(OutboundMessage(80, OLGA, "Фото", (photo,)))
        await adapter.close()
        assert failed.value.permanent and str(failed.value) == NO_PUBLIC_URL
    assert viber.delivered == []


@pytest.mark.parametrize(
    ("kind", "permanent", "retry_after"),
    [
        ("429", False, 1.0),
        ("403", True, None),
        ("5", True, None),
        ("10", True, None),
        ("401", True, None),
        ("500", False, None),
        ("disconnect", False, None),
    ],
)
async def test_send_errors_are_mapped(
    viber: ViberAPI, adapter: ViberAdapter, kind: str, permanent: bool, retry_after: float | None
) -> None:
    viber.fail_next("send_message", kind=kind)
    with pytest.raises(SendError) as failed:
        await adapter.send(OutboundMessage(1, OLGA, "Здравствуйте"))
    assert (failed.value.permanent, failed.value.retry_after) == (permanent, retry_after)
    assert await adapter.send(OutboundMessage(1, OLGA, "Здравствуйте"))


async def test_send_to_an_unsubscribed_user(viber: ViberAPI, adapter: ViberAdapter) -> None:
    viber.unsubscribe(OLGA)
    with pytest.raises(SendError, match="notSubscribed") as failed:
        await adapter.send(OutboundMessage(1, OLGA, "Здравствуйте"))
    assert failed.value.permanent and failed.value.unsubscribed  # the outbox marks her
    with pytest.raises(SendError) as empty:
        await adapter.send(OutboundMessage(2, OLGA, ""))
    assert empty.value.permanent and not empty.value.unsubscribed


# -- administration --------------------------------------------------------------------------


async def test_check(viber: ViberAPI, adapter: ViberAdapter) -> None:
    assert await adapter.check() == "CRM Hub"
    bad = ViberAdapter(config(viber.base_url, token="wrong"))
    try:
        with pytest.raises(ExternalError, match="Viber refused the token") as refused:
            await bad.check()
        assert refused.value.code == "channel_token_refused"
    finally:
        await bad.close()
    viber.fail_next("get_account_info", kind="502")
    with pytest.raises(ExternalError, match="The request to Viber failed"):
        await adapter.check()


async def test_set_webhook(viber: ViberAPI, adapter: ViberAdapter) -> None:
    await adapter.set_webhook("https://crm.example.com/hooks/viber/3")
    assert viber.webhooks[VIBER_TOKEN] == {
        "url": "https://crm.example.com/hooks/viber/3",
        "event_types": [
            "delivered",
            "seen",
            "failed",
            "subscribed",
            "unsubscribed",
            "conversation_started",
        ],
    }
    with pytest.raises(ExternalError, match="invalidUrl"):
        await adapter.set_webhook("http://crm.example.com/hooks/viber/3")


async def test_set_webhook_passes_viber_check_of_our_endpoint(
    viber: ViberAPI, adapter: ViberAdapter
) -> None:
    """Viber POSTs a signed `webhook` event to the URL before accepting it."""
    received: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if not adapter.verify(request.headers, body):
            return web.Response(status=403)
        received.append(body)
        answer = adapter.handshake(body)
        return web.Response(text=adapter.ack if answer is None else answer)

    app = web.Application()
    app.router.add_post("/hooks/viber/3", hook)
    async with TestServer(app, host="127.0.0.1") as server:
        await adapter.set_webhook(str(server.make_url("/hooks/viber/3")))
        assert json.loads(received[0])["event"] == "webhook"
        assert await viber.send_callback(load_fixture("viber", "message_text")) == 200
        assert adapter.parse(received[-1])[0] == only_message(adapter, raw("message_text"))

        forged = ViberAdapter(config(viber.base_url, token="another-token"))
        try:
            viber.tokens = None
            with pytest.raises(ExternalError, match="invalidUrl"):
                await forged.set_webhook(str(server.make_url("/hooks/viber/3")))
        finally:
            await forged.close()


async def test_poll_is_not_supported(adapter: ViberAdapter) -> None:
    with pytest.raises(ExternalError, match="needs a public webhook") as refused:
        await adapter.poll({}, timeout=1)
    assert refused.value.code == "polling_unsupported"


async def test_check_without_network_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = ViberAdapter(config(f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(ExternalError) as failed:
            await adapter.check()
    finally:
        await adapter.close()
    assert failed.value.code == "channel_unreachable"
    assert f"No connection to 127.0.0.1:{port}" in str(failed.value)
    assert "token" not in failed.value.fields

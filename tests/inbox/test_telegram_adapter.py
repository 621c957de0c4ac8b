"""TelegramAdapter against the loopback Bot API fake, with recorded update payloads."""

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
    ButtonPress,
    ChannelConfig,
    InboundMessage,
    OutboundMessage,
    SendError,
    SubscriptionChange,
)
from inbox.channels.telegram import TelegramAdapter
from tests.fakes.base import fixture_path, load_fixture
from tests.fakes.telegram_api import TelegramAPI

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
SECRET = "wh-s3cr3t_Token"
ANNA = 5123456789


def config(base_url: str, **credentials: Any) -> ChannelConfig:
    creds = {"token": TOKEN, "webhook_secret": SECRET, **credentials}
    return ChannelConfig(id=1, kind="telegram", credentials=creds, settings={}, api_base=base_url)


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI() as fake:
        yield fake


@pytest.fixture
async def adapter(telegram: TelegramAPI) -> AsyncIterator[TelegramAdapter]:
    adapter = TelegramAdapter(config(telegram.base_url))
    yield adapter
    await adapter.close()


def raw(name: str) -> bytes:
    return fixture_path("telegram", name).read_bytes()


def only_message(adapter: TelegramAdapter, body: bytes) -> InboundMessage:
    (event,) = adapter.parse(body)
    assert isinstance(event, InboundMessage)
    return event


# -- webhook ---------------------------------------------------------------------------------


def test_verify_checks_the_secret_header() -> None:
    adapter = TelegramAdapter(config(""))
    body = raw("message_text")
    assert adapter.verify({"X-Telegram-Bot-Api-Secret-Token": SECRET}, body)
    assert adapter.verify({"x-telegram-bot-api-secret-token": SECRET}, body)
    assert not adapter.verify({"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}, body)
    assert not adapter.verify({}, body)
    unset = TelegramAdapter(config("", webhook_secret=""))
    assert not unset.verify({"X-Telegram-Bot-Api-Secret-Token": ""}, body)
    assert adapter.handshake(body) is None


def test_parse_text_message() -> None:
    message = only_message(TelegramAdapter(config("")), raw("message_text"))
    assert message.source_id == f"{ANNA}:101"
    assert message.external_user_id == str(ANNA)
    assert message.text.startswith("Здравствуйте! Хочу уточнить")
    assert message.sent_at == datetime(2024, 5, 31, 8, 1, 41, tzinfo=UTC)
    assert message.profile_name == "Анна Смирнова"
    assert (message.edit, message.lead_source, message.phone) == (False, None, None)
    assert message.meta["username"] == "anna_smirnova"


def test_parse_edit_keeps_the_original_source_id() -> None:
    adapter = TelegramAdapter(config(""))
    original = only_message(adapter, raw("message_text"))
    edited = only_message(adapter, raw("edited_message"))
    assert edited.edit and edited.source_id == original.source_id
    assert edited.text.endswith("ул. Баумана, 12.")
    assert edited.sent_at == original.sent_at and "edited_at" in edited.meta


def test_parse_media() -> None:
    adapter = TelegramAdapter(config(""))
    photo = only_message(adapter, raw("message_photo_caption"))
    assert photo.text.startswith("Вот фото")
    (picture,) = photo.attachments
    assert picture.kind == "photo" and picture.file_id.endswith("A3kAAzUE")  # 1280x960
    assert picture.size == 163205

    document = only_message(adapter, raw("message_document"))
    assert document.text == "Реквизиты для счёта"
    assert document.attachments == (
        Attachment(
            kind="document",
            file_id="BQACAgIAAxkBAAIBZ2ZaB4_9p3bq0tYl0mC2d1wE7n4yAAJkRwAC7kzQSmG6Zk4Nf3QJNQQ",
            name="Реквизиты ООО Ромашка.pdf",
            mime="application/pdf",
            size=48213,
        ),
    )

    voice = only_message(adapter, raw("message_voice"))
    assert voice.text == ""
    assert [(a.kind, a.mime, a.extra["duration"]) for a in voice.attachments] == [
        ("voice", "audio/ogg", 7)
    ]


def test_parse_own_contact_gives_the_phone_someone_elses_does_not() -> None:
    adapter = TelegramAdapter(config(""))
    own = only_message(adapter, raw("message_contact"))
    assert own.phone == "79161234567"
    assert own.attachments[0].kind == "contact"

    update = load_fixture("telegram", "message_contact")
    update["message"]["contact"]["user_id"] = 42
    foreign = only_message(adapter, json.dumps(update).encode())
    assert foreign.phone is None and foreign.meta["foreign_contact"]
    assert foreign.attachments[0].extra["phone"] == "79161234567"


def test_parse_start_payload_and_location() -> None:
    adapter = TelegramAdapter(config(""))
    start = only_message(adapter, raw("start_deeplink"))
    assert (start.lead_source, start.text) == ("promo_spring", "/start promo_spring")

    update = load_fixture("telegram", "message_text")
    update["message"].pop("text")
    update["message"]["location"] = {"latitude": 55.75, "longitude": 37.62}
    located = only_message(adapter, json.dumps(update).encode())
    assert located.attachments[0].kind == "location"
    assert located.attachments[0].extra == {"latitude": 55.75, "longitude": 37.62}


def test_parse_skips_what_is_not_a_private_message() -> None:
    adapter = TelegramAdapter(config(""))
    # A button press in a private chat is one (its data for the survey intake to judge).
    assert adapter.parse(raw("callback_query")) == [
        ButtonPress("cb:4382946021234567890", str(ANNA), "call:42:confirm")
    ]
    in_group = load_fixture("telegram", "callback_query")
    in_group["callback_query"]["message"]["chat"] = {"id": -1001234, "type": "supergroup"}
    assert adapter.parse(json.dumps(in_group).encode()) == []
    update = load_fixture("telegram", "message_text")
    update["message"]["chat"] = {"id": -1001234, "title": "Мебель", "type": "supergroup"}
    assert adapter.parse(json.dumps(update).encode()) == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"message": {"chat": {"type": "private"}, "from": {"id": 1}}}'],
)
def test_parse_rejects_garbage(body: bytes) -> None:
    with pytest.raises(ValueError):
        TelegramAdapter(config("")).parse(body)


# -- sending ---------------------------------------------------------------------------------


async def test_send_plain_text_never_interprets_markup(
    telegram: TelegramAPI, adapter: TelegramAdapter
) -> None:
    text = "<b>Итого</b>: 5.000 ₽ *без* скидки"
    assert await adapter.send(OutboundMessage(7, str(ANNA), text)) == f"{ANNA}:1"
    assert await adapter.send(OutboundMessage(8, str(ANNA), "Ещё")) == f"{ANNA}:2"
    call = telegram.calls_to("sendMessage")[0]
    assert "parse_mode" not in call.params and call.token == TOKEN
    assert telegram.delivered[0]["text"] == text


async def test_send_attachments_with_the_text_as_caption(
    telegram: TelegramAPI, adapter: TelegramAdapter
) -> None:
    stored = telegram.add_file(b"%PDF", "documents/offer.pdf")
    photo = Attachment(kind="photo", file_id="https://example.com/sofa.jpg")
    document = Attachment(kind="document", file_id=stored.file_id)
    message = OutboundMessage(9, "42", "Диван и договор", attachments=(photo, document))
    assert await adapter.send(message) == "42:1"
    assert telegram.calls_to("sendPhoto")[0].params["caption"] == "Диван и договор"
    assert "caption" not in telegram.calls_to("sendDocument")[0].params
    assert not telegram.calls_to("sendMessage")
    with pytest.raises(SendError) as empty:
        await adapter.send(OutboundMessage(10, "42", ""))
    assert empty.value.permanent


async def test_send_uploads_files_given_as_bytes(
    telegram: TelegramAPI, adapter: TelegramAdapter
) -> None:
    """A file another bot received (the managers' bot) travels as bytes, not a file_id."""
    photo = Attachment(kind="photo", extra={"content_b64": base64.b64encode(b"JPEG").decode()})
    document = Attachment(
        kind="document",
        name="Договор.pdf",
        extra={"content_b64": base64.b64encode(b"%PDF").decode()},
    )
    message = OutboundMessage(11, "42", "Вот", attachments=(photo, document))
    assert await adapter.send(message) == "42:1"
    sent_photo = telegram.calls_to("sendPhoto")[0].params
    assert (sent_photo["photo"].data, sent_photo["caption"]) == (b"JPEG", "Вот")
    upload = telegram.calls_to("sendDocument")[0].params["document"]
    assert (upload.filename, upload.data) == ("Договор.pdf", b"%PDF")

    broken = Attachment(kind="document", extra={"content_b64": "not base64!"})
    with pytest.raises(SendError, match="not base64") as failed:
        await adapter.send(OutboundMessage(12, "42", "", attachments=(broken,)))
    assert failed.value.permanent


@pytest.mark.parametrize(
    ("kind", "permanent", "retry_after"),
    [
        ("429", False, 3.0),
        ("403", True, None),
        ("400", True, None),
        ("401", True, None),
        ("500", False, None),
        ("502", False, None),
        ("disconnect", False, None),
    ],
)
async def test_send_errors_are_mapped(
    telegram: TelegramAPI,
    adapter: TelegramAdapter,
    kind: str,
    permanent: bool,
    retry_after: float | None,
) -> None:
    telegram.fail_next("sendMessage", kind=kind, retry_after=3)
    with pytest.raises(SendError) as failed:
        await adapter.send(OutboundMessage(1, "42", "Здравствуйте"))
    assert (failed.value.permanent, failed.value.retry_after) == (permanent, retry_after)
    assert await adapter.send(OutboundMessage(1, "42", "Здравствуйте")) == "42:1"


async def test_send_to_a_user_who_blocked_the_bot(
    telegram: TelegramAPI, adapter: TelegramAdapter
) -> None:
    telegram.block(42)
    with pytest.raises(SendError, match="blocked") as failed:
        await adapter.send(OutboundMessage(1, "42", "Здравствуйте"))
    assert failed.value.permanent and failed.value.unsubscribed
    telegram.fail_next("sendMessage", kind="400")
    with pytest.raises(SendError) as other:
        await adapter.send(OutboundMessage(1, "42", "Здравствуйте"))
    assert other.value.permanent and not other.value.unsubscribed


def test_parse_blocking_and_unblocking_the_bot() -> None:
    adapter = TelegramAdapter(config(""))
    assert adapter.parse(raw("my_chat_member_kicked")) == [
        SubscriptionChange(str(ANNA), False, "Анна Смирнова")
    ]
    assert adapter.parse(raw("my_chat_member_member")) == [
        SubscriptionChange(str(ANNA), True, "Анна Смирнова")
    ]
    group = load_fixture("telegram", "my_chat_member_kicked")
    group["my_chat_member"]["chat"] = {"id": -100123, "title": "Chat", "type": "supergroup"}
    assert adapter.parse(json.dumps(group).encode()) == []
    left = load_fixture("telegram", "my_chat_member_kicked")
    left["my_chat_member"]["new_chat_member"]["status"] = "left"
    assert adapter.parse(json.dumps(left).encode()) == []
    broken = {"update_id": 1, "my_chat_member": {"chat": {"type": "private"}}}
    with pytest.raises(ValueError, match="my_chat_member"):
        adapter.parse(json.dumps(broken).encode())


# -- administration --------------------------------------------------------------------------


async def test_check(adapter: TelegramAdapter) -> None:
    assert await adapter.check() == "@crmhub_test_bot (CRM Hub)"


async def test_check_with_a_bad_token() -> None:
    async with TelegramAPI(tokens={"1:valid"}) as fake:
        adapter = TelegramAdapter(config(fake.base_url))
        try:
            with pytest.raises(ExternalError) as refused:
                await adapter.check()
            assert refused.value.code == "channel_token_refused"
            assert "Telegram refused the token" in str(refused.value)
            assert "token" in refused.value.fields
        finally:
            await adapter.close()
        malformed = TelegramAdapter(config(fake.base_url, token="not a token"))
        try:
            with pytest.raises(ExternalError) as local:
                await malformed.check()
        finally:
            await malformed.close()
        # Checked here, before any request: Telegram never saw it, so it did not refuse it.
        assert local.value.code == "channel_token_malformed" and "token" in local.value.fields
        assert "refused" not in str(local.value) and "not a Telegram bot token" in str(local.value)
        assert "не похоже на токен" in local.value.render("ru")
        assert not fake.calls_to("getMe")[1:]


async def test_check_without_network_says_so_not_that_the_token_was_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = TelegramAdapter(config(f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(ExternalError) as failed:
            await adapter.check()
    finally:
        await adapter.close()
    assert failed.value.code == "channel_unreachable"
    assert f"No connection to 127.0.0.1:{port}" in str(failed.value)
    assert "token" not in failed.value.fields
    assert f"Нет связи с 127.0.0.1:{port}" in failed.value.render("ru")


async def test_check_when_telegram_is_down(telegram: TelegramAPI, adapter: TelegramAdapter) -> None:
    telegram.fail_next("getMe", kind="502")
    with pytest.raises(ExternalError, match="The request to Telegram failed") as failed:
        await adapter.check()
    assert failed.value.code == "external_error"


async def test_set_webhook(telegram: TelegramAPI, adapter: TelegramAdapter) -> None:
    await adapter.set_webhook("https://crm.example.com/hooks/telegram/1")
    assert telegram.webhook == {
        "url": "https://crm.example.com/hooks/telegram/1",
        "max_connections": 40,
        "secret_token": SECRET,
        "allowed_updates": ["message", "edited_message", "my_chat_member", "callback_query"],
    }
    with pytest.raises(ExternalError, match="HTTPS URL must be provided"):
        await adapter.set_webhook("http://crm.example.com/hooks/telegram/1")


async def test_poll_advances_the_offset(telegram: TelegramAPI, adapter: TelegramAdapter) -> None:
    first = telegram.push_update(load_fixture("telegram", "message_text"))
    second = telegram.push_update(load_fixture("telegram", "edited_message"))
    result = await adapter.poll({}, timeout=0)
    assert [json.loads(body)["update_id"] for body in result.bodies] == [
        first["update_id"],
        second["update_id"],
    ]
    assert result.state == {"offset": second["update_id"] + 1}
    assert json.loads(result.bodies[0]) == first  # stored verbatim, as Telegram sent it
    events = [adapter.parse(body)[0] for body in result.bodies]
    assert [e.edit for e in events if isinstance(e, InboundMessage)] == [False, True]
    assert telegram.calls_to("getUpdates")[0].params["allowed_updates"] == [
        "message",
        "edited_message",
        "my_chat_member",
        "callback_query",
    ]

    again = await adapter.poll(result.state, timeout=0)
    assert again.bodies == [] and again.state == result.state


async def test_poll_refused_while_a_webhook_is_set(
    telegram: TelegramAPI, adapter: TelegramAdapter
) -> None:
    await adapter.set_webhook("https://crm.example.com/hooks/telegram/1")
    with pytest.raises(ExternalError, match="webhook is active"):
        await adapter.poll({}, timeout=0)


async def test_poll_waits_until_an_update_arrives(
    telegram: TelegramAPI, adapter: TelegramAdapter
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(adapter.poll({"offset": 1}, timeout=5))
    await telegram.wait_for_calls("getUpdates")
    telegram.push_update(load_fixture("telegram", "message_voice"))
    result = await poll
    assert time.monotonic() - started < 2 and len(result.bodies) == 1
    assert telegram.calls_to("getUpdates")[0].params["timeout"] == 5

"""The email channel adapter against a real Dovecot (IMAP) and aiosmtpd (SMTP)."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aioimaplib
import pytest

from crm.errors import ValidationFailed
from inbox.channels.base import (
    Attachment,
    ChannelConfig,
    InboundMessage,
    OutboundMessage,
    SendError,
    StatusUpdate,
)
from inbox.channels.email import EmailAdapter, decode_body, encode_body, mailbox_config
from inbox.channels.email_mime import parse_email
from inbox.channels.email_transport import MailServerError
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.inbox.conftest import EMAIL_FIXTURES as FIXTURES
from tests.inbox.conftest import PASSWORD

SENDER_NAME = "Магазин «Сладости»"


def channel(dovecot: Dovecot, smtp: SmtpServer, address: str, **settings: Any) -> ChannelConfig:
    credentials = {"password": settings.pop("password", PASSWORD)}
    if "webhook_secret" in settings:
        credentials["webhook_secret"] = settings.pop("webhook_secret")
    return ChannelConfig(
        id=7,
        kind="email",
        credentials=credentials,
        settings={
            "address": address,
            "sender_name": SENDER_NAME,
            "imap_host": dovecot.host,
            "imap_port": str(dovecot.port),  # as an admin form stores it
            "imap_ssl": "false",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_ssl": False,
            "timeout": 5,
            **settings,
        },
    )


@pytest.fixture
async def adapter(dovecot: Dovecot, smtp: SmtpServer, address: str) -> AsyncIterator[EmailAdapter]:
    instance = EmailAdapter(channel(dovecot, smtp, address, webhook_secret="channel-secret"))
    try:
        yield instance
    finally:
        await instance.close()


def mail(n: int, sender: str = "client@example.net") -> bytes:
    return (
        f"From: Client {n} <{sender}>\r\nTo: shop@example.com\r\n"
        f"Subject: message {n}\r\nMessage-ID: <m{n}.{uuid.uuid4().hex}@example.net>\r\n"
        f"Date: Tue, 14 Jan 2025 10:15:0{n % 10} +0300\r\n\r\nbody {n}\r\n"
    ).encode()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def only_message(adapter: EmailAdapter, body: bytes) -> InboundMessage:
    (event,) = adapter.parse(body)
    assert isinstance(event, InboundMessage)
    return event


# -- settings ---------------------------------------------------------------------------------


def test_settings_fill_in_the_provider_and_coerce_form_values() -> None:
    config = mailbox_config(
        ChannelConfig(
            1,
            "email",
            {"password": "app-password"},
            {"address": " Sales@Yandex.ru ", "smtp_port": "587", "smtp_ssl": "off"},
        )
    )
    assert (config.address, config.username) == ("sales@yandex.ru", "sales@yandex.ru")
    assert (config.imap_host, config.imap_port, config.imap_ssl) == ("imap.yandex.ru", 993, True)
    assert (config.smtp_host, config.smtp_port, config.smtp_ssl) == ("smtp.yandex.ru", 587, False)
    assert config.smtp_starttls  # port 587 without TLS from the first byte: STARTTLS
    assert config.folder == "INBOX"


@pytest.mark.parametrize(
    ("credentials", "settings", "field"),
    [
        ({}, {"address": "a@example.com"}, "password"),
        ({"password": "x"}, {}, "address"),
        ({"password": "x"}, {"address": "not an address"}, "address"),
        ({"password": "x"}, {"address": "a@example.com", "imap_port": "imap"}, "imap_port"),
        ({"password": "x"}, {"address": "a@example.com", "smtp_ssl": "maybe"}, "smtp_ssl"),
    ],
)
def test_unusable_settings_name_the_field(
    credentials: dict[str, str], settings: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        EmailAdapter(ChannelConfig(1, "email", credentials, settings))
    assert field in raised.value.fields


async def test_no_webhooks(adapter: EmailAdapter) -> None:
    assert (adapter.kind, adapter.ack) == ("email", "")
    assert adapter.verify({}, b"anything") is False
    assert adapter.handshake(b"anything") is None
    await adapter.set_webhook("https://example.com/hook")


# -- polling ----------------------------------------------------------------------------------


async def test_poll_fetches_a_delivered_message_once(
    dovecot: Dovecot, address: str, adapter: EmailAdapter
) -> None:
    dovecot.deliver(address, mail(0))  # history: not imported by default
    first = await adapter.poll({}, 0)
    assert first.bodies == [] and first.state["last_uid"] == 1

    dovecot.deliver(address, raw := mail(1))
    result = await adapter.poll(first.state, 0)
    assert [decode_body(body) for body in result.bodies] == [raw]
    assert all(body.isascii() for body in result.bodies)  # storable as text
    message = only_message(adapter, result.bodies[0])
    assert (message.external_user_id, message.text) == ("client@example.net", "body 1")

    again = await adapter.poll(result.state, 0)
    assert again.bodies == [] and again.state == result.state

    flags = dovecot.doveadm("fetch", "-u", address, "flags", "mailbox", "INBOX", "all")
    assert "\\Seen" not in flags


async def test_first_poll_imports_history_when_asked(
    dovecot: Dovecot, smtp: SmtpServer, address: str
) -> None:
    dovecot.deliver(address, old := mail(1))
    adapter = EmailAdapter(channel(dovecot, smtp, address, import_existing="true"))
    try:
        result = await adapter.poll({}, 0)
    finally:
        await adapter.close()
    assert [decode_body(body) for body in result.bodies] == [old]


async def test_uidvalidity_change_resets_the_cursor_without_losing_mail(
    dovecot: Dovecot, address: str, adapter: EmailAdapter
) -> None:
    start = await adapter.poll({}, 0)
    dovecot.deliver(address, first := mail(1))
    dovecot.deliver(address, second := mail(2))
    seen = await adapter.poll(start.state, 0)
    assert len(seen.bodies) == 2

    dovecot.set_uidvalidity(address, seen.state["uidvalidity"] + 1000)
    dovecot.deliver(address, third := mail(3))
    after = await adapter.poll(seen.state, 0)
    # Everything again (the hub drops what it has by source_id), the new mail included.
    assert [decode_body(body) for body in after.bodies] == [first, second, third]
    assert after.state == {"uidvalidity": seen.state["uidvalidity"] + 1000, "last_uid": 3}
    assert (await adapter.poll(after.state, 0)).bodies == []


async def test_idle_wakes_the_poll_when_mail_arrives(
    dovecot: Dovecot, address: str, adapter: EmailAdapter
) -> None:
    start = await adapter.poll({}, 0)
    polling = asyncio.create_task(adapter.poll(start.state, 10))
    await asyncio.sleep(0.5)
    delivered_at = time.monotonic()
    dovecot.deliver(address, raw := mail(1))
    result = await asyncio.wait_for(polling, 8)
    assert time.monotonic() - delivered_at < 5
    assert [decode_body(body) for body in result.bodies] == [raw]
    assert result.state["last_uid"] == 1


async def test_mail_between_polls_is_not_missed(
    dovecot: Dovecot, address: str, adapter: EmailAdapter
) -> None:
    idle = await adapter.poll({}, 0.2)  # connects the IDLE watcher, times out quietly
    assert idle.bodies == []
    dovecot.deliver(address, raw := mail(1))
    result = await asyncio.wait_for(adapter.poll(idle.state, 10), 8)
    assert [decode_body(body) for body in result.bodies] == [raw]


async def test_poll_waits_at_most_the_timeout(adapter: EmailAdapter) -> None:
    start = await adapter.poll({}, 0)
    started = time.monotonic()
    result = await adapter.poll(start.state, 0.3)
    assert result.bodies == [] and result.state == start.state
    assert 0.3 <= time.monotonic() - started < 3


async def test_without_idle_the_poll_returns_at_once(
    adapter: EmailAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aioimaplib.IMAP4, "has_capability", lambda self, name: name != "IDLE")
    start = await adapter.poll({}, 0)
    started = time.monotonic()
    assert (await adapter.poll(start.state, 5)).bodies == []
    assert time.monotonic() - started < 2


async def test_poll_with_a_wrong_password_names_imap(
    dovecot: Dovecot, smtp: SmtpServer, address: str
) -> None:
    adapter = EmailAdapter(channel(dovecot, smtp, address, password="nope"))
    try:
        with pytest.raises(MailServerError) as raised:
            await adapter.poll({}, 1)
    finally:
        await adapter.close()
    assert (raised.value.server, raised.value.auth) == ("IMAP", True)


# -- parsing ----------------------------------------------------------------------------------


async def test_polled_fixtures_parse_like_the_files(
    dovecot: Dovecot, address: str, smtp: SmtpServer
) -> None:
    names = ["cp1251.eml", "koi8r.eml", "html_only.eml", "mixed_attachments.eml", "reply.eml"]
    for name in names:
        dovecot.deliver(address, fixture(name))
    adapter = EmailAdapter(channel(dovecot, smtp, address, import_existing=True))
    try:
        result = await adapter.poll({}, 0)
    finally:
        await adapter.close()
    assert len(result.bodies) == len(names)
    for name, body in zip(names, result.bodies, strict=True):
        assert adapter.parse(body) == [parse_email(fixture(name))], name


@pytest.mark.parametrize(
    ("name", "profile_name", "subject", "text"),
    [
        ("cp1251.eml", "Пётр Иванов", "Счёт по договору", "счёт на оплату по договору № 45/2024"),
        ("koi8r.eml", "Елена Кузнецова", "Встреча в четверг", "о встрече в четверг в 15:00."),
        ("html_only.eml", "Olga Petrova", "Оптовая цена", "- Чай зелёный\n- Кофе молотый"),
        ("mixed_attachments.eml", "Марина Волкова", "Счёт и фото", "фото повреждённой упаковки"),
    ],
)
async def test_parse_fixtures(
    adapter: EmailAdapter, name: str, profile_name: str, subject: str, text: str
) -> None:
    message = only_message(adapter, encode_body(fixture(name)))
    assert (message.profile_name, message.meta["subject"]) == (profile_name, subject)
    assert text in message.text and "<" not in message.text
    assert message.email == message.external_user_id == message.external_user_id.lower()
    assert message.source_id == message.meta["message_id"]
    assert message.thread_ids == ()
    assert only_message(adapter, fixture(name)) == message  # raw bytes are accepted too


async def test_parse_attachments_and_threading(adapter: EmailAdapter) -> None:
    mixed = only_message(adapter, encode_body(fixture("mixed_attachments.eml")))
    assert [(a.kind, a.name) for a in mixed.attachments] == [
        ("file", "Счёт №15.pdf"),
        ("photo", "IMG_2041.jpg"),
    ]
    reply = only_message(adapter, encode_body(fixture("reply.eml")))
    assert reply.source_id == "1736848964.654321@mail.yandex.ru"
    assert reply.meta["in_reply_to"] == "173684.reply-1@shop.example.ru"
    assert reply.meta["references"] == [
        "1736838901.123456@mail.yandex.ru",
        "173684.reply-1@shop.example.ru",
    ]
    assert reply.thread_ids == (
        "173684.reply-1@shop.example.ru",
        "1736838901.123456@mail.yandex.ru",
    )


async def test_a_missing_message_id_gets_a_stable_synthetic_one(adapter: EmailAdapter) -> None:
    body = encode_body(fixture("no_message_id.eml"))
    first, second = only_message(adapter, body), only_message(adapter, body)
    assert first.source_id == second.source_id and first.source_id.endswith("@crmhub.invalid")


async def test_own_messages_are_skipped(
    dovecot: Dovecot, address: str, adapter: EmailAdapter
) -> None:
    start = await adapter.poll({}, 0)
    dovecot.deliver(address, mail(1, sender=address.upper()))
    result = await adapter.poll(start.state, 0)
    assert len(result.bodies) == 1 and adapter.parse(result.bodies[0]) == []


async def test_auto_replies_are_dropped_and_bounces_fail_our_message(
    adapter: EmailAdapter,
) -> None:
    assert adapter.parse(encode_body(fixture("autoreply.eml"))) == []
    (status,) = adapter.parse(encode_body(fixture("bounce_dsn.eml")))
    assert isinstance(status, StatusUpdate)
    assert (status.source_id, status.status) == ("173700.reply-7@shop.example.ru", "failed")
    assert "550 5.1.1" in status.error and "gone@example.org" in status.error


async def test_a_delay_warning_is_no_failure(adapter: EmailAdapter) -> None:
    delayed = fixture("bounce_dsn.eml").replace(b"Action: failed", b"Action: delayed")
    assert adapter.parse(encode_body(delayed)) == []


async def test_bulk_mail_is_kept_and_flagged(adapter: EmailAdapter) -> None:
    raw = mail(1).replace(b"Subject:", b"Precedence: bulk\r\nSubject:")
    assert only_message(adapter, encode_body(raw)).meta["automatic"] is True


def test_unparsable_bodies_raise_value_error(adapter: EmailAdapter) -> None:
    with pytest.raises(ValueError):
        adapter.parse(b"!!! not base64 and no header !!!")
    with pytest.raises(ValueError, match="sender"):
        adapter.parse(encode_body(b"Subject: who?\r\n\r\nhi"))


# -- sending ----------------------------------------------------------------------------------


def answer(message_id: int = 41, **meta: Any) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        external_user_id="anna.smirnova@yandex.ru",
        text="Анна, добрый день! Доставим в пятницу.",
        meta=meta,
    )


async def test_send_replies_with_threading_headers_and_sender_name(
    smtp: SmtpServer, address: str, adapter: EmailAdapter
) -> None:
    inbound = only_message(adapter, encode_body(fixture("reply.eml")))
    message_id = await adapter.send(
        answer(
            subject=inbound.meta["subject"],
            in_reply_to=inbound.source_id,
            references=inbound.meta["references"],
        )
    )
    (received,) = smtp.received
    assert received.rcpt_tos == ("anna.smirnova@yandex.ru",)
    assert received.mail_from == address and received.authenticated_as == address
    headers = received.message
    assert headers["Message-ID"] == f"<{message_id}>" and "<" not in message_id
    assert message_id.endswith("@example.com")
    assert headers["In-Reply-To"] == "<1736848964.654321@mail.yandex.ru>"
    assert headers["References"] == (
        "<1736838901.123456@mail.yandex.ru> <173684.reply-1@shop.example.ru> "
        "<1736848964.654321@mail.yandex.ru>"
    )
    assert b"=?utf-8?" in received.raw.split(b"\r\n\r\n")[0]  # encoded-words, 7-bit headers
    assert received.raw.isascii()
    parsed = parse_email(received.raw)
    assert parsed.profile_name == SENDER_NAME and parsed.email == address
    assert parsed.meta["subject"] == "Re: Заказ конфет к пятнице"  # no second "Re:"
    assert parsed.text == "Анна, добрый день! Доставим в пятницу."
    # A reply to our answer threads back to it.
    assert parsed.source_id == message_id


async def test_a_first_message_gets_re_only_when_it_answers(
    smtp: SmtpServer, adapter: EmailAdapter
) -> None:
    await adapter.send(answer(subject="Ваш заказ"))
    await adapter.send(answer(42))
    first, second = (parse_email(mail.raw) for mail in smtp.received)
    assert first.meta["subject"] == "Ваш заказ" and first.meta["in_reply_to"] == ""
    assert second.meta["subject"] == SENDER_NAME
    assert "In-Reply-To" not in smtp.received[0].message


async def test_a_retried_send_keeps_its_message_id(smtp: SmtpServer, adapter: EmailAdapter) -> None:
    first = await adapter.send(answer(41))
    again = await adapter.send(answer(41))
    other = await adapter.send(answer(42))
    assert first == again != other


async def test_without_a_channel_secret_message_ids_are_random(
    dovecot: Dovecot, smtp: SmtpServer, address: str
) -> None:
    adapter = EmailAdapter(channel(dovecot, smtp, address))
    try:
        assert await adapter.send(answer(41)) != await adapter.send(answer(41))
    finally:
        await adapter.close()


async def test_send_attachments(smtp: SmtpServer, adapter: EmailAdapter) -> None:
    pdf = b"%PDF-1.4 invoice"
    attachment = Attachment(
        kind="document",
        name="Счёт №15.pdf",
        mime="application/pdf",
        extra={"content_b64": base64.b64encode(pdf).decode()},
    )
    message = answer()
    await adapter.send(
        OutboundMessage(message.message_id, message.external_user_id, message.text, (attachment,))
    )
    received = email.message_from_bytes(smtp.received[0].raw, policy=email.policy.default)
    (part,) = list(received.iter_attachments())
    assert part.get_filename() == "Счёт №15.pdf" and part.get_content() == pdf
    assert parse_email(smtp.received[0].raw).text == message.text


async def test_an_attachment_without_content_is_a_permanent_failure(
    smtp: SmtpServer, adapter: EmailAdapter
) -> None:
    message = answer()
    attachment = Attachment(kind="photo", file_id="AgAD123", name="photo.jpg")
    with pytest.raises(SendError) as raised:
        await adapter.send(
            OutboundMessage(
                message.message_id, message.external_user_id, message.text, (attachment,)
            )
        )
    assert raised.value.permanent and smtp.received == []


async def test_send_errors(smtp: SmtpServer, adapter: EmailAdapter) -> None:
    refused = OutboundMessage(1, "gone@example.org", "hi")
    with pytest.raises(SendError) as raised:
        await adapter.send(refused)
    assert raised.value.permanent and "550" in str(raised.value)
    with pytest.raises(SendError) as raised:
        await adapter.send(OutboundMessage(2, "12345", "hi"))
    assert raised.value.permanent


async def test_send_with_a_wrong_password_is_permanent(
    dovecot: Dovecot, smtp: SmtpServer, address: str
) -> None:
    adapter = EmailAdapter(channel(dovecot, smtp, address, password="nope"))
    try:
        with pytest.raises(SendError) as raised:
            await adapter.send(answer())
    finally:
        await adapter.close()
    assert raised.value.permanent and "SMTP" in str(raised.value) and "535" in str(raised.value)


# -- checking ---------------------------------------------------------------------------------


async def test_check_returns_the_address(address: str, adapter: EmailAdapter) -> None:
    assert await adapter.check() == address


async def test_check_with_a_wrong_password_names_imap(
    dovecot: Dovecot, smtp: SmtpServer, address: str
) -> None:
    adapter = EmailAdapter(channel(dovecot, smtp, address, password="nope"))
    with pytest.raises(MailServerError) as raised:
        await adapter.check()
    error = raised.value
    assert (error.server, error.auth) == ("IMAP", True)
    assert "IMAP" in str(error) and "password" in error.fields


async def test_check_names_smtp_when_only_smtp_refuses(
    dovecot: Dovecot, smtp: SmtpServer, address: str
) -> None:
    with SmtpServer(user=address, password="other") as other:
        adapter = EmailAdapter(channel(dovecot, smtp, address, smtp_port=other.port))
        with pytest.raises(MailServerError) as raised:
            await adapter.check()
    assert (raised.value.server, raised.value.auth) == ("SMTP", True)
    assert "SMTP" in str(raised.value)


async def test_check_names_a_missing_folder(
    dovecot: Dovecot, smtp: SmtpServer, address: str
) -> None:
    adapter = EmailAdapter(channel(dovecot, smtp, address, folder="Nowhere"))
    with pytest.raises(MailServerError) as raised:
        await adapter.check()
    assert raised.value.server == "IMAP" and "Nowhere" in str(raised.value)


async def test_a_cancelled_poll_leaves_the_adapter_usable(
    dovecot: Dovecot, address: str, adapter: EmailAdapter
) -> None:
    start = await adapter.poll({}, 0)
    polling = asyncio.create_task(adapter.poll(start.state, 10))
    await asyncio.sleep(0.3)
    polling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await polling
    dovecot.deliver(address, raw := mail(1))
    result = await asyncio.wait_for(adapter.poll(start.state, 10), 8)
    assert [decode_body(body) for body in result.bodies] == [raw]

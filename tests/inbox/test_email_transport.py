"""IMAP fetch and IDLE against a real Dovecot; SMTP send and check against aiosmtpd."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import aioimaplib
import pytest

from inbox.channels.base import SendError
from inbox.channels.email_compose import build_message
from inbox.channels.email_mime import parse_email
from inbox.channels.email_transport import (
    ImapWatcher,
    MailboxConfig,
    MailServerError,
    check,
    fetch_new,
    idle_wait,
    send,
)
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.inbox.conftest import EMAIL_FIXTURES as FIXTURES
from tests.inbox.conftest import PASSWORD


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def config(dovecot: Dovecot, smtp: SmtpServer, address: str) -> MailboxConfig:
    return MailboxConfig(
        address=address,
        password=PASSWORD,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_ssl=False,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_ssl=False,
        sender_name="Магазин «Сладости»",
        timeout=5,
    )


def mail(n: int) -> bytes:
    return (
        f"From: Client {n} <client{n}@example.net>\r\nTo: shop@example.com\r\n"
        f"Subject: message {n}\r\nMessage-ID: <m{n}.{uuid.uuid4().hex}@example.net>\r\n"
        f"Date: Tue, 14 Jan 2025 10:15:0{n % 10} +0300\r\n\r\nbody {n}\r\n"
    ).encode()


# -- fetching ---------------------------------------------------------------------------------


async def test_fetch_new_is_incremental_and_leaves_mail_unread(
    dovecot: Dovecot, address: str, config: MailboxConfig
) -> None:
    sent = [mail(n) for n in range(3)]
    for raw in sent:
        dovecot.deliver(address, raw)

    messages, state = await fetch_new(config, {}, initial="all")
    assert [raw for _, raw in messages] == sent
    assert [uid for uid, _ in messages] == [1, 2, 3]
    assert state["last_uid"] == 3 and state["uidvalidity"] > 0

    again, same_state = await fetch_new(config, state)
    assert again == [] and same_state == state

    dovecot.deliver(address, later := mail(4))
    newer, newer_state = await fetch_new(config, state)
    assert newer == [(4, later)]
    assert newer_state == {**state, "last_uid": 4}

    flags = dovecot.doveadm("fetch", "-u", address, "flags", "mailbox", "INBOX", "all")
    assert flags.count("flags:") == 4 and "\\Seen" not in flags


async def test_first_run_skips_history_by_default(
    dovecot: Dovecot, address: str, config: MailboxConfig
) -> None:
    dovecot.deliver(address, mail(1))
    dovecot.deliver(address, mail(2))
    messages, state = await fetch_new(config, {})
    assert messages == [] and state["last_uid"] == 2

    dovecot.deliver(address, fresh := mail(3))
    messages, _ = await fetch_new(config, state)
    assert messages == [(3, fresh)]


async def test_first_run_on_an_empty_mailbox(config: MailboxConfig) -> None:
    assert await fetch_new(config, {}, initial="all") == ([], {**(await fetch_new(config, {}))[1]})


async def test_uidvalidity_change_fetches_everything_again(
    dovecot: Dovecot, address: str, config: MailboxConfig
) -> None:
    dovecot.deliver(address, mail(1))
    dovecot.deliver(address, mail(2))
    first, state = await fetch_new(config, {}, initial="all")

    dovecot.set_uidvalidity(address, state["uidvalidity"] + 1000)
    again, new_state = await fetch_new(config, state)
    # The same messages again: the hub drops them by source_id (their Message-ID).
    assert [raw for _, raw in again] == [raw for _, raw in first]
    assert new_state == {"uidvalidity": state["uidvalidity"] + 1000, "last_uid": 2}


async def test_fetch_in_batches(dovecot: Dovecot, address: str, config: MailboxConfig) -> None:
    for n in range(3):
        dovecot.deliver(address, mail(n))
    batch, state = await fetch_new(config, {}, initial="all", limit=2)
    assert [uid for uid, _ in batch] == [1, 2]
    rest, state = await fetch_new(config, state, limit=2)
    assert [uid for uid, _ in rest] == [3]


async def test_fetched_fixtures_parse_like_the_files(
    dovecot: Dovecot, address: str, config: MailboxConfig
) -> None:
    files = sorted(FIXTURES.glob("*.eml"))
    for path in files:
        dovecot.deliver(address, path.read_bytes())
    messages, _ = await fetch_new(config, {}, initial="all", limit=100)
    assert len(messages) == len(files)
    for path, (_, raw) in zip(files, messages, strict=True):
        assert parse_email(raw) == parse_email(path.read_bytes()), path.name


async def test_fetch_with_a_wrong_password_names_imap(config: MailboxConfig) -> None:
    wrong = MailboxConfig(**{**config.__dict__, "password": "nope"})
    with pytest.raises(MailServerError) as raised:
        await fetch_new(wrong, {})
    assert raised.value.server == "IMAP" and raised.value.auth


# -- waiting for mail -------------------------------------------------------------------------


async def test_idle_wakes_up_on_delivery(
    dovecot: Dovecot, address: str, config: MailboxConfig
) -> None:
    watcher = ImapWatcher(config)
    try:
        waiting = asyncio.create_task(watcher.wait_for_mail(10))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        dovecot.deliver(address, mail(1))
        assert await asyncio.wait_for(waiting, 8) is True
        assert time.monotonic() - started < 5
    finally:
        await watcher.close()


async def test_idle_reports_mail_that_arrived_between_waits(
    dovecot: Dovecot, address: str, config: MailboxConfig
) -> None:
    watcher = ImapWatcher(config)
    try:
        assert await watcher.wait_for_mail(0.2) is False
        dovecot.deliver(address, mail(1))
        assert await asyncio.wait_for(watcher.wait_for_mail(10), 8) is True
        assert await watcher.wait_for_mail(0.2) is False  # and only once
    finally:
        await watcher.close()


async def test_idle_wait_times_out_quietly(config: MailboxConfig) -> None:
    started = time.monotonic()
    assert await idle_wait(config, 0.3) is False
    assert time.monotonic() - started < 3


async def test_without_idle_the_watcher_just_sleeps(
    config: MailboxConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aioimaplib.IMAP4, "has_capability", lambda self, name: name != "IDLE")
    started = time.monotonic()
    assert await idle_wait(config, 0.2) is False
    assert 0.2 <= time.monotonic() - started < 3


# -- sending ----------------------------------------------------------------------------------


def outgoing(config: MailboxConfig, to: str = "anna.smirnova@yandex.ru") -> object:
    return build_message(
        config.sender_name,
        config.address,
        to,
        "Re: Заказ конфет",
        "Анна, добрый день! Доставим в пятницу.",
        in_reply_to="1736848964.654321@mail.yandex.ru",
        references=["1736838901.123456@mail.yandex.ru"],
    )


async def test_send_with_auth_lands_with_threading_headers(
    smtp: SmtpServer, config: MailboxConfig
) -> None:
    message = outgoing(config)
    message_id = await send(config, message)  # type: ignore[arg-type]
    assert message_id.endswith("@example.com") and "<" not in message_id

    (received,) = smtp.received
    assert received.authenticated_as == config.address
    assert received.mail_from == config.address
    assert received.rcpt_tos == ("anna.smirnova@yandex.ru",)
    assert received.message["Message-ID"] == f"<{message_id}>"
    assert received.message["In-Reply-To"] == "<1736848964.654321@mail.yandex.ru>"
    assert received.message["References"] == (
        "<1736838901.123456@mail.yandex.ru> <1736848964.654321@mail.yandex.ru>"
    )
    parsed = parse_email(received.raw)
    assert parsed.profile_name == "Магазин «Сладости»"
    assert parsed.text == "Анна, добрый день! Доставим в пятницу."
    assert parsed.meta["subject"] == "Re: Заказ конфет"


async def test_send_adds_a_missing_message_id(smtp: SmtpServer, config: MailboxConfig) -> None:
    message = outgoing(config)
    del message["Message-ID"]  # type: ignore[attr-defined]
    message_id = await send(config, message)  # type: ignore[arg-type]
    assert smtp.received[0].message["Message-ID"] == f"<{message_id}>"


async def test_send_with_a_wrong_password_is_permanent(
    smtp: SmtpServer, config: MailboxConfig
) -> None:
    wrong = MailboxConfig(**{**config.__dict__, "password": "nope"})
    with pytest.raises(SendError) as raised:
        await send(wrong, outgoing(config))  # type: ignore[arg-type]
    assert raised.value.permanent and "535" in str(raised.value)
    assert smtp.received == []


async def test_refused_recipient_is_permanent(smtp: SmtpServer, config: MailboxConfig) -> None:
    with pytest.raises(SendError) as raised:
        await send(config, outgoing(config, to="gone@example.org"))  # type: ignore[arg-type]
    assert raised.value.permanent and "550" in str(raised.value)


async def test_unreachable_server_is_transient(config: MailboxConfig) -> None:
    down = MailboxConfig(**{**config.__dict__, "smtp_port": closed_port()})
    with pytest.raises(SendError) as raised:
        await send(down, outgoing(config))  # type: ignore[arg-type]
    assert not raised.value.permanent


# -- checking ---------------------------------------------------------------------------------


async def test_check_passes_with_good_settings(config: MailboxConfig) -> None:
    await check(config)


async def test_check_names_imap_when_its_login_fails(config: MailboxConfig) -> None:
    wrong = MailboxConfig(**{**config.__dict__, "password": "nope"})
    with pytest.raises(MailServerError) as raised:
        await check(wrong)
    error = raised.value
    assert (error.server, error.auth) == ("IMAP", True)
    assert "IMAP" in str(error) and "password" in error.fields


async def test_check_names_imap_when_it_is_unreachable(config: MailboxConfig) -> None:
    down = MailboxConfig(**{**config.__dict__, "imap_port": closed_port()})
    with pytest.raises(MailServerError) as raised:
        await check(down)
    assert (raised.value.server, raised.value.auth) == ("IMAP", False)
    assert "imap_host" in raised.value.fields


async def test_check_names_smtp_when_its_login_fails(config: MailboxConfig) -> None:
    wrong_smtp = MailboxConfig(**{**config.__dict__, "smtp_port": closed_port()})
    with pytest.raises(MailServerError) as raised:
        await check(wrong_smtp)
    assert (raised.value.server, raised.value.auth) == ("SMTP", False)
    assert "SMTP" in str(raised.value)


async def test_check_names_smtp_when_it_refuses_the_password(
    dovecot: Dovecot, config: MailboxConfig
) -> None:
    # IMAP accepts the password, SMTP knows another one.
    with SmtpServer(user=config.address, password="other") as other:
        mixed = MailboxConfig(**{**config.__dict__, "smtp_port": other.port})
        with pytest.raises(MailServerError) as raised:
            await check(mixed)
    assert (raised.value.server, raised.value.auth) == ("SMTP", True)

"""`crmhub channel add/list/check`, `crmhub outbox dead/retry` and `crmhub inbox unparsed`,
each a real subprocess on a SQLite data dir, talking to the fake Telegram Bot API."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from crm.db import tortoise_config
from crm.models import Channel, Message, MessageStatus, RawEvent, RawEventStatus
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.tls import TestCertificate

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI() as fake:
        yield fake


async def crmhub(
    data: Path, *args: str, public_url: str = "", locale: str = "ru"
) -> tuple[int, str]:
    env = {
        **os.environ,
        "CRMHUB_DATA_DIR": str(data),
        "CRMHUB_DATABASE_URL": "",
        "CRMHUB_PUBLIC_URL": public_url,
        "CRMHUB_DEFAULT_LOCALE": locale,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crmhub.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


def sqlite_url(data: Path) -> str:
    return f"sqlite://{data / 'crmhub.sqlite3'}"


async def test_channel_add_checks_the_token_and_sets_the_webhook(
    tmp_path: Path, telegram: TelegramAPI
) -> None:
    data = tmp_path / "data"
    code, out = await crmhub(
        data,
        "channel", "add", "telegram", "--token", TOKEN, "--name", "Магазин",
        "--api-base", telegram.base_url,
        public_url="https://crm.example.ru",
    )  # fmt: skip
    assert code == 0, out
    assert "Канал #1 подключён: Telegram-бот «Магазин»" in out
    assert "Аккаунт: @crmhub_test_bot (CRM Hub)" in out
    assert " INFO " not in out  # no ORM start-up and shut-down lines
    assert "https://crm.example.ru/webhooks/telegram/1" in out
    hook = telegram.calls_to("setWebhook")[0].params
    assert hook["url"] == "https://crm.example.ru/webhooks/telegram/1"
    secret = hook["secret_token"]
    code, out = await crmhub(data, "channel", "list")
    assert code == 0 and "Магазин" in out and "вебхук" in out and "Токен: ••••••" in out
    assert "webhook" not in out and "token" not in out
    assert secret not in out and TOKEN not in out  # secrets are masked
    code, out = await crmhub(data, "channel", "check", "1")
    assert (code, out.strip().splitlines()[-1]) == (0, "работает: @crmhub_test_bot (CRM Hub)")


async def test_a_refused_token_stores_nothing(tmp_path: Path, telegram: TelegramAPI) -> None:
    data = tmp_path / "data"
    telegram.tokens = {"1:other"}
    code, out = await crmhub(
        data, "channel", "add", "telegram", "--token", TOKEN, "--api-base", telegram.base_url
    )
    assert code == 2 and "Telegram" in out
    code, out = await crmhub(data, "channel", "list")
    assert "Каналов нет" in out
    code, out = await crmhub(data, "channel", "list", locale="en")
    assert "No channels; add one with `crmhub channel add`" in out


async def test_dead_letters_and_unparsed_events_from_the_command_line(
    tmp_path: Path, telegram: TelegramAPI
) -> None:
    data = tmp_path / "data"
    code, out = await crmhub(
        data, "channel", "add", "telegram", "--token", TOKEN, "--no-check",
        "--api-base", telegram.base_url,
    )  # fmt: skip
    assert code == 0, out
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(sqlite_url(data)))
        channel = await Channel.get()
        await RawEvent.create(channel=channel, body="{broken", status=RawEventStatus.UNPARSED)
        from datetime import UTC, datetime

        from crm import conversations
        from inbox import hub
        from inbox.channels.base import InboundMessage
        from tests.crm import factories

        await factories.scenario(require_next_step=False)
        await hub.ingest(channel, InboundMessage("5:1", "5", "hi", datetime.now(UTC), "Ян"))
        admin = await factories.admin()
        conversation = (await Message.get()).conversation_id  # type: ignore[attr-defined]
        reply = await conversations.queue_reply(conversation, actor=admin, text="ответ")
        await Message.filter(id=reply.id).update(
            status=MessageStatus.DEAD, attempts=8, last_error="blocked by the user"
        )
        await ctx.close_connections()
    code, out = await crmhub(data, "inbox", "unparsed")
    assert code == 0 and "{broken" in out
    code, out = await crmhub(data, "outbox", "dead")
    assert f"#{reply.id}" in out and "blocked by the user" in out
    code, out = await crmhub(data, "outbox", "retry", str(reply.id))
    assert code == 0 and f"Сообщение #{reply.id} снова в очереди" in out
    code, out = await crmhub(data, "outbox", "retry", str(reply.id))
    assert code == 2  # queued already: nothing to replay
    code, out = await crmhub(data, "outbox", "dead")
    assert "Недоставленных сообщений нет" in out


async def test_webhook_mode_without_a_public_url_is_refused_saying_what_to_set(
    tmp_path: Path, telegram: TelegramAPI
) -> None:
    data = tmp_path / "data"
    code, out = await crmhub(
        data,
        "channel", "add", "vk", "--token", "vk1.a.token", "--group-id", "229000001",
        "--secret", "s", "--confirmation", "c", "--mode", "webhook", "--no-check",
    )  # fmt: skip
    assert code == 2, out
    assert "CRMHUB_PUBLIC_URL" in out and "mode" in out
    code, out = await crmhub(
        data, "channel", "add", "telegram", "--token", TOKEN, "--mode", "webhook",
        "--api-base", telegram.base_url,
    )  # fmt: skip
    assert code == 2 and "CRMHUB_PUBLIC_URL" in out
    assert not telegram.calls_to("getMe")  # refused before asking anybody
    code, out = await crmhub(data, "channel", "list")
    assert "Каналов нет" in out
    code, out = await crmhub(
        data,
        "channel", "add", "vk", "--token", "vk1.a.token", "--group-id", "229000001",
        "--secret", "s", "--confirmation", "c", "--mode", "webhook", "--no-check",
        public_url="https://crm.example.ru",
    )  # fmt: skip
    assert code == 0, out
    assert "https://crm.example.ru/webhooks/vk/1" in out  # the Callback API address


async def test_email_security_choices_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    address = f"shop-{uuid.uuid4().hex[:8]}@example.com"
    certificate = TestCertificate.create(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca_file))
    code, out = await crmhub(
        data,
        "channel", "add", "email", "--address", "sales@corp.example", "--password", "p",
        "--imap-security", "none", "--no-check",
    )  # fmt: skip
    assert code == 2 and "imap_security" in out and "открытом виде" in out, out
    code, out = await crmhub(
        data, "channel", "add", "email", "--address", "a@corp.example", "--password", "p",
        "--smtp-security", "ssl3",
    )  # fmt: skip
    assert code == 2 and "invalid choice" in out
    with Dovecot(tls=certificate) as dovecot:
        dovecot.add_user(address, "secret")
        smtp = SmtpServer(user=address, password="secret", tls=certificate.server_context())
        with smtp:
            code, out = await crmhub(
                data,
                "channel", "add", "email", "--address", address, "--password", "secret",
                "--imap-host", "127.0.0.1", "--imap-port", str(dovecot.port),
                "--imap-security", "starttls",
                "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp.port),
                "--smtp-security", "starttls",
            )  # fmt: skip
    assert code == 0, out
    assert f"Аккаунт: {address}" in out
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(sqlite_url(data)))
        channel = await Channel.get()
        await ctx.close_connections()
    assert channel.settings["imap_security"] == channel.settings["smtp_security"] == "starttls"


async def test_migrate_speaks_the_installation_language_and_exits(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out = await crmhub(data, "migrate")  # a hang fails in crmhub()'s 60 s
    assert code == 0, out
    assert "Применена миграция models.0001" in out
    assert out.strip().splitlines()[-1] == "База данных в актуальном состоянии"
    assert " INFO " not in out
    code, out = await crmhub(data, "migrate", locale="en")
    assert (code, out.strip()) == (0, "The database is up to date")

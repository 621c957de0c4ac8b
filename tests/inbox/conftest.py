"""Mail servers for the email tests: one real Dovecot (IMAP) for the session, a fresh
mailbox and an aiosmtpd SMTP server per test. For the inbox's end-to-end tests: the
webhook routes over HTTP, and Telegram, VK and Viber channels, each with its platform fake."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from crm import channels, clock
from crm.models import Channel, Message, MessageStatus, User
from inbox.service import Inbox
from tests.crm import factories
from tests.fakes.dovecot import Dovecot, start_dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI
from tests.fakes.viber_api import ViberAPI
from tests.fakes.vk_api import VkAPI

EMAIL_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
PASSWORD = "s3cret pass"
REFUSED = "gone@example.org"  # the SMTP server refuses this recipient
VIBER_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"
VK_SECRET = "s3cr3t_Callback_K3y"
VK_GROUP = 229000001


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = start_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def address(dovecot: Dovecot) -> str:
    """A fresh mailbox for each test."""
    mailbox = f"shop-{uuid.uuid4().hex[:8]}@example.com"
    dovecot.add_user(mailbox, PASSWORD)
    return mailbox


@pytest.fixture
def smtp(address: str) -> Iterator[SmtpServer]:
    with SmtpServer(user=address, password=PASSWORD, refuse={REFUSED}) as server:
        yield server


async def interrupt(message_id: int) -> None:
    """Pretend the worker died after the platform took the message, before recording it:
    the row is left SENDING with its lease over."""
    await Message.filter(id=message_id).update(
        status=MessageStatus.SENDING,
        source_id=None,
        claimed_until=clock.now() - timedelta(seconds=1),
    )


# --- VK and Viber --------------------------------------------------------------------------


@pytest.fixture
async def admin(db: object) -> User:
    await factories.scenario(require_next_step=False)
    return await factories.admin()


@pytest.fixture
async def vk_fake() -> AsyncIterator[VkAPI]:
    async with VkAPI() as fake:
        yield fake


@pytest.fixture
async def vk(admin: User, vk_fake: VkAPI) -> Channel:
    return await channels.create_channel(
        kind="vk",
        name="Сообщество",
        credentials={
            "token": "vk1.a.community-token",
            "secret": VK_SECRET,
            "confirmation": "a1b2c3d4",
        },
        settings={"group_id": VK_GROUP},
        api_base=vk_fake.base_url,
        actor=admin,
    )


@pytest.fixture
async def viber_fake() -> AsyncIterator[ViberAPI]:
    async with ViberAPI(require_webhook=False) as fake:
        yield fake


@pytest.fixture
async def viber(admin: User, viber_fake: ViberAPI) -> Channel:
    return await channels.create_channel(
        kind="viber",
        name="Viber",
        credentials={"token": VIBER_TOKEN},
        settings={"sender_name": "Магазин"},
        api_base=viber_fake.base_url,
        actor=admin,
    )


# --- the webhook routes, and a Telegram channel ------------------------------------------

TG_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture
async def inbox(db: object) -> AsyncIterator[Inbox]:
    hub = Inbox(channel_ttl=0.0)  # channel changes seen at once
    yield hub
    await hub.adapters.close()


@pytest.fixture
async def http(inbox: Inbox) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    inbox.mount(app)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramAPI]:
    async with TelegramAPI() as fake:
        yield fake


@pytest.fixture
async def tg(admin: User, telegram: TelegramAPI) -> Channel:
    return await channels.create_channel(
        kind="telegram",
        name="Магазин",
        credentials={"token": TG_TOKEN},
        api_base=telegram.base_url,
        actor=admin,
    )


def tg_headers(channel: Channel) -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": channel.credentials["webhook_secret"]}


async def post(http: Any, path: str, body: bytes | dict[str, Any], **headers: str) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return await http.post(path, data=data, headers={"Content-Type": "application/json", **headers})


# --- a mailbox (IMAP on Dovecot, SMTP on aiosmtpd) ------------------------------------


@pytest.fixture
async def mailbox(admin: User, dovecot: Dovecot, smtp: SmtpServer, address: str) -> Channel:
    return await channels.create_channel(
        kind="email",
        name="Отдел продаж",
        credentials={"password": PASSWORD},
        settings={
            "address": address,
            "sender_name": "Отдел продаж",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_ssl": False,
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_ssl": False,
            "timeout": 5,
        },
        actor=admin,
    )

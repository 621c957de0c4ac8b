"""Email from the panel through the real path (the panel's pages over HTTP, the outbox, the
SMTP server on loopback, Dovecot for the customer's answers): writing first to a client's
address from a chosen mailbox with a subject and a file; the answer threads into the conversation; a
reply answers the thread chosen in the reply box (an older one too), not always the newest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from admin_web.views.desk import WAKE_OUTBOX
from crm import channels
from crm.config import Settings
from crm.models import Channel, Conversation, Message, User
from inbox.service import Inbox
from tests.admin_web.conftest import Browser
from tests.admin_web.conftest import admin as admin  # the onboarded install's admin
from tests.admin_web.conftest import settings as settings
from tests.admin_web.desk.test_outreach import write_with_files
from tests.crm import factories
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.inbox.conftest import PASSWORD

CUSTOMER = "p.ivanov@mail.ru"


@pytest.fixture
async def as_admin(
    db: TortoiseContext, settings: Settings, inbox: Inbox, admin: User
) -> AsyncIterator[Browser]:
    application = create_app(settings)
    application[WAKE_OUTBOX] = inbox.wake_outbox
    async with TestClient(TestServer(application)) as client:
        browser = Browser(client)
        status, _ = await browser.login(admin.email)
        assert status == 200
        yield browser


@pytest.fixture
async def mailbox(admin: User, dovecot: Dovecot, smtp: SmtpServer, address: str) -> Channel:
    await factories.scenario(require_next_step=False)
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


def mail(address: str, message_id: str, subject: str, body: str, **headers: str) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return (
        f"From: Пётр <{CUSTOMER}>\r\nTo: {address}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\n{extra}Date: Wed, 15 Jan 2025 11:00:00 +0300\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode() + body.encode()


async def arrive(inbox: Inbox, dovecot: Dovecot, channel: Channel, raw: bytes) -> None:
    dovecot.deliver(channel.settings["address"], raw)
    assert await inbox.poll_once(await Channel.get(id=channel.id)) == 1
    await inbox.process()


async def reply(browser: Browser, conversation_id: int, text: str, **fields: Any) -> str:
    await browser.get(f"/inbox/{conversation_id}")
    form = aiohttp.FormData()
    for key, value in {"_csrf": browser.token, "text": text, **fields}.items():
        form.add_field(key, str(value))
    response = await browser.client.post(f"/inbox/{conversation_id}/reply", data=form)
    assert response.status == 200
    return await response.text()


async def test_write_first_by_email_then_answer_each_thread_where_it_was(
    as_admin: Browser,
    admin: User,
    inbox: Inbox,
    mailbox: Channel,
    dovecot: Dovecot,
    smtp: SmtpServer,
    address: str,
) -> None:
    assert await inbox.poll_once(mailbox) == 0  # the mailbox's cursor starts at its end
    client = await factories.client(admin, name="ООО Ромашка", emails=[CUSTOMER])
    status, page = await as_admin.get(f"/clients/{client.id}/write")
    assert status == 200 and f'value="{mailbox.id}"' in page and CUSTOMER in page
    _, page = await as_admin.post(
        f"/clients/{client.id}/write",
        {"channel_id": str(mailbox.id), "address": CUSTOMER, "text": "Добрый день!"},
    )
    assert "Required" in page and not await Message.exists()  # a subject is needed
    _, page = await write_with_files(
        as_admin,
        client.id,
        {
            "channel_id": str(mailbox.id),
            "address": CUSTOMER,
            "subject": "Предложение по поставке",
            "text": "Добрый день! Высылаем предложение.",
        },
        [("offer.pdf", b"%PDF-1.4 offer", "application/pdf")],
    )
    assert "The message is queued" in page
    conversation = await Conversation.get(client_id=client.id)
    assert (await inbox.send()).sent == 1
    first = smtp.received[0]
    assert first.rcpt_tos == (CUSTOMER,)
    assert first.message["Subject"] == "Предложение по поставке"  # no "Re:": a new thread
    assert first.message["In-Reply-To"] is None
    files = [(a.get_filename(), a.get_content()) for a in first.message.iter_attachments()]
    assert files == [("offer.pdf", b"%PDF-1.4 offer")]  # the file written first goes along
    ours = (await Message.get(direction="out")).source_id
    assert ours and first.message["Message-ID"] == f"<{ours}>"

    # his answer threads into the conversation; later a question of another subject
    await arrive(
        inbox,
        dovecot,
        mailbox,
        mail(
            address,
            "answer-1@mail.ru",
            "Re: Предложение по поставке",
            "Спасибо, смотрим.",
            In_Reply_To=f"<{ours}>",
            References=f"<{ours}>",
        ),
    )
    await arrive(
        inbox, dovecot, mailbox, mail(address, "other-1@mail.ru", "Доставка", "Сколько везти?")
    )
    assert await Conversation.all().count() == 1
    older = await Message.get(source_id="answer-1@mail.ru")
    newer = await Message.get(source_id="other-1@mail.ru")
    assert older.conversation_id == newer.conversation_id == conversation.id  # type: ignore[attr-defined]

    _, page = await as_admin.get(f"/inbox/{conversation.id}")
    assert 'name="answers"' in page
    assert f'<option value="{newer.id}" selected>Доставка' in page
    assert f'<option value="{older.id}">Re: Предложение по поставке' in page

    # answering the older thread: its subject and headers, not the newest one's
    await reply(as_admin, conversation.id, "Цены действуют до конца месяца.", answers=older.id)
    # the default: the newest
    await reply(as_admin, conversation.id, "Три дня.")
    assert (await inbox.send()).sent == 2
    to_older, to_newer = smtp.received[1].message, smtp.received[2].message
    assert to_older["Subject"] == "Re: Предложение по поставке"
    assert to_older["In-Reply-To"] == "<answer-1@mail.ru>"
    assert to_older["References"].split() == [f"<{ours}>", "<answer-1@mail.ru>"]
    assert to_newer["Subject"] == "Re: Доставка"
    assert to_newer["In-Reply-To"] == "<other-1@mail.ru>"

    # an address not the client's, a message not of this conversation: refused
    _, page = await as_admin.post(
        f"/clients/{client.id}/write",
        {"channel_id": str(mailbox.id), "address": "x@y.ru", "subject": "s", "text": "t"},
    )
    assert "Choose one of the client&#39;s addresses" in page or "client's addresses" in page
    page = await reply(as_admin, conversation.id, "Чужое", answers=999999)
    assert "Unknown choice" in page
    assert await Message.filter(direction="out").count() == 3

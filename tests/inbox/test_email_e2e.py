"""A mailbox through the whole inbox: IMAP (real Dovecot) -> raw events -> hub; a manager's
reply through the outbox -> SMTP (aiosmtpd) with the thread's headers; the customer's
answer to it lands in the same conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crm import channels, conversations
from crm.models import Channel, Conversation, Message, MessageStatus, User
from inbox.service import Inbox
from tests.crm import factories
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.inbox.conftest import EMAIL_FIXTURES as FIXTURES
from tests.inbox.conftest import PASSWORD


@pytest.fixture
async def mailbox(
    db: object, dovecot: Dovecot, smtp: SmtpServer, address: str
) -> tuple[Channel, User]:
    await factories.scenario(require_next_step=False)
    admin = await factories.admin()
    channel = await channels.create_channel(
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
    return channel, admin


@pytest.fixture
async def inbox(db: object) -> AsyncIterator[Inbox]:
    hub = Inbox()
    yield hub
    await hub.adapters.close()


async def test_mail_in_reply_out_and_the_answer_joins_the_thread(
    mailbox: tuple[Channel, User], inbox: Inbox, dovecot: Dovecot, smtp: SmtpServer, address: str
) -> None:
    channel, admin = mailbox
    assert await inbox.poll_once(channel) == 0  # first run: only where the mailbox ends
    dovecot.deliver(address, (FIXTURES / "cp1251.eml").read_bytes())
    channel = await Channel.get(id=channel.id)
    assert await inbox.poll_once(channel) == 1
    channel = await Channel.get(id=channel.id)
    assert await inbox.poll_once(channel) == 0
    await inbox.process()
    first = await Message.get()
    assert "Прошу выставить счёт на оплату по договору № 45/2024." in first.text
    assert first.meta["subject"] == "Счёт по договору"
    conversation = await Conversation.get()
    reply = await conversations.queue_reply(
        conversation.id, actor=admin, text="Счёт отправим сегодня."
    )
    assert (await inbox.send()).sent == 1
    sent = smtp.received[0].message
    assert sent["In-Reply-To"] == "<4A2B9C10.5060708@mail.ru>"
    assert sent["Subject"] == "Re: Счёт по договору"
    assert "Отдел продаж" in sent["From"] and address in sent["From"]
    assert smtp.received[0].rcpt_tos == ("p.ivanov@mail.ru",)
    ours = (await Message.get(id=reply.id)).source_id
    assert ours and sent["Message-ID"] == f"<{ours}>"
    # His colleague answers from another address, quoting our reply: same conversation.
    answer = (
        "From: =?utf-8?B?0JzQsNGA0LjRjw==?= <m.orlova@romashka.ru>\r\n"
        f"To: {address}\r\nSubject: Re: =?utf-8?B?0KHRh9GR0YI=?=\r\n"
        "Message-ID: <answer-1@romashka.ru>\r\n"
        f"In-Reply-To: <{ours}>\r\nReferences: <4A2B9C10.5060708@mail.ru> <{ours}>\r\n"
        "Date: Wed, 15 Jan 2025 11:00:00 +0300\r\nContent-Type: text/plain; charset=koi8-r\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + "Спасибо, получили.\r\n".encode("koi8-r")
    dovecot.deliver(address, answer)
    channel = await Channel.get(id=channel.id)
    assert await inbox.poll_once(channel) == 1
    await inbox.process()
    assert await Conversation.all().count() == 1
    last = await Message.filter(direction="in").order_by("-id").first()
    assert last is not None and last.text.strip() == "Спасибо, получили."
    assert last.conversation_id == conversation.id  # type: ignore[attr-defined]
    assert (await Message.get(id=reply.id)).status == MessageStatus.SENT

"""The outbox sends each channel on its own: a pass claims about BATCH_SECONDS of each
channel's pace, so a slow mailbox neither holds back a messenger nor hoards a long batch,
and a conversation's messages still go in their order."""

from __future__ import annotations

from crm import clock
from crm.models import Channel, Direction, Message, MessageStatus, User
from inbox import outbox
from inbox.service import Inbox
from tests.crm import factories
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import TelegramAPI
from tests.inbox.test_mailings import wrote


async def queue(channel: Channel, conversation_id: int, text: str) -> Message:
    return await Message.create(
        conversation_id=conversation_id,
        channel_id=channel.id,
        direction=Direction.OUT,
        text=text,
        status=MessageStatus.QUEUED,
        next_attempt_at=clock.now(),
    )


async def test_each_channel_is_claimed_by_its_own_pace_and_a_conversation_keeps_its_order(
    admin: User,
    tg: Channel,
    telegram: TelegramAPI,
    mailbox: Channel,
    smtp: SmtpServer,
    inbox: Inbox,
) -> None:
    mailbox.settings = {**mailbox.settings, "send_rate": 1}  # one letter a second
    await mailbox.save()
    chats = []
    for n in range(6):
        client = await factories.client(admin, f"Клиент {n}", emails=[f"c{n}@example.net"])
        identity = await wrote(tg, client, str(5000 + n))
        chats.append(await identity.conversations.all().first())  # type: ignore[attr-defined]
        mail = await wrote(mailbox, client, f"c{n}@example.net")
        await queue(mailbox, (await mail.conversations.all().first()).id, f"Письмо {n}")  # type: ignore[attr-defined]
    first = await queue(tg, chats[0].id, "Первое")
    second = await queue(tg, chats[0].id, "Второе")
    for n, chat in enumerate(chats[1:], 1):
        await queue(tg, chat.id, f"Сообщение {n}")

    report = await outbox.send_due(inbox.adapters, inbox.pacer)

    # every Telegram message went in this one pass; the mailbox took 3 s of its pace
    assert await Message.filter(channel_id=tg.id, status=MessageStatus.SENT).count() == 7
    assert len(smtp.received) == int(outbox.BATCH_SECONDS) == 3
    assert report.sent == 7 + 3
    in_chat = [m["text"] for m in telegram.delivered if m["chat"]["id"] == 5000]
    assert in_chat == ["Первое", "Второе"]
    assert (await Message.get(id=first.id)).sent_at <= (await Message.get(id=second.id)).sent_at
    # the rest of the letters are still queued, unclaimed, for the next pass
    waiting = await Message.filter(channel_id=mailbox.id, status=MessageStatus.QUEUED)
    assert len(waiting) == 3 and all(m.claimed_until is None for m in waiting)

"""A manager's answer to a customer: text, a photo or a document, queued through the outbox
to the conversation's own channel, with a card showing its delivery status.

Files the manager sends are downloaded with the manager bot (its file ids mean nothing to
another bot or platform) and queued as bytes (`content_b64`)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.filters import Filter
from aiogram.types import Message

from bot.cards import reply_status_card
from bot.views import Viewer, remember
from crm import conversations, manager_chat
from crm.models import CardKind, Client, User
from crm.models import Message as CrmMessage

MAX_FILE = 20 * 1024 * 1024  # the Bot API lets a bot download files up to 20 MB


class RepliedCard(Filter):
    """A message replying to one of the bot's cards that belongs to a conversation."""

    async def __call__(
        self, message: Message, actor: User | None = None, **_: Any
    ) -> bool | dict[str, Any]:
        reply = message.reply_to_message
        if actor is None or reply is None or reply.from_user is None or not reply.from_user.is_bot:
            return False
        card = await manager_chat.card_at(actor.id, message.chat.id, reply.message_id)
        if card is None or card.conversation_id is None:  # type: ignore[attr-defined]
            return False
        # the customer's message the card shows: an email reply answers its thread
        shown = card.message_id if card.kind in (CardKind.MESSAGE, CardKind.INQUIRY) else None  # type: ignore[attr-defined]
        return {"conversation_id": card.conversation_id, "answers": shown}  # type: ignore[attr-defined]


async def attachments_of(bot: Bot, message: Message) -> list[dict[str, Any]] | None:
    """The photo or document of the message as outbox attachments; None when the message
    carries something we cannot forward (voice, sticker, a file over 20 MB)."""
    if message.photo:
        photo = message.photo[-1]
        file_id, name, mime, size = photo.file_id, "photo.jpg", "image/jpeg", photo.file_size
        kind = "photo"
    elif message.document:
        doc = message.document
        file_id, name, mime, size = (
            doc.file_id,
            doc.file_name or "document",
            doc.mime_type or "application/octet-stream",
            doc.file_size,
        )
        kind = "document"
    elif message.text is not None:
        return []
    else:
        return None
    if size is not None and size > MAX_FILE:
        return None
    data = await bot.download(file_id)
    if data is None:
        return None
    content = data.read()
    return [
        {
            "kind": kind,
            "file_id": "",
            "name": name,
            "mime": mime,
            "size": len(content),
            "content_b64": base64.b64encode(content).decode(),
        }
    ]


async def send_reply(
    message: Message,
    viewer: Viewer,
    conversation_id: int,
    wake_outbox: Callable[[], None],
    answers: int | None = None,
) -> bool:
    """Queue the manager's message for the customer; False when there is nothing we can send.
    `answers`: the customer's message replied to (an email answers that thread)."""
    attachments = await attachments_of(viewer.bot, message)
    text = message.text or message.caption or ""
    if attachments is None or not (text.strip() or attachments):
        await viewer.say(viewer._("Only text, photos and documents can be sent to a customer."))
        return False
    await queue_and_show(
        viewer,
        conversation_id,
        text,
        wake_outbox,
        attachments=attachments,
        reply_to=message.message_id,
        answers=answers,
    )
    return True


async def queue_and_show(
    viewer: Viewer,
    conversation_id: int,
    text: str,
    wake_outbox: Callable[[], None],
    *,
    attachments: list[dict[str, Any]] | None = None,
    reply_to: int | None = None,
    answers: int | None = None,
) -> None:
    """Queue a reply and show its delivery card (a typed reply, a picked quick reply)."""
    queued = await conversations.queue_reply(
        conversation_id, actor=viewer.user, text=text, attachments=attachments, answers=answers
    )
    client = await Client.get(conversations__id=conversation_id)
    status = reply_status_card(viewer, queued, client.name)
    sent = await viewer.send(status, reply_to=reply_to)
    await remember(
        viewer.user.id, sent, CardKind.REPLY, conversation_id=conversation_id, message_id=queued.id
    )
    wake_outbox()
    fresh = await CrmMessage.get(id=queued.id)
    if fresh.status != queued.status:  # the outbox was quicker than our card
        await viewer.edit(sent[-1].message_id, reply_status_card(viewer, fresh, client.name))

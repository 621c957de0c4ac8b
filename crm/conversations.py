"""Conversations and messages as the CRM sees them: list, read, and queue a reply."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from crm import clock, email_threads
from crm.access import access_conversation, sees_all_clients
from crm.channels import channel_filter
from crm.errors import Conflict, ValidationFailed
from crm.i18n import N_
from crm.models import (
    Channel,
    ChannelKind,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    ReplyKey,
    User,
)

MAX_TEXT = 20_000
DUPLICATE_WINDOW = 10.0  # seconds: the same reply again is the first one


async def conversations_of(actor: User, *, limit: int = 50, offset: int = 0) -> list[Conversation]:
    """Conversations the actor may see, most recent first."""
    query = Conversation.all()
    if not await sees_all_clients(actor):
        channels = Channel.filter(await channel_filter(actor)).values_list("id", flat=True)
        query = query.filter(
            Q(client__responsible_id=actor.id)
            | Q(client__responsible_id__isnull=True, channel_id__in=await channels)
        )
    return (
        await query.order_by("-last_message_at", "-id")
        .offset(offset)
        .limit(limit)
        .prefetch_related("client", "channel")
    )


async def messages_of(
    actor: User, conversation_id: int, *, limit: int = 50, before_id: int | None = None
) -> list[Message]:
    """The newest messages of a visible conversation, oldest first."""
    await access_conversation(actor, conversation_id)
    query = Message.filter(conversation_id=conversation_id)
    if before_id:
        query = query.filter(id__lt=before_id)
    rows = await query.order_by("-id").limit(limit)
    return list(reversed(rows))


async def queue_reply(
    conversation_id: int,
    *,
    actor: User | None,
    text: str,
    attachments: list[dict[str, Any]] | None = None,
    meta: dict[str, Any] | None = None,
    answers: int | None = None,
) -> Message:
    """An outgoing message, queued: the outbox sends it through the conversation's channel.

    `actor=None` is the system (stage robots). `answers`: the customer's message this one
    answers (an email takes that thread's subject and headers; other channels ignore it).
    A manager's second identical reply within DUPLICATE_WINDOW is the first one (see
    `queue_reply_once`)."""
    message, _ = await queue_reply_once(
        conversation_id,
        actor=actor,
        text=text,
        attachments=attachments,
        meta=meta,
        answers=answers,
    )
    return message


def _files(attachments: list[dict[str, Any]] | None) -> list[tuple[str, str, int]]:
    """What makes two replies' files the same, wherever they were typed (the bot's have a
    Telegram file id, the panel's their bytes)."""
    return [
        (str(a.get("kind", "")), str(a.get("name", "")), int(a.get("size") or 0))
        for a in attachments or []
    ]


async def queue_reply_once(
    conversation_id: int,
    *,
    actor: User | None,
    text: str,
    attachments: list[dict[str, Any]] | None = None,
    meta: dict[str, Any] | None = None,
    once_key: str | None = None,
    answers: int | None = None,
) -> tuple[Message, bool]:
    """`queue_reply`, and whether it queued a new message (False: it had been queued).

    Sending twice is refused in two ways, both decided while holding the conversation's
    row, so two replies to one conversation are queued one after the other:
    - `once_key`, the panel's reply form's one-shot key: the form sent again (a double
      click, a resubmitted page) finds the message its first sending queued;
    - the same manager's same text and files to the same conversation within
      DUPLICATE_WINDOW seconds, typed in the panel and in the bot at once (or sent twice
      from either), is one message: the second answer finds the first."""
    conversation = (
        await access_conversation(actor, conversation_id)
        if actor is not None
        else await Conversation.get(id=conversation_id)
    )
    body = text.strip()
    if not body and not attachments:
        raise ValidationFailed.field("text", N_("Required"))
    if len(body) > MAX_TEXT:
        raise ValidationFailed.field("text", N_("Too long"))
    identity = await conversation.identity
    if not identity.subscribed:
        raise Conflict(N_("The customer has unsubscribed from this channel"), code="unsubscribed")
    if answers is not None:
        channel = await Channel.get(id=conversation.channel_id)  # type: ignore[attr-defined]
        if channel.kind == ChannelKind.EMAIL:
            meta = {**await email_threads.answering(conversation.id, answers), **(meta or {})}
    now = clock.now()
    async with in_transaction() as conn:
        # the row lock: a second reply to this conversation waits here until ours is in
        answered = {"waiting_since": None} if actor is not None else {}  # a person answered
        await (
            Conversation.filter(id=conversation.id)
            .using_db(conn)
            .update(last_message_at=now, **answered)
        )
        if actor is not None:
            earlier = await _sent_already(conn, conversation.id, actor, body, attachments, once_key)
            if earlier is not None:
                return earlier, False
        message = await Message.create(
            conversation=conversation,
            channel_id=conversation.channel_id,  # type: ignore[attr-defined]
            direction=Direction.OUT,
            text=body,
            attachments=attachments or [],
            meta=meta or {},
            status=MessageStatus.QUEUED,
            author=actor,
            next_attempt_at=now,
            using_db=conn,
        )
        if actor is not None and once_key:
            await ReplyKey.create(user_id=actor.id, key=once_key, message=message, using_db=conn)
    return message, True


async def _sent_already(
    conn: BaseDBAsyncClient,
    conversation_id: int,
    actor: User,
    body: str,
    attachments: list[dict[str, Any]] | None,
    once_key: str | None,
) -> Message | None:
    if once_key:
        key = await ReplyKey.filter(user_id=actor.id, key=once_key).using_db(conn).first()
        if key is not None:
            message_id: int = key.message_id  # type: ignore[attr-defined]
            return await Message.filter(id=message_id).using_db(conn).first()
    recent = (
        await Message.filter(
            conversation_id=conversation_id,
            direction=Direction.OUT,
            author_id=actor.id,
            text=body,
            created_at__gte=clock.now() - timedelta(seconds=DUPLICATE_WINDOW),
        )
        .using_db(conn)
        .order_by("-id")
        .first()
    )
    if recent is not None and _files(recent.attachments) == _files(attachments):
        return recent
    return None

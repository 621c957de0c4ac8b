"""Conversations and messages as the CRM sees them: list, read, and queue a reply."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q

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
    User,
)

MAX_TEXT = 20_000


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
    answers (an email takes that thread's subject and headers; other channels ignore it)."""
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
    )
    await Conversation.filter(id=conversation.id).update(last_message_at=now)
    return message

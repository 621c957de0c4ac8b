"""Email threads of a conversation: one conversation holds every thread of one address on
one mailbox, so a reply names the message it answers (`answers`) and takes that message's
subject, Message-ID (In-Reply-To) and References. Without one the outbox answers the newest
message, as before. The threads offered are the customer's messages, newest first, one per
subject."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import ChannelKind, Conversation, Direction, Message

_PREFIX = re.compile(r"^\s*((re|aw|sv|fwd?|ответ)\s*(\[\d+\]|\(\d+\))?\s*:\s*)+", re.IGNORECASE)
OFFERED = 20
SCANNED = 200


@dataclass(frozen=True)
class Thread:
    message_id: int  # the customer's newest message of this thread
    subject: str
    at: datetime


def bare_subject(subject: str) -> str:
    return _PREFIX.sub("", subject).strip()


async def threads_of(conversation: Conversation) -> list[Thread]:
    """The email threads one may answer in this conversation, newest first (none for the
    other channels, or while the customer has not written)."""
    channel = await conversation.channel
    if channel.kind != ChannelKind.EMAIL:
        return []
    rows = (
        await Message.filter(
            conversation_id=conversation.id, direction=Direction.IN, source_id__isnull=False
        )
        .order_by("-id")
        .limit(SCANNED)
    )
    seen: set[str] = set()
    found = []
    for row in rows:
        subject = str(row.meta.get("subject") or "")
        key = bare_subject(subject).casefold()
        if key in seen:
            continue
        seen.add(key)
        found.append(Thread(row.id, subject, row.created_at))
        if len(found) >= OFFERED:
            break
    return found


def headers_of(message: Message) -> dict[str, Any]:
    """The threading meta of a reply to `message` (an inbound email)."""
    if not message.source_id:
        return {}
    references = [str(r) for r in message.meta.get("references", []) if r]
    return {
        "subject": str(message.meta.get("subject", "")),
        "in_reply_to": message.source_id,
        "references": [*references, message.source_id][-20:],
    }


async def answering(conversation_id: int, message_id: int) -> dict[str, Any]:
    """The meta of a reply answering one message of this conversation; refused when the
    message is not the customer's in this conversation."""
    message = await Message.filter(
        id=message_id, conversation_id=conversation_id, direction=Direction.IN
    ).first()
    if message is None:
        raise ValidationFailed.field("answers", N_("Unknown choice"))
    return headers_of(message)

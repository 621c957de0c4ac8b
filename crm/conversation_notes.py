"""Internal notes in a conversation: what a manager tells colleagues beside the thread
("called him, he pays on Friday"). Stored apart from the messages, so the outbox, which
sends only messages, can never send one; whoever may see the conversation reads them."""

from __future__ import annotations

from datetime import datetime

from crm.access import access_conversation
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import ConversationNote, User

MAX_NOTE = 5_000
SHOWN = 200  # the newest notes read with a thread


async def add_note(actor: User, conversation_id: int, text: str) -> ConversationNote:
    conversation = await access_conversation(actor, conversation_id)
    body = text.strip()
    if not body:
        raise ValidationFailed.field("note", N_("Write the note"))
    if len(body) > MAX_NOTE:
        raise ValidationFailed.field("note", N_("Too long"))
    return await ConversationNote.create(conversation=conversation, author=actor, text=body)


async def notes_of(
    actor: User, conversation_id: int, *, since: datetime | None = None
) -> list[ConversationNote]:
    """The conversation's notes (from `since` on), oldest first, with their authors."""
    await access_conversation(actor, conversation_id)
    query = ConversationNote.filter(conversation_id=conversation_id)
    if since is not None:
        query = query.filter(created_at__gte=since)
    rows = await query.order_by("-id").limit(SHOWN).prefetch_related("author")
    return list(reversed(rows))

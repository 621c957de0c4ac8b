"""Internal notes in a conversation: what a manager tells colleagues beside the thread
("called him, he pays on Friday"). Stored apart from the messages, so the outbox, which
sends only messages, can never send one; whoever may see the conversation reads them.
A note is corrected or deleted by its author (or an admin), never by other colleagues."""

from __future__ import annotations

from datetime import datetime

from crm.access import access_conversation
from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.models import ConversationNote, User

MAX_NOTE = 5_000
SHOWN = 200  # the newest notes read with a thread


def _body(text: str) -> str:
    body = text.strip()
    if not body:
        raise ValidationFailed.field("note", N_("Write the note"))
    if len(body) > MAX_NOTE:
        raise ValidationFailed.field("note", N_("Too long"))
    return body


async def add_note(actor: User, conversation_id: int, text: str) -> ConversationNote:
    conversation = await access_conversation(actor, conversation_id)
    body = _body(text)
    return await ConversationNote.create(conversation=conversation, author=actor, text=body)


async def own_note(actor: User, note_id: int) -> ConversationNote:
    """The note, if `actor` sees its conversation (else NotFound) and wrote it or is an
    admin (else PermissionDenied)."""
    note = await ConversationNote.filter(id=note_id).first()
    if note is None:
        raise NotFound()
    await access_conversation(actor, note.conversation_id)  # type: ignore[attr-defined]
    if note.author_id != actor.id and not actor.is_admin:  # type: ignore[attr-defined]
        raise PermissionDenied()
    return note


async def change_note(actor: User, note_id: int, text: str) -> ConversationNote:
    note = await own_note(actor, note_id)
    note.text = _body(text)
    await note.save(update_fields=["text", "updated_at"])
    return note


async def delete_note(actor: User, note_id: int) -> int:
    """The note deleted; its conversation's id."""
    note = await own_note(actor, note_id)
    await note.delete()
    return note.conversation_id  # type: ignore[attr-defined, no-any-return]


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

"""The desk: a conversation page where a manager reads the thread and answers the customer.

A reply typed here is queued exactly as the bot queues one (`crm.conversations.queue_reply`,
files as bytes in `content_b64`), so the outbox sends it once, through the conversation's
own channel. What the channel cannot take (the customer unsubscribed or blocked the bot, a
file over the platform's limit, a Viber file without `CRMHUB_PUBLIC_URL`) is refused before
anything is queued, the reason shown by the reply box. Every read and write names the
conversation through `crm.access.access_conversation`: another manager's conversation is a
404, for reading, replying and retrying alike. A failed or dead-lettered reply can be put
back in the queue (Retry) where the outbox allows it: never once the platform took it."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_user
from admin_web.keys import SETTINGS
from admin_web.render import flash, gettext_for, redirect, render
from admin_web.views.desk_inquiries import inquiry_context
from admin_web.views.desk_live import changed
from crm.access import access_conversation
from crm.conversation_notes import add_note, change_note, delete_note, notes_of
from crm.conversations import messages_of, queue_reply_once
from crm.desk_list import mark_read
from crm.email_threads import threads_of
from crm.errors import NotFound, ValidationFailed
from crm.i18n import N_
from crm.models import Channel, ConversationNote, Direction, Message, MessageStatus
from inbox import outbox
from inbox.reply_limits import check_reply, photo_or_document

routes = web.RouteTableDef()

WAKE_OUTBOX: web.AppKey[Callable[[], None]] = web.AppKey("wake_outbox")
THREAD = 200  # the newest messages shown on the page
RETRYABLE = frozenset({MessageStatus.FAILED, MessageStatus.DEAD})
STATUS_LABELS = {
    MessageStatus.QUEUED: N_("queued"),
    MessageStatus.SENDING: N_("sending"),
    MessageStatus.SENT: N_("sent"),
    MessageStatus.DELIVERED: N_("delivered"),
    MessageStatus.SEEN: N_("seen"),
    MessageStatus.FAILED: N_("not sent yet, will retry"),
    MessageStatus.DEAD: N_("failed"),
}


def wake_outbox(app: web.Application) -> None:
    """Tell this process's outbox a reply is waiting (a web-only process has none: the
    worker finds the reply on its next pass)."""
    wake = app.get(WAKE_OUTBOX)
    if wake is not None:
        wake()


@routes.get(r"/inbox/{id:\d+}")
async def conversation_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    conversation = await access_conversation(user, forms.match_int(request.match_info["id"]))
    await conversation.fetch_related("client", "channel", "identity")
    messages = await messages_of(user, conversation.id, limit=THREAD)
    since = messages[0].created_at if len(messages) >= THREAD else None
    notes = await notes_of(user, conversation.id, since=since)
    if messages:  # what the page shows is read (one arriving meanwhile stays unread)
        await mark_read(user, conversation.id, messages[-1].id)
    context: dict[str, Any] = {
        "conversation": conversation,
        "messages": messages,
        "thread": thread(messages, notes),
        "reply_key": secrets.token_urlsafe(18),
        "status_labels": STATUS_LABELS,
        "retryable": RETRYABLE,
        "subscribed": conversation.identity.subscribed,
        "threads": await threads_of(conversation),  # an email's threads, for _reply_tools
        **await inquiry_context(user, conversation),
    }
    return await render(request, "conversation.html", context)


async def uploaded_files(form: forms.Form, channel: Channel) -> list[dict[str, Any]]:
    """The chosen files as outbox attachments, the way the bot queues them."""
    found = []
    for upload in form.getall("files", []):
        if not isinstance(upload, web.FileField) or not upload.filename:
            continue  # the empty part a browser sends when no file was chosen
        content = upload.file.read()
        if not content:
            continue
        mime = upload.content_type or "application/octet-stream"
        found.append(
            {
                "kind": photo_or_document(mime, len(content), channel.kind.value),
                "file_id": "",
                "name": upload.filename[-200:],
                "mime": mime,
                "size": len(content),
                "content_b64": base64.b64encode(content).decode(),
            }
        )
    return found


@routes.post(r"/inbox/{id:\d+}/reply")
async def reply(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    conversation = await access_conversation(user, forms.match_int(request.match_info["id"]))
    channel = await Channel.get(id=conversation.channel_id)  # type: ignore[attr-defined]
    form = await request.post()
    text = form.get("text")
    attachments = await uploaded_files(form, channel)
    check_reply(channel.kind.value, attachments, public_url=request.app[SETTINGS].public_url)
    if not (isinstance(text, str) and text.strip()) and not attachments:
        raise ValidationFailed.field("text", N_("Write a message or choose a file"))
    key = form.get("reply_key")
    _, queued = await queue_reply_once(
        conversation.id,
        actor=user,
        text=text if isinstance(text, str) else "",
        attachments=attachments,
        answers=forms.integer(form, "answers", required=False),  # the email thread answered
        once_key=key[:64] if isinstance(key, str) and key else None,
    )
    if not queued:  # the form sent twice, or the same words just sent from the bot
        await flash(request, gettext_for(request, N_("This reply has been sent already")))
        return redirect(f"/inbox/{conversation.id}#reply")
    wake_outbox(request.app)
    await changed(request.app, "message", conversation.id)
    await flash(request, gettext_for(request, N_("The reply is queued")))
    return redirect(f"/inbox/{conversation.id}#reply")


@routes.post(r"/inbox/{id:\d+}/notes")
async def note(request: web.Request) -> web.StreamResponse:
    """An internal note: colleagues see it in the thread, the customer never does."""
    user = require_user(request)
    conversation_id = forms.match_int(request.match_info["id"])
    form = await request.post()
    text = form.get("note")
    await add_note(user, conversation_id, text if isinstance(text, str) else "")
    await changed(request.app, "note", conversation_id)
    await flash(request, gettext_for(request, N_("The note is saved")))
    return redirect(f"/inbox/{conversation_id}#note")


@routes.post(r"/inbox/{id:\d+}/notes/{note:\d+}/edit")
async def note_edit(request: web.Request) -> web.StreamResponse:
    """A note corrected by its author (or an admin)."""
    user = require_user(request)
    note_id = forms.match_int(request.match_info["note"])
    form = await request.post()
    text = form.get("text")
    note = await change_note(user, note_id, text if isinstance(text, str) else "")
    conversation_id: int = note.conversation_id  # type: ignore[attr-defined]
    await changed(request.app, "note", conversation_id)
    await flash(request, gettext_for(request, N_("The note is saved")))
    return redirect(f"/inbox/{conversation_id}#note-{note_id}")


@routes.post(r"/inbox/{id:\d+}/notes/{note:\d+}/delete")
async def note_delete(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    conversation_id = await delete_note(user, forms.match_int(request.match_info["note"]))
    await changed(request.app, "note", conversation_id)
    await flash(request, gettext_for(request, N_("The note is deleted")))
    return redirect(f"/inbox/{conversation_id}#messages")


def thread(
    messages: list[Message], notes: list[ConversationNote]
) -> list[tuple[str, Message | ConversationNote]]:
    """Messages and notes in the order they were written (a note after the messages it
    follows)."""
    both: list[tuple[Any, int, str, Message | ConversationNote]] = [
        (m.created_at, 0, "message", m) for m in messages
    ]
    both += [(n.created_at, 1, "note", n) for n in notes]
    both.sort(key=lambda item: (item[0], item[1], item[3].id))
    return [(kind, item) for _, _, kind, item in both]


@routes.post(r"/inbox/{id:\d+}/messages/{message:\d+}/retry")
async def retry(request: web.Request) -> web.StreamResponse:
    """Queue a failed reply again (attempts reset), as `crmhub outbox retry` does."""
    user = require_user(request)
    conversation = await access_conversation(user, forms.match_int(request.match_info["id"]))
    message = await Message.filter(
        id=forms.match_int(request.match_info["message"]),
        conversation_id=conversation.id,
        direction=Direction.OUT,
    ).first()
    if message is None:
        raise NotFound()
    await outbox.retry(message.id)
    wake_outbox(request.app)
    await changed(request.app, "status", conversation.id)
    await flash(request, gettext_for(request, N_("The reply is queued again")))
    return redirect(f"/inbox/{conversation.id}")

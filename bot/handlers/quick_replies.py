"""Quick replies in the chat: the 📋 Quick replies button of the reply prompt lists the
manager's quick replies (the shared ones and their own); pressing one sends it, its
placeholders filled for the conversation's client, exactly as a typed reply would go
(queued through the outbox, a delivery card shown) and ends the reply mode."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from bot.callbacks import Action, Pressed
from bot.replies import queue_and_show
from bot.texts import excerpt, h
from bot.views import Card, Viewer
from crm import quick_replies
from crm.access import access_conversation
from crm.models import Client

LIST = "qr"  # the reply prompt: list the quick replies of a conversation
PICK = "qs"  # one of them: send it
SHOWN = 30  # buttons in the list


async def list_quick_replies(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    conversation = await access_conversation(viewer.user, action.int(0))
    rows = (await quick_replies.quick_replies_for(viewer.user))[:SHOWN]
    if not rows:
        await query.answer(
            viewer.gettext("No quick replies yet: add them in the panel."), show_alert=True
        )
        return
    client = await Client.get(id=conversation.client_id)  # type: ignore[attr-defined]
    values = await quick_replies.values_for(client, viewer.user)
    card = Card().add(
        "📋 <b>" + viewer._("Quick replies for {client}", client=client.name) + "</b>"
    )
    kb = viewer.keyboard()
    for n, row in enumerate(rows, 1):
        card.add(f"{n}. <b>{h(row.title)}</b>: {h(excerpt(quick_replies.fill(row, values), 120))}")
        kb.add(f"{n}. {excerpt(row.title, 40)}", PICK, conversation.id, row.id)
    card.markup = kb.markup()
    await viewer.send(card)
    await query.answer()


async def pick_quick_reply(
    query: CallbackQuery,
    action: Action,
    viewer: Viewer,
    state: FSMContext,
    wake_outbox: Callable[[], None],
) -> None:
    conversation = await access_conversation(viewer.user, action.int(0))
    row = await quick_replies.get_quick_reply(action.int(1), viewer.user)
    client = await Client.get(id=conversation.client_id)  # type: ignore[attr-defined]
    text = quick_replies.fill(row, await quick_replies.values_for(client, viewer.user))
    await state.clear()  # the reply mode ends with the reply, as a typed one's does
    await queue_and_show(viewer, conversation.id, text, wake_outbox)
    await query.answer(viewer.gettext("Sending"))


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(list_quick_replies, Pressed(LIST))
    r.callback_query.register(pick_quick_reply, Pressed(PICK))
    return r

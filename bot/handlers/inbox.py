"""The inbox in the chat: `/inbox`, inquiry cards (Accept / Reject with a reason / Open),
and answering customers by replying to a card or after the Reply button."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import cards
from bot.callbacks import Action, Pressed
from bot.dialogs.states import Typing
from bot.handlers.typing_more import expect_more
from bot.notify import Notifier
from bot.replies import RepliedCard, send_reply
from bot.texts import excerpt, h
from bot.views import Card, Viewer, remember
from crm import conversations, inquiries, manager_chat
from crm.access import access_conversation
from crm.conversation_notes import notes_of
from crm.errors import Conflict, NotFound
from crm.models import CardKind, Client, Conversation, Inquiry, ReasonKind
from crm.models import Message as CrmMessage
from crm.scenarios import reasons
from inbox import events, outbox


async def list_inquiries(message: Message, viewer: Viewer) -> None:
    waiting = await inquiries.open_inquiries(viewer.user, limit=30)
    if not waiting:
        await viewer.say(viewer._("No inquiries are waiting."))
        return
    card = Card().add("📥 <b>" + viewer._("Waiting inquiries: {n}", n=len(waiting)) + "</b>")
    kb = viewer.keyboard()
    for n, inquiry in enumerate(waiting, 1):
        since = viewer.when(inquiry.first_message_at)
        card.add(f"{n}. {h(inquiry.client.name)} · {h(inquiry.channel.name)} · {since}")
        kb.add(f"{n}. {excerpt(inquiry.client.name, 40)}", "ic", inquiry.id)
    card.markup = kb.markup()
    await viewer.send(card)


async def show_inquiry(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    # an /inbox entry decided since says who took it (the client may be theirs by now)
    await inquiries.already_decided(viewer.user, action.int(0))
    inquiry = await inquiries.access_inquiry(viewer.user, action.int(0))
    loaded = await cards.load_inquiry(inquiry.id)
    first = await cards.first_message(loaded)
    sent = await viewer.send(cards.inquiry_card(viewer, loaded, first))
    await remember(
        viewer.user.id,
        sent,
        CardKind.INQUIRY,
        conversation_id=loaded.conversation_id,  # type: ignore[attr-defined]
        inquiry_id=loaded.id,
        message_id=first.id if first else None,
    )
    await query.answer()


async def accept(query: CallbackQuery, action: Action, viewer: Viewer, notifier: Notifier) -> None:
    inquiry_id = action.int(0)
    try:
        await inquiries.accept_inquiry(inquiry_id, actor=viewer.user)
    except Conflict as exc:
        await query.answer(exc.render(viewer.locale), show_alert=True)
    else:
        await query.answer(viewer.gettext("The inquiry is yours: a deal is open."))
    await decided(notifier, inquiry_id, query, viewer)


async def ask_reason(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    inquiry = await inquiries.access_inquiry(viewer.user, action.int(0))
    listed = await reasons(ReasonKind.REJECTION)
    if query.message is not None:
        await viewer.edit_keyboard(
            query.message.message_id, cards.reasons_keyboard(viewer, inquiry.id, listed).markup
        )
    await query.answer(viewer.gettext("Why reject it?"))


async def reject(query: CallbackQuery, action: Action, viewer: Viewer, notifier: Notifier) -> None:
    inquiry_id, reason_id = action.int(0), action.int(1)
    try:
        # 0: "without a reason", offered while the list is empty
        await inquiries.reject_inquiry(inquiry_id, reason_id or None, actor=viewer.user)
    except Conflict as exc:
        await query.answer(exc.render(viewer.locale), show_alert=True)
    else:
        await query.answer(viewer.gettext("Rejected"))
    await decided(notifier, inquiry_id, query, viewer)


async def back_to_inquiry(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    inquiry = await inquiries.access_inquiry(viewer.user, action.int(0))
    if query.message is not None:
        card = await manager_chat.card_at(viewer.user.id, viewer.chat_id, query.message.message_id)
        shown = card.message_id if card else None  # type: ignore[attr-defined]
        message = await CrmMessage.filter(id=shown).first() if shown else None
        view = cards.inquiry_card(viewer, await cards.load_inquiry(inquiry.id), message)
        await viewer.edit(query.message.message_id, view)
    await query.answer()


async def decided(
    notifier: Notifier, inquiry_id: int, query: CallbackQuery, viewer: Viewer
) -> None:
    """Every manager's card of the inquiry re-rendered, and the open desks told."""
    await notifier.inquiry_decided(inquiry_id, clicked=_clicked(query, viewer))
    inquiry = await Inquiry.filter(id=inquiry_id).first()
    if inquiry is not None:
        conversation_id = inquiry.conversation_id  # type: ignore[attr-defined]
        await events.publish(events.InquiryDecided(inquiry_id, conversation_id, True))


def _clicked(query: CallbackQuery, viewer: Viewer) -> tuple[int, int] | None:
    return (viewer.chat_id, query.message.message_id) if query.message else None


async def open_conversation(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    inquiry = await inquiries.access_inquiry(viewer.user, action.int(0))
    loaded = await cards.load_inquiry(inquiry.id)
    await show_conversation(query, viewer, loaded.conversation_id, loaded)  # type: ignore[attr-defined]


async def show_conversation(
    query: CallbackQuery, viewer: Viewer, conversation_id: int, inquiry: Inquiry | None = None
) -> None:
    conversation = await access_conversation(viewer.user, conversation_id)
    await conversation.fetch_related("client", "channel")
    messages = await conversations.messages_of(viewer.user, conversation.id, limit=10)
    since = messages[0].created_at if messages else None
    notes = await notes_of(viewer.user, conversation.id, since=since)
    view = cards.conversation_card(
        viewer,
        conversation.client,
        conversation.channel,
        messages,
        inquiry,
        conversation.id,
        notes[-5:],  # the newest few: the card stays short
    )
    sent = await viewer.send(view)
    await remember(viewer.user.id, sent, CardKind.MESSAGE, conversation_id=conversation.id)
    await query.answer()


async def start_reply(
    query: CallbackQuery, action: Action, viewer: Viewer, state: FSMContext
) -> None:
    conversation = await access_conversation(viewer.user, action.int(0))
    client = await Client.get(id=conversation.client_id)  # type: ignore[attr-defined]
    await state.set_state(Typing.reply)
    await state.update_data(conversation_id=conversation.id)
    await query.answer()
    kb = viewer.keyboard().add("📋 " + viewer.gettext("Quick replies"), "qr", conversation.id)
    prompt = viewer._(
        "Write the reply to {client}: text, a photo or a document. /cancel to stop.",
        client=client.name,
    )
    await viewer.send(Card([prompt], markup=kb.markup()))


async def reply_in_state(
    message: Message, viewer: Viewer, state: FSMContext, wake_outbox: Callable[[], None]
) -> None:
    conversation_id = (await state.get_data()).get("conversation_id")
    if not isinstance(conversation_id, int):
        await state.clear()
        return
    if await send_reply(message, viewer, conversation_id, wake_outbox):
        await expect_more(state, message, Typing.reply_more, "conversation_id", conversation_id)


async def reply_to_card(
    message: Message,
    viewer: Viewer,
    conversation_id: int,
    wake_outbox: Callable[[], None],
    state: FSMContext,
    raw_state: str | None = None,
    answers: int | None = None,
) -> None:
    sent = await send_reply(message, viewer, conversation_id, wake_outbox, answers)
    if sent and raw_state in (None, Typing.reply_more.state, Typing.note_more.state):
        # a long reply's next part comes without the quoted card (a dialog's state stays)
        await expect_more(state, message, Typing.reply_more, "conversation_id", conversation_id)


async def retry(
    query: CallbackQuery, action: Action, viewer: Viewer, wake_outbox: Callable[[], None]
) -> None:
    message = await CrmMessage.filter(id=action.int(0)).first()
    if message is None:
        raise NotFound()
    conversation: Conversation = await access_conversation(viewer.user, message.conversation_id)  # type: ignore[attr-defined]
    await conversation.fetch_related("client")
    fresh = await outbox.retry(message.id)
    wake_outbox()
    if query.message is not None:
        view = cards.reply_status_card(viewer, fresh, conversation.client.name)
        await viewer.edit(query.message.message_id, view)
    await query.answer(viewer.gettext("Sending again"))


async def show_all(query: CallbackQuery, action: Action, viewer: Viewer) -> None:
    """The rest of a long customer message a card cut, as messages of its conversation
    (a reply to them reaches the customer)."""
    message = await CrmMessage.filter(id=action.int(0)).first()
    if message is None:
        raise NotFound()
    await access_conversation(viewer.user, message.conversation_id)  # type: ignore[attr-defined]
    sent = await viewer.send(cards.rest_of(viewer, message))
    await remember(
        viewer.user.id,
        sent,
        CardKind.MESSAGE,
        conversation_id=message.conversation_id,  # type: ignore[attr-defined]
    )
    await query.answer()


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(list_inquiries, Command("inbox", ignore_case=True))
    r.message.register(reply_to_card, RepliedCard())  # async: no thread hop per message
    r.message.register(reply_in_state, StateFilter(Typing.reply), ~F.text.startswith("/"))
    r.callback_query.register(show_inquiry, Pressed("ic"))
    r.callback_query.register(accept, Pressed("ia"))
    r.callback_query.register(ask_reason, Pressed("ij"))
    r.callback_query.register(reject, Pressed("ir"))
    r.callback_query.register(back_to_inquiry, Pressed("ib"))
    r.callback_query.register(open_conversation, Pressed("io"))
    r.callback_query.register(start_reply, Pressed("rp"))
    r.callback_query.register(retry, Pressed("rt"))
    r.callback_query.register(show_all, Pressed(cards.SHOW_ALL))
    return r

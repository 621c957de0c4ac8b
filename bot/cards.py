"""The cards the bot shows: an inquiry, a customer message, a reply's delivery status, a
conversation, a deal. Each is rendered for one viewer (locale, timezone, signed buttons);
customer text is always a `Quote`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.callbacks import Keyboard
from bot.texts import CARD_QUOTE, Quote, excerpt, h, money, shorten
from bot.views import Card, Viewer, remember
from crm import clock, manager_chat
from crm.access import interest_owner
from crm.clients import client_local_time
from crm.errors import NotFound
from crm.i18n import N_, format_datetime, format_time
from crm.models import (
    CardKind,
    Channel,
    Client,
    ConversationNote,
    Direction,
    Inquiry,
    InquiryStatus,
    Interest,
    InterestStatus,
    Message,
    MessageStatus,
    Reason,
    Stage,
    User,
)
from crm.scenarios import stages_of
from inbox.lead_sources import CHAT_OPENED, CHAT_OPENED_FROM

ATTACHMENT_LABELS = {
    "photo": N_("photo"),
    "document": N_("document"),
    "voice": N_("voice message"),
    "video": N_("video"),
    "audio": N_("audio"),
    "sticker": N_("sticker"),
    "location": N_("location"),
    "contact": N_("contact"),
}


def client_time(v: Viewer, client: Client, now: datetime | None = None) -> str:
    """The client's local time now, as HTML."""
    local = client_local_time(client, now)
    return h(format_time(local, v.locale, str(local.tzinfo)))


def client_clock(v: Viewer, client: Client) -> str:
    """The client's local time with its label ("🕑 client time 14:05"), as HTML."""
    local = client_local_time(client)
    return "🕑 " + v._("client time {time}", time=format_time(local, v.locale, str(local.tzinfo)))


def attachments_line(v: Viewer, attachments: Iterable[Mapping[str, Any]]) -> str:
    names = []
    for item in attachments:
        label = ATTACHMENT_LABELS.get(str(item.get("kind")))
        name = str(item.get("name") or "")
        shown = v._(label) if label else h(item.get("kind", "?"))
        names.append(f"{shown} «{h(name)}»" if name else shown)
    return "📎 " + ", ".join(names) if names else ""


SHOW_ALL = "ma"  # callback: the rest of a long customer message (its id)


def message_parts(v: Viewer, message: Message, *, room: int | None = None) -> list[str | Quote]:
    """The message's lines; with `room`, its text cut there with "…" (`show_all` adds the
    button that sends the rest)."""
    parts: list[str | Quote] = []
    meta = message.meta if isinstance(message.meta, dict) else {}
    if meta.get("service") == "chat_opened":  # a `/start`: not the customer's words
        source = meta.get("lead_source")
        parts.append(
            "🚪 <i>"
            + (v._(CHAT_OPENED_FROM, source=source) if source else v._(CHAT_OPENED))
            + "</i>"
        )
    elif message.text:
        parts.append(Quote(shorten(message.text, room)[0] if room else message.text))
    if line := attachments_line(v, message.attachments):
        parts.append(line)
    return parts


def show_all(v: Viewer, kb: Keyboard, message: Message | None) -> None:
    """A "Show all" button when the card cut the message's text."""
    if message is not None and message.text and shorten(message.text, CARD_QUOTE)[1]:
        kb.add("📖 " + v.gettext("Show all"), SHOW_ALL, message.id)


def rest_of(v: Viewer, message: Message) -> Card:
    """What a card cut off a long customer message, in as many parts as it takes."""
    rest = shorten(message.text or "", CARD_QUOTE)[1]
    return Card(["📖 " + v._("The rest of the message:"), Quote("…" + rest)])


# -- inquiries -----------------------------------------------------------------------------


async def load_inquiry(inquiry_id: int) -> Inquiry:
    return await Inquiry.get(id=inquiry_id).prefetch_related(
        "client", "client__responsible", "channel", "decided_by", "rejection_reason"
    )


async def first_message(inquiry: Inquiry) -> Message | None:
    return (
        await Message.filter(
            conversation_id=inquiry.conversation_id,  # type: ignore[attr-defined]
            direction=Direction.IN,
            sent_at__gte=inquiry.first_message_at,
        )
        .order_by("id")
        .first()
    )


def inquiry_card(
    v: Viewer, inquiry: Inquiry, message: Message | None, *, follow_up: bool = False
) -> Card:
    """An inquiry for one manager: open ones with Accept / Reject / Open, decided ones
    saying who decided."""
    client: Client = inquiry.client
    channel: Channel = inquiry.channel
    title = v._("Another message, still waiting") if follow_up else v._("New inquiry")
    card = Card().add(
        f"📥 <b>{title}</b> · {h(channel.name)}",
        f"👤 <b>{h(client.name)}</b> · " + client_clock(v, client),
    )
    if message is not None:
        card.add(*message_parts(v, message, room=CARD_QUOTE))
    card.notice = v.gettext(
        "A new inquiry from {client} ({channel}) could not be shown here: open /inbox.",
        client=client.name,
        channel=channel.name,
    )
    kb = v.keyboard()
    decider: User | None = inquiry.decided_by
    holder = getattr(client, "responsible", None)  # the client's manager (a hand-over)
    if inquiry.status == InquiryStatus.OPEN and isinstance(holder, User):
        if holder.id == v.user.id:
            card.add("➡️ " + v._("This inquiry is yours to take"))
        elif not v.user.sees_everything:  # theirs to take: nothing here to press
            card.add("➡️ " + v._("{name} has this inquiry now", name=holder.full_name))
            show_all(v, kb, message)
            card.markup = kb.markup()
            return card
    if inquiry.status == InquiryStatus.OPEN:
        kb.row(
            kb.button("✅ " + v.gettext("Accept"), "ia", inquiry.id),
            kb.button("🚫 " + v.gettext("Reject"), "ij", inquiry.id),
        )
        kb.add("📂 " + v.gettext("Open"), "io", inquiry.id)
        show_all(v, kb, message)
    elif inquiry.status == InquiryStatus.ACCEPTED:
        if decider is not None and decider.id == v.user.id:
            card.add("✅ " + v._("You took this inquiry"))
            show_all(v, kb, message)
            if inquiry.interest_id:  # type: ignore[attr-defined]
                kb.row(
                    kb.button("📂 " + v.gettext("Deal"), "do", inquiry.interest_id),  # type: ignore[attr-defined]
                    kb.button("↩️ " + v.gettext("Reply"), "rp", inquiry.conversation_id),  # type: ignore[attr-defined]
                )
        else:
            name = decider.full_name if decider else "?"
            card.add("✅ " + v._("{name} took this inquiry", name=name))
    else:
        reason: Reason | None = inquiry.rejection_reason
        name = decider.full_name if decider else "?"
        card.add(
            "🚫 "
            + (
                v._("Rejected by {name}: {reason}", name=name, reason=reason.text)
                if reason
                else v._("Rejected by {name}", name=name)
            )
        )
    card.markup = kb.markup()
    return card


def reasons_keyboard(v: Viewer, inquiry_id: int, reasons: list[Reason]) -> Card:
    kb = v.keyboard()
    for reason in reasons:
        kb.add(reason.text, "ir", inquiry_id, reason.id)
    if not reasons:  # none configured: rejecting still works
        kb.add("🚫 " + v.gettext("Reject without a reason"), "ir", inquiry_id, 0)
    kb.add("« " + v.gettext("Back"), "ib", inquiry_id)
    return Card(markup=kb.markup())


# -- messages and replies ------------------------------------------------------------------


def message_card(
    v: Viewer, message: Message, client: Client, channel: Channel, interest: Interest | None
) -> Card:
    """A customer message on an interest, pushed to its responsible manager."""
    card = Card().add(f"💬 <b>{h(client.name)}</b> · {h(channel.name)}")
    if interest is not None:
        card.add(f"📂 {h(interest.title)}")
    card.add(*message_parts(v, message, room=CARD_QUOTE))
    card.notice = v.gettext(
        "A message from {client} could not be shown here: open /deals.", client=client.name
    )
    kb = v.keyboard()
    buttons = [kb.button("↩️ " + v.gettext("Reply"), "rp", message.conversation_id)]  # type: ignore[attr-defined]
    if interest is not None:
        buttons.append(kb.button("📂 " + v.gettext("Deal"), "do", interest.id))
    kb.row(*buttons)
    show_all(v, kb, message)
    card.markup = kb.markup()
    return card


def _error(v: Viewer, message: Message) -> str:
    """A send error in the manager's language where crmhub wrote it (the adapters' own
    messages are catalog ids, e.g. Viber's "needs a public URL"); a platform's text as is."""
    return excerpt(v.gettext(message.last_error), 200)


def reply_status_card(v: Viewer, message: Message, client_name: str) -> Card:
    """Where a manager's reply is: sending, sent, or failed with a Retry button."""
    kb = v.keyboard()
    status = message.status
    if status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        line = "⏳ " + v._("Sending to {client}…", client=client_name)
    elif status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.SEEN):
        line = "✓ " + v._("Sent to {client}", client=client_name)
    elif status == MessageStatus.FAILED:
        line = "⚠️ " + v._("Not sent yet, retrying: {error}", error=_error(v, message))
        kb.add("🔁 " + v.gettext("Retry now"), "rt", message.id)
    else:
        line = "⛔ " + v._("Not delivered: {error}", error=_error(v, message))
        kb.add("🔁 " + v.gettext("Retry"), "rt", message.id)
    return Card([line], kb.markup())


def conversation_card(
    v: Viewer,
    client: Client,
    channel: Channel,
    messages: list[Message],
    inquiry: Inquiry | None,
    conversation_id: int,
    notes: Sequence[ConversationNote] = (),
) -> Card:
    """The last messages of a conversation and the colleagues' internal notes among them,
    with Reply (and Accept / Reject while it is a waiting inquiry)."""
    card = Card().add(
        f"🗂 <b>{h(client.name)}</b> · {h(channel.name)} · 🕑 {client_time(v, client)}"
    )
    both: list[Message | ConversationNote] = [*messages, *notes]
    both.sort(key=lambda item: (item.created_at, isinstance(item, ConversationNote)))
    for item in both:
        if isinstance(item, ConversationNote):
            author: User | None = item.author
            who = f" · {h(author.full_name)}" if author else ""
            noted = format_time(item.created_at, v.locale, v.tz)
            card.add(f"🔒 <i>{v._('Internal note')}{who} · {h(noted)}</i>", Quote(item.text))
            continue
        message = item
        arrow = "←" if message.direction == Direction.IN else "→"
        moment = message.sent_at or message.created_at
        card.add(f"{arrow} <b>{h(format_time(moment, v.locale, v.tz))}</b>")
        card.add(*message_parts(v, message))
    if not messages:
        card.add(v._("No messages yet"))
    kb = v.keyboard()
    if inquiry is not None and inquiry.status == InquiryStatus.OPEN:
        kb.row(
            kb.button("✅ " + v.gettext("Accept"), "ia", inquiry.id),
            kb.button("🚫 " + v.gettext("Reject"), "ij", inquiry.id),
        )
    kb.add("↩️ " + v.gettext("Reply"), "rp", conversation_id)
    card.markup = kb.markup()
    return card


# -- deals ---------------------------------------------------------------------------------

SET_AMOUNT = "dA"  # deal card: type the deal's amount
SET_TITLE = "dN"  # deal card: type the deal's new name
SHOW_INVOICES = "dI"  # deal card: the deal's invoices (bot.handlers.money)


async def deal_card(v: Viewer, interest_id: int, *, back: bool = False) -> tuple[Card, int | None]:
    """The deal card and the id of its conversation (replies to the card go there)."""
    view = await manager_chat.deal_view(interest_id, owner=await interest_owner(v.user))
    if view is None:
        raise NotFound()
    interest, planned, messages = view.interest, view.planned, view.messages
    client: Client = interest.client
    stage: Stage = interest.stage
    stages = await stages_of(interest.scenario_id)  # type: ignore[attr-defined]
    position = next((i for i, s in enumerate(stages) if s.id == stage.id), 0)
    card = Card().add(
        f"📂 <b>{h(interest.title)}</b>",
        f"👤 {h(client.name)} · " + client_clock(v, client),
        "🪜 "
        + v._(
            "Stage: {stage} ({n} of {total})", stage=stage.name, n=position + 1, total=len(stages)
        ),
    )
    if interest.amount is not None:
        card.add("💰 " + money(interest.amount, interest.currency, v.locale))
    if interest.status == InterestStatus.WON:
        card.add("🏆 " + v._("Won"))
    elif interest.status == InterestStatus.LOST:
        card.add(
            "❌ "
            + (v._("Lost: {reason}", reason=view.loss_reason) if view.loss_reason else v._("Lost"))
        )
    elif planned is not None:
        at = planned.planned_at or planned.sort_at
        what = f"{v.kind(planned.kind)} · {format_datetime(at, v.locale, v.tz, 'short')}"
        if planned.subject:
            what += f" — {planned.subject}"
        if at < clock.now():  # from the same read: no query of its own
            card.add("⏰ <b>" + v._("Overdue: {what}", what=what) + "</b>")
        else:
            card.add("📅 " + v._("Next: {what}", what=what))
    else:
        card.add("⚠️ " + v._("No next step planned"))
    if messages:
        card.add("<b>" + v._("Last messages") + "</b>")
        for message in messages:
            arrow = "←" if message.direction == Direction.IN else "→"
            text = excerpt(message.text or "📎", 200)
            moment = message.sent_at or message.created_at
            card.add(f"{arrow} {h(format_time(moment, v.locale, v.tz))} {h(text)}")
    conversation_id = view.conversation_id
    card.markup = _deal_keyboard(
        v, interest, stages, position, conversation_id=conversation_id, back=back
    )
    return card, conversation_id


async def send_deal_card(
    v: Viewer, interest_id: int, *, edit: int | None = None, back: bool = False
) -> None:
    """Show the deal card (as a new message, or in place of message `edit`) and remember
    it, so that a reply to the card reaches the deal's customer."""
    card, conversation_id = await deal_card(v, interest_id, back=back)
    if edit is None:
        sent = await v.send(card)
        await remember(
            v.user.id, sent, CardKind.DEAL, interest_id=interest_id, conversation_id=conversation_id
        )
        return
    await v.edit(edit, card)
    await manager_chat.record_card(
        v.user.id,
        v.chat_id,
        edit,
        CardKind.DEAL,
        interest_id=interest_id,
        conversation_id=conversation_id,
    )


def _deal_keyboard(
    v: Viewer,
    interest: Interest,
    stages: list[Stage],
    position: int,
    *,
    conversation_id: int | None,
    back: bool,
) -> Any:
    kb = v.keyboard()
    if interest.status == InterestStatus.OPEN:
        if position + 1 < len(stages):
            kb.row(
                kb.button("▶️ " + stages[position + 1].name, "dn", interest.id),
                kb.button("🪜 " + v.gettext("Stage…"), "ds", interest.id),
            )
        kb.row(
            kb.button("🏆 " + v.gettext("Won"), "dw", interest.id),
            kb.button("❌ " + v.gettext("Lost"), "dx", interest.id),
        )
    else:
        kb.add("↩️ " + v.gettext("Reopen"), "dr", interest.id)
    kb.row(
        kb.button("📅 " + v.gettext("Plan"), "dp", interest.id),
        kb.button("📝 " + v.gettext("Note"), "dt", interest.id),
        kb.button("📜 " + v.gettext("Feed"), "fd", interest.id, 0, "-", 0, 0),
    )
    kb.row(
        kb.button("💰 " + v.gettext("Amount"), SET_AMOUNT, interest.id),
        kb.button("✏️ " + v.gettext("Rename"), SET_TITLE, interest.id),
        kb.button("🧾 " + v.gettext("Invoices"), SHOW_INVOICES, interest.id),
    )
    row = [kb.button("👤 " + v.gettext("Client"), "co", interest.client_id)]  # type: ignore[attr-defined]
    if conversation_id is not None:
        row.insert(0, kb.button("↩️ " + v.gettext("Reply"), "rp", conversation_id))
    kb.row(*row)
    if back:
        kb.add("« " + v.gettext("My deals"), "dl", 0)
    return kb.markup()

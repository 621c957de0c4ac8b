"""The hub: every inbound event, from any channel, into the one inbox.

`ingest` resolves the sender to a client (channel identity, then phone, then email; an
unknown sender becomes a new individual client marked as a lead, its source the deep link
it came by, see `inbox.lead_sources`), finds or opens the conversation, stores the message
under the unique `(channel, source_id)`, and then either adds it to the feed of the
client's open interest or opens (or joins) an inquiry. A redelivered event finds its
message already stored and changes nothing. A Telegram `/start` is stored as "customer
opened the chat (source: X)" in the company's language, the command kept in `meta`. Every
text of an event is made storable first (`inbox.storable`: NUL dropped, lone surrogates
replaced), so a message no database would take as sent is still stored and seen."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Coalesce
from tortoise.transactions import in_transaction

from crm import normalize
from crm.clients import create_client
from crm.company import get_company
from crm.conversations import queue_reply
from crm.errors import ValidationFailed
from crm.i18n import gettext
from crm.interactions import record_done
from crm.mailings import consent, results
from crm.merge import merge_clients
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Client,
    ClientContact,
    ContactKind,
    ContactPerson,
    Conversation,
    Direction,
    Inquiry,
    InquiryStatus,
    InteractionKind,
    Interest,
    InterestStatus,
    Message,
    MessageStatus,
)
from crm.rows import moment
from inbox import events, lead_sources, survey_intake
from inbox.channels.base import (
    ButtonPress,
    InboundEvent,
    InboundMessage,
    StatusUpdate,
    SubscriptionChange,
)
from inbox.storable import storable_event

log = logging.getLogger(__name__)

SOURCE_ID_MAX = 254
LEAD_SOURCE_MAX = lead_sources.LEAD_SOURCE_MAX

# A later status never goes back to an earlier one (a late "delivered" after "seen").
STATUS_RANK = {
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.SEEN: 3,
}


def source_key(source_id: str) -> str:
    """The platform's message id as stored: ids longer than the column (a hostile email's
    Message-ID) are replaced by their hash, so they still deduplicate and thread."""
    if len(source_id) <= SOURCE_ID_MAX:
        return source_id
    return "sha256:" + hashlib.sha256(source_id.encode()).hexdigest()


def keyed(event: InboundEvent) -> InboundEvent:
    if isinstance(event, InboundMessage):
        return replace(
            event,
            source_id=source_key(event.source_id),
            thread_ids=tuple(source_key(t) for t in event.thread_ids),
        )
    if isinstance(event, StatusUpdate):
        return replace(event, source_id=source_key(event.source_id))
    return event


@dataclass
class Outcome:
    """What one event did; `events` are published once the database has it."""

    message: Message | None = None
    duplicate: bool = False
    events: list[events.Event] = field(default_factory=list)


async def ingest(channel: Channel, event: InboundEvent) -> Outcome:
    event = storable_event(event)  # NUL and lone surrogates: no database stores them
    if isinstance(event, InboundMessage):
        outcome = await ingest_message(channel, event)
    elif isinstance(event, StatusUpdate):
        outcome = await _status(channel, event)
    elif isinstance(event, ButtonPress):
        await survey_intake.press(channel.id, event)
        outcome = Outcome()
    else:
        outcome = await _subscription(channel, event)
    for item in outcome.events:
        await events.publish(item)
    return outcome


# --- identities -------------------------------------------------------------------------


def _contacts(msg: InboundMessage) -> tuple[str | None, str | None]:
    phone = email = None
    if msg.phone:
        try:
            phone = normalize.phone(msg.phone)
        except ValidationFailed:
            log.info("ignoring unparsable phone from %s", msg.external_user_id)
    if msg.email:
        try:
            email = normalize.email(msg.email)
        except ValidationFailed:
            log.info("ignoring unparsable email from %s", msg.external_user_id)
    return phone, email


async def _client_by_contact(kind: ContactKind, value: str | None) -> Client | None:
    if not value:
        return None
    contact = (
        await ClientContact.filter(kind=kind, value=value, client__merged_into_id__isnull=True)
        .order_by("client_id")
        .first()
    )
    return await Client.get(id=contact.client_id) if contact else None  # type: ignore[attr-defined]


def _display_name(channel: Channel, msg: InboundMessage) -> str:
    name = " ".join(msg.profile_name.split())[:300]
    return name or f"{channel.kind.value.capitalize()} {msg.external_user_id}"[:300]


async def _new_lead(
    channel: Channel, msg: InboundMessage, phone: str | None, email: str | None
) -> Client:
    return await create_client(
        actor=None,
        name=_display_name(channel, msg),
        is_lead=True,
        lead_source=lead_sources.clean(msg.lead_source) or channel.name[:LEAD_SOURCE_MAX],
        phones=[phone] if phone else [],
        emails=[email] if email else [],
    )


async def _person_match(phone: str | None, email: str | None) -> tuple[int, str] | None:
    """A key person of some client has this phone or email: probably the same human."""
    for column, value in (("phone", phone), ("email", email)):
        if value:
            person = await ContactPerson.filter(
                **{column: value}, client__merged_into_id__isnull=True
            ).first()
            if person is not None:
                return person.client_id, f"person_{column}"  # type: ignore[attr-defined]
    return None


async def _resolve(channel: Channel, msg: InboundMessage, out: Outcome) -> ChannelIdentity:
    phone, email = _contacts(msg)
    identity = await ChannelIdentity.filter(
        channel_id=channel.id, external_id=msg.external_user_id
    ).first()
    if identity is not None:
        return await _learn(identity, phone, email)
    client = await _client_by_contact(ContactKind.PHONE, phone) or await _client_by_contact(
        ContactKind.EMAIL, email
    )
    suggestion = None
    if client is None:
        client = await _new_lead(channel, msg, phone, email)
        suggestion = await _person_match(phone, email)
    try:
        async with in_transaction():
            identity = await ChannelIdentity.create(
                channel=channel,
                external_id=msg.external_user_id,
                client=client,
                display_name=msg.profile_name[:300],
            )
    except IntegrityError:
        # Another worker resolved the same sender first: use theirs, drop our lead.
        identity = await ChannelIdentity.get(
            channel_id=channel.id, external_id=msg.external_user_id
        )
        if client.is_lead and client.id != identity.client_id:  # type: ignore[attr-defined]
            if not await ChannelIdentity.filter(client_id=client.id).exists():
                await client.delete()
        return identity
    if suggestion is not None:
        out.events.append(events.MergeSuggested(client.id, *suggestion))
    return identity


async def _learn(
    identity: ChannelIdentity, phone: str | None, email: str | None
) -> ChannelIdentity:
    """A known sender told us their own phone or email (a Telegram contact of themselves):
    add it to their client, or, when another client already has it, join the two through
    the merge service (the lead merges into the established client). Returns the identity
    as it now is (a merge moves it to the survivor)."""
    if not phone and not email:
        return identity
    merged_any = False
    client = await Client.get(id=identity.client_id)  # type: ignore[attr-defined]
    for kind, value in ((ContactKind.PHONE, phone), (ContactKind.EMAIL, email)):
        if not value:
            continue
        if await ClientContact.filter(client_id=client.id, kind=kind, value=value).exists():
            continue
        other = await _client_by_contact(kind, value)
        if other is None:
            position = await ClientContact.filter(client_id=client.id, kind=kind).count()
            await ClientContact.create(client=client, kind=kind, value=value, position=position)
            continue
        survivor, merged = (
            (other, client) if client.is_lead or other.id < client.id else (client, other)
        )
        await merge_clients(survivor.id, merged.id, actor=None)
        client, merged_any = survivor, True
    if merged_any:
        await identity.refresh_from_db()
    return identity


# --- messages ---------------------------------------------------------------------------


async def _conversation(
    channel: Channel, identity: ChannelIdentity, msg: InboundMessage
) -> Conversation:
    if msg.thread_ids:
        # Email: a reply joins the conversation its thread started in, whoever writes.
        earlier = (
            await Message.filter(channel_id=channel.id, source_id__in=list(msg.thread_ids))
            .order_by("-id")
            .first()
        )
        if earlier is not None:
            return await Conversation.get(id=earlier.conversation_id)  # type: ignore[attr-defined]
    conversation = await Conversation.filter(channel_id=channel.id, identity_id=identity.id).first()
    if conversation is not None:
        return conversation
    try:
        async with in_transaction():
            return await Conversation.create(
                channel=channel,
                identity=identity,
                client_id=identity.client_id,  # type: ignore[attr-defined]
            )
    except IntegrityError:
        return await Conversation.get(channel_id=channel.id, identity_id=identity.id)


async def _open_interest(conversation: Conversation) -> Interest | None:
    """The conversation's interest while open, else the client's latest open one."""
    if conversation.interest_id is not None:  # type: ignore[attr-defined]
        interest = await Interest.filter(
            id=conversation.interest_id,  # type: ignore[attr-defined]
            status=InterestStatus.OPEN,
        ).first()
        if interest is not None:
            return interest
    return (
        await Interest.filter(
            client_id=conversation.client_id,  # type: ignore[attr-defined]
            status=InterestStatus.OPEN,
        )
        .order_by("-updated_at", "-id")
        .first()
    )


def interaction_kind(channel: Channel) -> InteractionKind:
    return InteractionKind.EMAIL if channel.kind == ChannelKind.EMAIL else InteractionKind.MESSAGE


def feed_text(msg: InboundMessage) -> str:
    if msg.text:
        return msg.text
    return ", ".join(a.name or a.kind for a in msg.attachments)


async def _edit(channel: Channel, msg: InboundMessage) -> Outcome | None:
    stored = await Message.filter(channel_id=channel.id, source_id=msg.source_id).first()
    if stored is None:
        return None  # the original never reached us: keep the edit as a new message
    if stored.text != msg.text:
        if stored.original_text is None:
            stored.original_text = stored.text
        stored.text = msg.text
        await stored.save(update_fields=["text", "original_text", "updated_at"])
    return Outcome(message=stored, duplicate=True)


async def _opened_chat(msg: InboundMessage) -> InboundMessage:
    """A `/start [payload]` as managers see it: "customer opened the chat (source: X)" in
    the company's language instead of the command; the command stays in `meta`."""
    locale = (await get_company()).default_locale
    source = lead_sources.clean(msg.lead_source)
    text = (
        gettext(lead_sources.CHAT_OPENED_FROM, locale, source=source)
        if source
        else gettext(lead_sources.CHAT_OPENED, locale)
    )
    meta = {**msg.meta, "service": "chat_opened", "command": msg.text}
    return replace(msg, text=text, meta=meta)


async def ingest_message(channel: Channel, msg: InboundMessage) -> Outcome:
    if msg.edit:
        edited = await _edit(channel, msg)
        if edited is not None:
            return edited
    stored = await Message.filter(channel_id=channel.id, source_id=msg.source_id).first()
    if stored is not None:
        return Outcome(message=stored, duplicate=True)
    if msg.opened_chat:
        msg = await _opened_chat(msg)
    out = Outcome()
    identity = await _resolve(channel, msg, out)
    if not identity.subscribed:
        identity.subscribed = True  # writing to us again re-opens the channel (Viber)
        await identity.save(update_fields=["subscribed", "updated_at"])
    conversation = await _conversation(channel, identity, msg)
    meta: dict[str, Any] = dict(msg.meta)
    if source := lead_sources.clean(msg.lead_source):
        meta["lead_source"] = source
    try:
        async with in_transaction():
            message = await Message.create(
                conversation=conversation,
                channel=channel,
                direction=Direction.IN,
                text=msg.text,
                attachments=[a.as_dict() for a in msg.attachments],
                meta=meta,
                source_id=msg.source_id,
                status=MessageStatus.RECEIVED,
                sent_at=msg.sent_at,
            )
            # A survey's button pressed (VK, Viber) is an answer, not a request: it waits
            # for no reply and opens no inquiry (crm.mailings.survey_answers records it).
            quiet = bool(msg.meta.get("button"))
            waiting = (
                {} if quiet else {"waiting_since": Coalesce("waiting_since", moment(msg.sent_at))}
            )
            await Conversation.filter(id=conversation.id).update(
                last_message_at=msg.sent_at, **waiting
            )
            interest = await _open_interest(conversation)
            if interest is not None:
                await _to_interest(channel, conversation, interest, message, msg, out)
            elif not quiet:
                await _to_inquiry(channel, conversation, message, msg, out)
    except IntegrityError:
        stored = await Message.filter(channel_id=channel.id, source_id=msg.source_id).first()
        if stored is None:
            raise
        return Outcome(message=stored, duplicate=True)
    out.message = message
    if consent.is_stop(msg.text):
        await _stop_mailings(channel, conversation)
    else:
        client_id = conversation.client_id  # type: ignore[attr-defined]
        await results.attribute_replies([(client_id, message.id, _inquiry_of(out))])
    return out


def _inquiry_of(out: Outcome) -> int | None:
    for item in out.events:
        if isinstance(item, events.InquiryOpened | events.InquiryMessage):
            return item.inquiry_id
    return None


async def _stop_mailings(channel: Channel, conversation: Conversation) -> None:
    """A customer's "стоп" (`consent.is_stop`): unsubscribed from mailings for good, and
    told so in the company's language; the message itself reaches the managers as usual."""
    client_id = conversation.client_id  # type: ignore[attr-defined]
    await consent.opt_out(client_id, via=channel.kind.value)
    locale = (await get_company()).default_locale
    await queue_reply(
        conversation.id,
        actor=None,
        text=gettext(consent.CONFIRMATION, locale),
        meta={"service": "unsubscribed"},
    )


async def _to_interest(
    channel: Channel,
    conversation: Conversation,
    interest: Interest,
    message: Message,
    msg: InboundMessage,
    out: Outcome,
) -> None:
    if conversation.interest_id != interest.id:  # type: ignore[attr-defined]
        await Conversation.filter(id=conversation.id).update(interest_id=interest.id)
    await record_done(
        actor=None,
        kind=interaction_kind(channel),
        client_id=conversation.client_id,  # type: ignore[attr-defined]
        interest_id=interest.id,
        subject=str(msg.meta.get("subject", "")),
        content=feed_text(msg),
        at=msg.sent_at,
        message_id=message.id,
    )
    out.events.append(
        events.InterestMessage(
            interest.id,
            message.id,
            interest.responsible_id,  # type: ignore[attr-defined]
        )
    )


async def _to_inquiry(
    channel: Channel,
    conversation: Conversation,
    message: Message,
    msg: InboundMessage,
    out: Outcome,
) -> None:
    waiting = await Inquiry.filter(
        conversation_id=conversation.id, status=InquiryStatus.OPEN
    ).first()
    if waiting is not None:
        out.events.append(events.InquiryMessage(waiting.id, message.id))
        return
    inquiry = await Inquiry.create(
        conversation=conversation,
        client_id=conversation.client_id,  # type: ignore[attr-defined]
        channel=channel,
        first_message_at=msg.sent_at,
    )
    out.events.append(events.InquiryOpened(inquiry.id, message.id))


# --- statuses and subscriptions ---------------------------------------------------------


async def _status(channel: Channel, update: StatusUpdate) -> Outcome:
    message = await Message.filter(
        channel_id=channel.id, source_id=update.source_id, direction=Direction.OUT
    ).first()
    if message is None:
        return Outcome()
    if update.status == "failed":
        new, error = MessageStatus.FAILED, update.error or "failed"
    else:
        new, error = MessageStatus(update.status), message.last_error
        if STATUS_RANK.get(new, 0) <= STATUS_RANK.get(message.status, 0):
            return Outcome(message=message)
    message.status = new
    message.last_error = error
    await message.save(update_fields=["status", "last_error", "updated_at"])
    if new == MessageStatus.FAILED and channel.kind == ChannelKind.EMAIL:
        await _bounced(message, error)
    return Outcome(message=message, events=[events.MessageStatusChanged(message.id, new.value)])


async def _bounced(message: Message, reason: str) -> None:
    """A bounce of our email: its address is not mailed again (`crm.mailings.consent`)."""
    conversation = await Conversation.get(id=message.conversation_id)  # type: ignore[attr-defined]
    identity = await ChannelIdentity.get(id=conversation.identity_id)  # type: ignore[attr-defined]
    recipients = [str(a) for a in message.meta.get("reply_to") or () if "@" in str(a)]
    await consent.record_bounce(recipients[0] if recipients else identity.external_id, reason)


async def _subscription(channel: Channel, change: SubscriptionChange) -> Outcome:
    await ChannelIdentity.filter(channel_id=channel.id, external_id=change.external_user_id).update(
        subscribed=change.subscribed
    )
    return Outcome()

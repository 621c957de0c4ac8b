"""Writing first: a manager starts a conversation with a client who never wrote, from the
client card. Email goes to one of the client's addresses from a chosen mailbox, with a
subject (the customer's answer threads into the same conversation, as any reply does);
Telegram, VK and Viber only where the client has a subscribed identity on that channel (a
bot cannot write to someone who never wrote to it). Every channel not offered is listed
with why. The message is queued through `crm.conversations.queue_reply`, as a reply is;
no transport code here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from crm.access import access_client
from crm.channels import channel_filter
from crm.conversations import queue_reply
from crm.errors import Conflict, CrmError, NotFound, ValidationFailed
from crm.i18n import N_
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Client,
    ClientContact,
    ContactKind,
    Conversation,
    Message,
    User,
)

MAX_SUBJECT = 200
# the files a message carries, as the outbox takes them, for the channel it goes through
Attach = Callable[[Channel], Awaitable[list[dict[str, Any]]]]
MESSENGERS = (ChannelKind.TELEGRAM, ChannelKind.VK, ChannelKind.VIBER)
UNSUBSCRIBED = N_("The client unsubscribed or blocked this channel")
NO_MAILBOX = N_("No mailbox is connected")
NO_ADDRESS = N_("The client has no email address")
NO_CHANNEL = N_("No channel of this kind is connected")
NEVER_WROTE = N_("The client has never written here, and a bot cannot write first")
SWITCHED_OFF = N_("The channel is switched off (Channels)")
# each reason's code: the API's error code when that channel is asked for
CODES = {
    NO_MAILBOX: "no_mailbox",
    NO_ADDRESS: "no_email_address",
    NO_CHANNEL: "no_channel",
    UNSUBSCRIBED: "unsubscribed",
    NEVER_WROTE: "never_wrote",
    SWITCHED_OFF: "switched_off",
}


@dataclass(frozen=True)
class Offer:
    """One channel the client can be written to: a mailbox (to any of `addresses`) or a
    messenger channel (to `identity`)."""

    channel: Channel
    identity: ChannelIdentity | None = None
    addresses: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NotOffered:
    """A channel (or a kind of channel, `channel` None) that cannot be used, and why."""

    kind: ChannelKind
    reason: str  # a msgid
    channel: Channel | None = None

    @property
    def code(self) -> str:
        return CODES[self.reason]


@dataclass(frozen=True)
class Ways:
    offers: list[Offer]
    not_offered: list[NotOffered]

    @property
    def addresses(self) -> list[str]:
        """Every address some mailbox offers, once each."""
        return list(dict.fromkeys(a for o in self.offers for a in o.addresses))


async def ways_to_write(actor: User, client: Client) -> Ways:
    """The channels the actor may write to this client through, and the others with why
    (channels the actor may not see are neither)."""
    seen = await Channel.filter(await channel_filter(actor)).order_by("id")
    channels = [c for c in seen if c.is_active]
    off = [c for c in seen if not c.is_active]  # named, so "not connected" is never said of them
    identities = await ChannelIdentity.filter(client_id=client.id).order_by("id")
    offers: list[Offer] = []
    refused: list[NotOffered] = []
    mailboxes = [c for c in channels if c.kind == ChannelKind.EMAIL]
    emails = await client_emails(client)
    if not mailboxes:
        refused += _switched_off(ChannelKind.EMAIL, off) or [
            NotOffered(ChannelKind.EMAIL, NO_MAILBOX)
        ]
    for mailbox in mailboxes:
        if not emails:
            refused.append(NotOffered(ChannelKind.EMAIL, NO_ADDRESS, mailbox))
            continue
        # an address that bounced or unsubscribed on this mailbox is not offered from it
        stopped = {
            i.external_id
            for i in identities
            if i.channel_id == mailbox.id and not i.subscribed  # type: ignore[attr-defined]
        }
        usable = [e for e in emails if e.strip().lower() not in stopped]
        if usable:
            offers.append(Offer(mailbox, addresses=usable))
        else:
            refused.append(NotOffered(ChannelKind.EMAIL, UNSUBSCRIBED, mailbox))
    for kind in MESSENGERS:
        of_kind = [c for c in channels if c.kind == kind]
        if not of_kind:
            refused += _switched_off(kind, off) or [NotOffered(kind, NO_CHANNEL)]
        for channel in of_kind:
            own = [i for i in identities if i.channel_id == channel.id]  # type: ignore[attr-defined]
            subscribed = [i for i in own if i.subscribed]
            if subscribed:
                offers.append(Offer(channel, identity=subscribed[0]))
            elif own:
                refused.append(NotOffered(kind, UNSUBSCRIBED, channel))
            else:
                refused.append(NotOffered(kind, NEVER_WROTE, channel))
    return Ways(offers, refused)


def _switched_off(kind: ChannelKind, off: list[Channel]) -> list[NotOffered]:
    return [NotOffered(kind, SWITCHED_OFF, c) for c in off if c.kind == kind]


async def client_emails(client: Client) -> list[str]:
    rows = await ClientContact.filter(client_id=client.id, kind=ContactKind.EMAIL).order_by(
        "position", "id"
    )
    return [r.value for r in rows]


async def _conversation(channel: Channel, identity: ChannelIdentity) -> Conversation:
    found = await Conversation.filter(channel_id=channel.id, identity_id=identity.id).first()
    if found is not None:
        return found
    try:
        async with in_transaction():
            return await Conversation.create(
                channel=channel,
                identity=identity,
                client_id=identity.client_id,  # type: ignore[attr-defined]
            )
    except IntegrityError:  # the customer wrote at the same moment
        return await Conversation.get(channel_id=channel.id, identity_id=identity.id)


async def _email_identity(offer: Offer, client: Client, address: str) -> ChannelIdentity:
    channel = offer.channel
    if address not in offer.addresses:
        raise ValidationFailed.field("address", N_("Choose one of the client's addresses"))
    key = address.strip().lower()
    identity = await ChannelIdentity.filter(channel_id=channel.id, external_id=key).first()
    if identity is None:
        try:
            async with in_transaction():
                identity = await ChannelIdentity.create(
                    channel=channel, external_id=key, client=client, display_name=client.name
                )
        except IntegrityError:
            identity = await ChannelIdentity.get(channel_id=channel.id, external_id=key)
    if identity.client_id != client.id:  # type: ignore[attr-defined]
        raise Conflict(
            N_("This address writes to this mailbox as another client"), code="identity_taken"
        )
    return identity


def _not_offered(ways: Ways, channel_id: int) -> CrmError:
    """Why the channel is refused (a Conflict coded by the reason), or NotFound for a
    channel the actor may not use or that is not there."""
    for refused in ways.not_offered:
        if refused.channel is not None and refused.channel.id == channel_id:
            return Conflict(refused.reason, code=refused.code)
    return NotFound()


async def start_conversation(
    client_id: int,
    channel_id: int,
    *,
    actor: User,
    text: str,
    subject: str = "",
    address: str = "",
    attach: Attach | None = None,
) -> tuple[Conversation, Message]:
    """Queue the first message to the client through the channel; the conversation is
    created (or the existing one of that identity used). Refused, naming the field or the
    reason, when the channel is not one `ways_to_write` offers. `attach(channel)` gives the
    files to send as the outbox takes them, or refuses them (ValidationFailed on `files`)
    before anything is created or queued."""
    client = await access_client(actor, client_id)
    ways = await ways_to_write(actor, client)
    offer = next((o for o in ways.offers if o.channel.id == channel_id), None)
    if offer is None:
        raise _not_offered(ways, channel_id)
    attachments = await attach(offer.channel) if attach else []
    body = text.strip()
    if not body and not attachments:
        refusal = N_("Write a message or choose a file") if attach else N_("Required")
        raise ValidationFailed.field("text", refusal)
    meta: dict[str, object] = {}
    if offer.channel.kind == ChannelKind.EMAIL:
        clean = " ".join(subject.split())
        if not clean:
            raise ValidationFailed.field("subject", N_("Required"))
        if len(clean) > MAX_SUBJECT:
            raise ValidationFailed.field("subject", N_("Too long"))
        identity = await _email_identity(offer, client, address.strip())
        meta = {"subject": clean, "new_thread": True}
    else:
        assert offer.identity is not None
        identity = offer.identity
    conversation = await _conversation(offer.channel, identity)
    message = await queue_reply(
        conversation.id, actor=actor, text=body, meta=meta, attachments=attachments
    )
    return conversation, message

"""Inquiries: inbound conversations nobody has taken yet. Accept opens an interest."""

from __future__ import annotations

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from crm import clock, last_contact
from crm.access import sees_all_clients
from crm.channels import channel_condition, channel_filter
from crm.errors import Conflict, NotFound, ValidationFailed
from crm.i18n import N_
from crm.models import (
    Channel,
    ChannelKind,
    Client,
    Conversation,
    Direction,
    Inquiry,
    InquiryStatus,
    Interaction,
    InteractionKind,
    InteractionState,
    Interest,
    Message,
    Reason,
    ReasonKind,
    Scenario,
    StageChange,
    User,
)
from crm.rows import RowReader, query, split
from crm.scenarios import default_scenario, stages_of

# A deal opened from an inquiry is titled "Telegram: Хочу купить диван…": where the
# customer wrote and the first words they wrote (the client's name is on the card already).
CHANNEL_TITLES = {
    ChannelKind.TELEGRAM: "Telegram",
    ChannelKind.VK: "VK",
    ChannelKind.VIBER: "Viber",
    ChannelKind.EMAIL: "E-mail",
}
TITLE_WORDS = 40  # characters of the customer's first words kept in the title


def inquiry_title(kind: ChannelKind | str, text: str, fallback: str) -> str:
    """The channel and the first words of `text` (cut at a word, "…"), else `fallback`."""
    words = " ".join(text.split())
    if len(words) > TITLE_WORDS:
        head = words[: TITLE_WORDS + 1]
        cut = head.rsplit(" ", 1)[0] if " " in head else head[:TITLE_WORDS]
        words = cut.rstrip(" ,.;:!?-—") + "…"
    product = CHANNEL_TITLES.get(ChannelKind(kind), str(kind))
    return f"{product}: {words or fallback}"


async def _first_words(inquiry: Inquiry, kind: ChannelKind) -> str:
    """What the customer wrote first in this inquiry (an email's subject when it has one)."""
    first = (
        await Message.filter(
            conversation_id=inquiry.conversation_id,  # type: ignore[attr-defined]
            direction=Direction.IN,
            sent_at__gte=inquiry.first_message_at,
        )
        .exclude(text="")
        .order_by("id")
        .first()
    )
    if first is None:
        return ""
    subject = first.meta.get("subject") if kind == ChannelKind.EMAIL else None
    return str(subject or first.text)


async def _visible_channels(actor: User) -> Q:
    """Inquiries on the channels the actor may see (a subquery, no read of its own)."""
    channels = Channel.filter(await channel_filter(actor)).values("id")
    return Q(channel_id__in=Subquery(channels))


async def inquiry_filter(actor: User) -> Q:
    """Inquiries on the channels the actor may see, of clients nobody is responsible for
    yet or the actor is (another manager's client stays theirs unless all are visible)."""
    visible = await _visible_channels(actor)
    if await sees_all_clients(actor):
        return visible
    return visible & (Q(client__responsible_id__isnull=True) | Q(client__responsible_id=actor.id))


_INQUIRY_ROWS = RowReader(Inquiry)
_CLIENT_ROWS = RowReader(Client)
_CHANNEL_ROWS = RowReader(Channel)
_CONVERSATION_ROWS = RowReader(Conversation)


async def open_inquiries(actor: User, *, limit: int = 50) -> list[Inquiry]:
    """Waiting inquiries the actor may take, oldest first, with their client, channel and
    conversation: one query (`inquiry_filter` written in SQL), as /inbox asks for it often."""
    mine = (
        ""
        if await sees_all_clients(actor)
        else " AND (c.responsible_id IS NULL OR c.responsible_id = $2)"
    )
    columns = ", ".join(
        (
            _INQUIRY_ROWS.select_list("i"),
            _CLIENT_ROWS.select_list("c"),
            _CHANNEL_ROWS.select_list("h"),
            _CONVERSATION_ROWS.select_list("a"),
        )
    )
    sql = (
        f"SELECT {columns}"
        " FROM inquiries i JOIN clients c ON c.id = i.client_id"
        " JOIN channels h ON h.id = i.channel_id JOIN conversations a ON a.id = i.conversation_id"
        f" WHERE i.status = '{InquiryStatus.OPEN.value}' AND {channel_condition(actor, 'h', '$2')}"
        f"{mine} ORDER BY i.first_message_at, i.id LIMIT $1"
    )
    # an admin's or head's read names no user (PostgreSQL refuses a parameter it cannot type)
    params = [max(0, limit)] if actor.sees_everything else [max(0, limit), actor.id]
    rows = await query(sql, params)
    parts = [split(row, _INQUIRY_ROWS, _CLIENT_ROWS, _CHANNEL_ROWS) for row in rows]
    found = _INQUIRY_ROWS.models(p[0] for p in parts)
    for inquiry, client, channel, conversation in zip(
        found,
        _CLIENT_ROWS.models(p[1] for p in parts),
        _CHANNEL_ROWS.models(p[2] for p in parts),
        _CONVERSATION_ROWS.models(p[3] for p in parts),
        strict=True,
    ):
        inquiry.client, inquiry.channel, inquiry.conversation = client, channel, conversation
    return found


async def access_inquiry(actor: User, inquiry_id: int) -> Inquiry:
    inquiry = await Inquiry.filter(await inquiry_filter(actor), id=inquiry_id).first()
    if inquiry is None:
        raise NotFound()
    return inquiry


async def already_decided(actor: User, inquiry_id: int) -> None:
    """Someone who saw the inquiry's card (its channel is theirs) and comes late is told who
    took it, even though the client is now the taker's and no longer visible to them."""
    inquiry = (
        await Inquiry.filter(await _visible_channels(actor), id=inquiry_id)
        .exclude(status=InquiryStatus.OPEN)
        .prefetch_related("decided_by")
        .first()
    )
    if inquiry is None:
        return
    if inquiry.status == InquiryStatus.ACCEPTED:
        raise Conflict(
            N_("{name} has already taken this inquiry"),
            code="inquiry_taken",
            name=inquiry.decided_by.full_name if inquiry.decided_by else "?",
        )
    raise Conflict(N_("This inquiry has already been decided"), code="inquiry_taken")


async def _decide(inquiry: Inquiry, status: InquiryStatus, actor: User) -> bool:
    """Atomically take the inquiry; False when someone else already decided it."""
    now = clock.now()
    seconds = int((now - inquiry.first_message_at).total_seconds())
    # kept_calendar NULL: the kept figures are counted again (crm.reports.kept_minutes),
    # off this path; the same statement, no round trip more
    updated = await Inquiry.filter(id=inquiry.id, status=InquiryStatus.OPEN).update(
        status=status,
        decided_by_id=actor.id,
        decided_at=now,
        response_seconds=max(seconds, 0),
        kept_calendar=None,
    )
    return bool(updated)


async def accept_inquiry(inquiry_id: int, *, actor: User, title: str | None = None) -> Interest:
    """Take the inquiry: an interest in the channel's default scenario, responsible = actor,
    titled by `inquiry_title` unless given, the conversation linked to it, the client
    assigned to the actor if it had nobody."""
    await already_decided(actor, inquiry_id)
    inquiry = await access_inquiry(actor, inquiry_id)
    channel = await Channel.get(id=inquiry.channel_id)  # type: ignore[attr-defined]
    scenario = (
        await Scenario.filter(id=channel.default_scenario_id).first()  # type: ignore[attr-defined]
        if channel.default_scenario_id  # type: ignore[attr-defined]
        else None
    ) or await default_scenario()
    if scenario is None:
        raise ValidationFailed.field("scenario_id", N_("Create a sales scenario first"))
    stages = await stages_of(scenario.id)
    client = await Client.get(id=inquiry.client_id)  # type: ignore[attr-defined]
    if title is None:
        words = await _first_words(inquiry, channel.kind)
        title = inquiry_title(channel.kind, words, client.name)
    async with in_transaction():
        if not await _decide(inquiry, InquiryStatus.ACCEPTED, actor):
            taken = await Inquiry.get(id=inquiry.id).prefetch_related("decided_by")
            raise Conflict(
                N_("{name} has already taken this inquiry"),
                code="inquiry_taken",
                name=taken.decided_by.full_name if taken.decided_by else "?",
            )
        interest = await Interest.create(
            client=client,
            title=title,
            scenario=scenario,
            stage=stages[0],
            responsible=actor,
            source=channel.name,
        )
        await StageChange.create(interest=interest, to_stage=stages[0], actor=actor)
        await Inquiry.filter(id=inquiry.id).update(interest_id=interest.id)
        await Conversation.filter(id=inquiry.conversation_id).update(  # type: ignore[attr-defined]
            interest_id=interest.id
        )
        if client.responsible_id is None:  # type: ignore[attr-defined]
            await Client.filter(id=client.id).update(responsible_id=actor.id)
        await _feed_waiting_messages(inquiry, interest, channel)
    return interest


async def _feed_waiting_messages(inquiry: Inquiry, interest: Interest, channel: Channel) -> None:
    """What the customer wrote while waiting goes into the new interest's feed."""
    waiting = await Message.filter(
        conversation_id=inquiry.conversation_id,  # type: ignore[attr-defined]
        direction=Direction.IN,
        sent_at__gte=inquiry.first_message_at,
    ).order_by("id")
    kind = InteractionKind.EMAIL if channel.kind == ChannelKind.EMAIL else InteractionKind.MESSAGE
    await Interaction.bulk_create(
        [
            Interaction(
                client_id=interest.client_id,  # type: ignore[attr-defined]
                interest_id=interest.id,
                kind=kind,
                subject=str(m.meta.get("subject", ""))[:300],
                content=m.text
                or ", ".join(str(a.get("name") or a.get("kind")) for a in m.attachments),
                state=InteractionState.DONE,
                done_at=m.sent_at or m.created_at,
                sort_at=m.sent_at or m.created_at,
                message_id=m.id,
            )
            for m in waiting[:200]
        ]
    )
    if waiting:  # the client's last contact (crm.last_contact)
        fed = max(m.sent_at or m.created_at for m in waiting[:200])
        await last_contact.advance({interest.client_id: fed})  # type: ignore[attr-defined]


async def reject_inquiry(inquiry_id: int, reason_id: int | None, *, actor: User) -> Inquiry:
    """Decline the inquiry with a reason from the rejection-reason list; without one
    (`None`) only while the list is empty, so Reject never dead-ends."""
    await already_decided(actor, inquiry_id)
    inquiry = await access_inquiry(actor, inquiry_id)
    reason = (
        await Reason.filter(id=reason_id, kind=ReasonKind.REJECTION, is_active=True).first()
        if reason_id is not None
        else None
    )
    if reason is None and (
        reason_id is not None
        or await Reason.filter(kind=ReasonKind.REJECTION, is_active=True).exists()
    ):
        raise ValidationFailed.field("reason_id", N_("Choose a reason from the list"))
    async with in_transaction():
        if not await _decide(inquiry, InquiryStatus.REJECTED, actor):
            raise Conflict(N_("This inquiry has already been decided"), code="inquiry_taken")
        if reason is not None:
            await Inquiry.filter(id=inquiry.id).update(rejection_reason_id=reason.id)
    return await Inquiry.get(id=inquiry.id)

"""Ingesting many events of one channel at once: the fast path for known senders.

Most traffic comes from customers already known: their identity and conversation exist and
the conversation either waits as an open inquiry or belongs to an open interest. For those,
the lookups are done once per batch and the messages are written in one transaction, which
is what lets one process keep up with a busy bot. Everything else (new senders, shared
contacts, edits, email threads, statuses) goes through `hub.ingest` one by one, in order;
a sender with any such event in the batch goes that way entirely, so one sender's
messages are always stored in the order they came."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.functions import Coalesce
from tortoise.transactions import in_transaction

from crm import clock, last_contact
from crm.interactions import utc
from crm.mailings import consent, results
from crm.models import (
    Channel,
    ChannelIdentity,
    Conversation,
    Direction,
    Inquiry,
    InquiryStatus,
    Interaction,
    InteractionState,
    Interest,
    InterestStatus,
    Message,
    MessageStatus,
)
from crm.rows import RowReader, moment
from inbox import events, hub
from inbox.channels.base import InboundEvent, InboundMessage, SubscriptionChange
from inbox.storable import storable_event


@dataclass
class _Known:
    conversation: Conversation
    interest: Interest | None
    inquiry: Inquiry | None


def _simple(event: InboundEvent) -> bool:
    return (
        isinstance(event, InboundMessage)
        and not event.edit
        and not event.opened_chat
        and not event.phone
        and not event.email
        and not event.thread_ids
        and not consent.is_stop(event.text)  # "стоп": unsubscribed by hub.ingest
        and not event.meta.get("button")  # a survey's button: no inquiry (hub.ingest)
    )


async def _known(channel: Channel, senders: set[str]) -> dict[str, _Known]:
    """Senders whose conversation waits as an inquiry or belongs to an open interest."""
    identities = await ChannelIdentity.filter(
        channel_id=channel.id, external_id__in=list(senders), subscribed=True
    )
    by_identity = {i.id: i.external_id for i in identities}
    conversations = await Conversation.filter(
        channel_id=channel.id, identity_id__in=list(by_identity)
    )
    interest_ids = [c.interest_id for c in conversations if c.interest_id]  # type: ignore[attr-defined]
    interests, inquiries = await asyncio.gather(  # independent: two connections at once
        Interest.filter(id__in=interest_ids, status=InterestStatus.OPEN),
        Inquiry.filter(
            conversation_id__in=[c.id for c in conversations], status=InquiryStatus.OPEN
        ),
    )
    open_interests = {i.id: i for i in interests}
    waiting = {q.conversation_id: q for q in inquiries}  # type: ignore[attr-defined]
    known: dict[str, _Known] = {}
    for conversation in conversations:
        interest = open_interests.get(conversation.interest_id)  # type: ignore[attr-defined]
        inquiry = waiting.get(conversation.id)
        if interest is not None or inquiry is not None:
            sender = by_identity[conversation.identity_id]  # type: ignore[attr-defined]
            known[sender] = _Known(conversation, interest, inquiry)
    return known


async def _nothing() -> dict[str, _Known]:
    return {}


async def ingest_many(channel: Channel, batch: list[InboundEvent]) -> list[hub.Outcome]:
    """Ingest the events in order; returns one outcome per event."""
    batch = [storable_event(e) for e in batch]  # as hub.ingest: NUL, lone surrogates
    messages = [e for e in batch if isinstance(e, InboundMessage)]
    slow_senders = {e.external_user_id for e in messages if not _simple(e)} | {
        e.external_user_id for e in batch if isinstance(e, SubscriptionChange)
    }
    candidates = {e.external_user_id for e in messages} - slow_senders
    known, rows = await asyncio.gather(
        _known(channel, candidates) if candidates else _nothing(),
        Message.filter(
            channel_id=channel.id, source_id__in=[m.source_id for m in messages]
        ).values_list("source_id", flat=True),
    )
    stored = {str(r) for r in rows}
    fast: list[InboundMessage] = []
    for msg in messages:
        if msg.external_user_id in known and msg.source_id not in stored:
            fast.append(msg)
            stored.add(msg.source_id)  # a repeat within the batch is a duplicate
    fast_ids = {id(e) for e in fast}
    outcomes: dict[int, hub.Outcome] = {}
    if fast:
        try:
            outcomes.update(await _write(channel, fast, known))
        except IntegrityError:
            fast_ids = set()  # someone stored some of them meanwhile: go one by one
        else:  # committed: tell the managers now, whatever happens to the rest
            for msg in fast:
                for item in outcomes[id(msg)].events:
                    await events.publish(item)
            await _mailing_replies(fast, known, outcomes)
    for event in batch:
        if id(event) not in fast_ids:
            outcomes[id(event)] = await hub.ingest(channel, event)
    return [outcomes[id(e)] for e in batch]


async def _mailing_replies(
    fast: list[InboundMessage], known: dict[str, _Known], outcomes: dict[int, hub.Outcome]
) -> None:
    """Replies to mailings among the fast path's messages (one read for the batch)."""
    replies = []
    for msg in fast:
        stored = outcomes[id(msg)].message
        seen = known[msg.external_user_id]
        if stored is not None:
            inquiry_id = seen.inquiry.id if seen.inquiry is not None else None
            replies.append((seen.conversation.client_id, stored.id, inquiry_id))  # type: ignore[attr-defined]
    await results.attribute_replies(replies)


# PostgreSQL: the batch's messages in one statement, their ids returned (a CTE, since
# tortoise's execute_query() drops the rows of a statement starting with INSERT).
_PG_INSERT = """
WITH stored AS (
    INSERT INTO messages (created_at, updated_at, conversation_id, channel_id, direction, text,
        attachments, meta, source_id, status, attempts, last_error, sent_at)
    SELECT $1, $1, c, $2, $3, t, a::jsonb, m::jsonb, s, $4, 0, '', at
    FROM unnest($5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
        AS u(c, t, a, m, s, at)
    RETURNING id, source_id
) SELECT source_id, id FROM stored
"""
MESSAGE_ROWS = RowReader(Message)


def _json(attr: str, value: object) -> str:
    return str(Message._meta.fields_map[attr].to_db_value(value, Message))


async def _insert(
    channel: Channel, fast: list[InboundMessage], known: dict[str, _Known]
) -> dict[str, Message]:
    """The messages stored, by source id; inside the caller's transaction. Moments are
    UTC (the models' fields convert what they write; the raw PostgreSQL INSERT binds them
    itself, and the models built from its rows keep what it bound)."""
    conn = connections.get("default")
    now = utc(clock.now())
    values = {
        "created_at": now,
        "updated_at": now,
        "channel_id": channel.id,
        "direction": Direction.IN,
        "original_text": None,
        "status": MessageStatus.RECEIVED,
        "author_id": None,
        "attempts": 0,
        "next_attempt_at": None,
        "claimed_until": None,
        "last_error": "",
        "figures_pending": None,  # only people's replies wait for crm.reports.kept_minutes
    }
    rows = [
        {
            **values,
            "conversation_id": known[msg.external_user_id].conversation.id,
            "text": msg.text,
            "attachments": [a.as_dict() for a in msg.attachments],
            "meta": dict(msg.meta),
            "source_id": msg.source_id,
            "sent_at": utc(msg.sent_at),
        }
        for msg in fast
    ]
    if conn.capabilities.dialect == "postgres":
        _, returned = await conn.execute_query(
            _PG_INSERT,
            [
                now,
                channel.id,
                Direction.IN.value,
                MessageStatus.RECEIVED.value,
                [r["conversation_id"] for r in rows],
                [r["text"] for r in rows],
                [_json("attachments", r["attachments"]) for r in rows],
                [_json("meta", r["meta"]) for r in rows],
                [r["source_id"] for r in rows],
                [r["sent_at"] for r in rows],
            ],
        )
        ids = {str(source_id): int(id_) for source_id, id_ in returned}
        columns = MESSAGE_ROWS.columns
        for row in rows:
            row["id"] = ids[str(row["source_id"])]
        models = MESSAGE_ROWS.models([tuple(row[c] for c in columns) for row in rows])
        return {m.source_id: m for m in models if m.source_id is not None}
    messages = [
        Message(**{k: v for k, v in row.items() if k not in ("created_at", "updated_at")})
        for row in rows
    ]
    await Message.bulk_create(messages)
    stored = dict(
        await Message.filter(
            channel_id=channel.id, source_id__in=[m.source_id for m in fast]
        ).values_list("source_id", "id")
    )
    for message in messages:
        message.id = stored[message.source_id]
        message._saved_in_db = True
    return {m.source_id: m for m in messages if m.source_id is not None}


async def _write(
    channel: Channel, fast: list[InboundMessage], known: dict[str, _Known]
) -> dict[int, hub.Outcome]:
    outcomes: dict[int, hub.Outcome] = {}
    last_at: dict[int, object] = {}
    first_at: dict[int, datetime] = {}  # the desk's waiting time starts at the first
    feed: list[Interaction] = []
    kind = hub.interaction_kind(channel)
    async with in_transaction():
        stored = await _insert(channel, fast, known)
        for msg in fast:
            message = stored[msg.source_id]
            k = known[msg.external_user_id]
            last_at[k.conversation.id] = msg.sent_at
            first_at.setdefault(k.conversation.id, msg.sent_at)
            out = hub.Outcome(message=message)
            if k.interest is not None:
                feed.append(
                    Interaction(
                        client_id=k.conversation.client_id,  # type: ignore[attr-defined]
                        interest_id=k.interest.id,
                        kind=kind,
                        subject=str(msg.meta.get("subject", ""))[:300],
                        content=hub.feed_text(msg),
                        state=InteractionState.DONE,
                        done_at=msg.sent_at,
                        sort_at=msg.sent_at,
                        message_id=message.id,
                    )
                )
                out.events.append(
                    events.InterestMessage(
                        k.interest.id,
                        message.id,
                        k.interest.responsible_id,  # type: ignore[attr-defined]
                    )
                )
            elif k.inquiry is not None:
                out.events.append(events.InquiryMessage(k.inquiry.id, message.id))
            outcomes[id(msg)] = out
        if feed:
            await Interaction.bulk_create(feed)
            # the clients' last contact: one statement for the batch (crm.last_contact)
            await last_contact.advance(
                last_contact.latest((i.client_id, i.sort_at) for i in feed)  # type: ignore[attr-defined]
            )
        by_moment: dict[tuple[object, datetime], list[int]] = {}
        for conversation_id, at in last_at.items():
            key = (at, first_at[conversation_id])
            by_moment.setdefault(key, []).append(conversation_id)
        for (at, first), conversation_ids in by_moment.items():  # times in whole seconds
            await Conversation.filter(id__in=conversation_ids).update(
                last_message_at=at,
                waiting_since=Coalesce("waiting_since", moment(first)),  # the desk's waiting
            )
    return outcomes

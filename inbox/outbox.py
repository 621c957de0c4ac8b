"""The outbox: an outgoing message is a row first (queued), then sent by a worker.

A worker claims due messages under a lease, marks each SENDING, sends it through the
channel's adapter and records the platform's id as `source_id`. Each channel is claimed and
sent on its own, several sends at once (a conversation's one after another), so every
channel keeps its own pace: a mailbox's slow one never holds back a messenger. A message with a
`source_id` is never sent again. Failures are retried with exponential backoff (at least
what the platform asked for with `retry_after`), and after the last attempt the message is
dead-lettered: visible, and replayable with `crmhub outbox retry ID`. A send the platform
refuses because the customer blocked us (Telegram's "bot was blocked by the user") is
dead-lettered at once and marks the customer unsubscribed from that channel.

A worker that dies between the platform accepting a message and our recording it leaves the
row SENDING. When its lease ends, a channel whose platform deduplicates (VK's `random_id`,
which is our message id) gets it again safely; on the others a repeat could reach the
customer twice, so the message is dead-lettered with that explanation for a person to check
and replay instead."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crm import clock, email_threads
from crm.claims import claim_rows
from crm.errors import Conflict, NotFound
from crm.i18n import N_
from crm.mailings import consent
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Direction,
    Message,
    MessageStatus,
)
from inbox import events, mailer, mailing_files
from inbox.channels.base import Attachment, OutboundMessage, SendError
from inbox.channels.registry import IDEMPOTENT, Adapters
from inbox.ratelimit import DEFAULT, RATES, Pacer, channel_rate

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
BASE_DELAY = 2.0  # seconds; doubles with each attempt
MAX_DELAY = 3600.0
INTERRUPTED = "interrupted while sending: it may or may not have reached the customer"


def backoff(attempts: int, retry_after: float | None = None) -> float:
    delay = min(BASE_DELAY * 2.0 ** max(attempts - 1, 0), MAX_DELAY)
    return float(max(delay, retry_after or 0.0))


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0


async def _email_thread(conversation_id: int) -> dict[str, object]:
    """Threading headers for a reply that names no message (`crm.email_threads` for one
    that does): answer the customer's newest message; while they have not written (a
    conversation we started), follow our own last email, its subject kept."""
    last = (
        await Message.filter(conversation_id=conversation_id, direction=Direction.IN)
        .order_by("-id")
        .first()
    )
    if last is None:
        last = (
            await Message.filter(
                conversation_id=conversation_id, direction=Direction.OUT, source_id__isnull=False
            )
            .order_by("-id")
            .first()
        )
    if last is None:
        return {}
    return email_threads.headers_of(last)


async def _outbound(
    message: Message, channel: Channel, identity: ChannelIdentity
) -> OutboundMessage:
    meta = dict(message.meta)
    threaded = "in_reply_to" in meta or meta.get("new_thread")  # named, or a new thread
    if channel.kind == ChannelKind.EMAIL and not threaded:
        meta = {**await _email_thread(message.conversation_id), **meta}  # type: ignore[attr-defined]
    contents = [await mailing_files.attachment_content(a) for a in message.attachments]
    attachments = tuple(
        Attachment(
            kind=str(a.get("kind", "document")),
            file_id=str(a.get("file_id", "")),
            name=str(a.get("name", "")),
            mime=str(a.get("mime", "")),
            size=a.get("size"),
            extra={
                k: v for k, v in a.items() if k not in ("kind", "file_id", "name", "mime", "size")
            },
        )
        for a in contents
    )
    return OutboundMessage(
        message_id=message.id,
        external_user_id=identity.external_id,
        text=message.text,
        attachments=attachments,
        meta=meta,
    )


async def _set(
    message: Message, status: MessageStatus, *, sending: bool = True, **values: object
) -> bool:
    """Record an outcome; with `sending`, only while the row is still our SENDING row (a
    worker that lost its lease must not overwrite what another decided meanwhile)."""
    query = Message.filter(id=message.id)
    if sending:
        query = query.filter(status=MessageStatus.SENDING)
    updated = await query.update(status=status, claimed_until=None, **values)
    if updated and status in (MessageStatus.SENT, MessageStatus.DEAD, MessageStatus.FAILED):
        await events.publish(events.MessageStatusChanged(message.id, status.value))
    return bool(updated)


async def _fail(
    message: Message,
    error: str,
    *,
    retry_after: float | None = None,
    permanent: bool = False,
    now: datetime,
    sending: bool = True,
) -> str:
    attempts = message.attempts + 1
    if permanent or attempts >= MAX_ATTEMPTS:
        dead = await _set(
            message, MessageStatus.DEAD, sending=sending, attempts=attempts, last_error=error[:2000]
        )
        return "dead" if dead else "skipped"
    failed = await _set(
        message,
        MessageStatus.FAILED,
        sending=sending,
        attempts=attempts,
        last_error=error[:2000],
        next_attempt_at=now + timedelta(seconds=backoff(attempts, retry_after)),
    )
    return "failed" if failed else "skipped"


async def _send_one(adapters: Adapters, pacer: Pacer, message_id: int) -> str:
    message = await Message.filter(id=message_id).first()
    if message is None:  # a cancelled mailing's message, deleted meanwhile
        return "skipped"
    conversation = await Conversation.get(id=message.conversation_id)  # type: ignore[attr-defined]
    channel = await Channel.get(id=message.channel_id)  # type: ignore[attr-defined]
    identity = await ChannelIdentity.get(id=conversation.identity_id)  # type: ignore[attr-defined]
    now = clock.now()
    if not identity.subscribed:
        return await _fail(
            message, "the customer has unsubscribed", permanent=True, now=now, sending=False
        )
    if mailer.is_mailing(message) and await consent.opted_out_clients([conversation.client_id]):  # type: ignore[attr-defined]
        return await _fail(message, mailer.OPTED_OUT, permanent=True, now=now, sending=False)
    if not channel.is_active:
        return await _fail(
            message, "the channel is disabled", permanent=True, now=now, sending=False
        )
    adapter = await adapters.get(channel)
    outbound = await _outbound(message, channel, identity)
    await pacer.wait(
        channel.kind.value, channel.id, identity.external_id, per_second=channel_rate(channel)
    )
    marked = await Message.filter(
        id=message.id,
        source_id__isnull=True,
        status__in=[MessageStatus.QUEUED, MessageStatus.FAILED],
    ).update(status=MessageStatus.SENDING, claimed_until=clock.now() + LEASE)
    if not marked:
        return "skipped"
    idempotent = channel.kind in IDEMPOTENT
    try:
        source_id = await adapter.send(outbound)
    except SendError as exc:
        if exc.unsubscribed:
            # Blocked by the customer: mark them as the platform's unsubscribe event would;
            # replies are refused until they write again.
            await ChannelIdentity.filter(id=identity.id).update(subscribed=False)
        if exc.bounced:  # the address is refused for good: mailings skip it
            await consent.record_bounce(identity.external_id, str(exc))
        if exc.uncertain and not idempotent:
            return await _fail(message, f"{INTERRUPTED} ({exc})", permanent=True, now=clock.now())
        return await _fail(
            message, str(exc), retry_after=exc.retry_after, permanent=exc.permanent, now=clock.now()
        )
    except Exception as exc:  # a bug or an unmapped error: never lost, never repeated blindly
        log.exception("sending message %s failed", message.id)
        return await _fail(
            message, f"{INTERRUPTED} ({exc!r})", permanent=not idempotent, now=clock.now()
        )
    await _set(
        message,
        MessageStatus.SENT,
        source_id=source_id,
        sent_at=clock.now(),
        attempts=message.attempts + 1,
        last_error="",
    )
    return "sent"


async def recover_interrupted(*, now: datetime | None = None) -> int:
    """SENDING rows whose lease ended: requeue where the platform dedups, else dead-letter."""
    moment = now or clock.now()
    stuck = await Message.filter(
        status=MessageStatus.SENDING, claimed_until__lt=moment, direction=Direction.OUT
    ).prefetch_related("channel")
    for message in stuck:
        if message.channel.kind in IDEMPOTENT:
            values: dict[str, object] = {"status": MessageStatus.QUEUED, "next_attempt_at": moment}
        else:
            values = {"status": MessageStatus.DEAD, "last_error": INTERRUPTED}
        await Message.filter(
            id=message.id, status=MessageStatus.SENDING, claimed_until__lt=moment
        ).update(claimed_until=None, **values)
    return len(stuck)


DUE = "direction = {} AND status IN ({}, {}) AND source_id IS NULL AND next_attempt_at <= {}"
BATCH_SECONDS = 3.0  # a pass claims about this many seconds of each channel's pace
IN_FLIGHT = 8  # sends under way at once per channel in a worker (the pacer keeps the pace)


async def settle(*steps: Awaitable[Any]) -> list[Any]:
    """Await all of `steps` concurrently; their results, or the first failure once every
    one has ended (a send under way is finished, never abandoned half-recorded)."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


async def _due_channels(moment: datetime) -> list[Channel]:
    due = (
        await Message.filter(
            direction=Direction.OUT,
            status__in=[MessageStatus.QUEUED, MessageStatus.FAILED],
            source_id__isnull=True,
            next_attempt_at__lte=moment,
        )
        .distinct()
        .values_list("channel_id", flat=True)
    )
    return await Channel.filter(id__in=list(due)) if due else []


async def _send_channel(
    adapters: Adapters,
    pacer: Pacer,
    channel: Channel,
    limit: int,
    moment: datetime,
    until: float | None,
) -> SendReport:
    """One channel's due messages, claimed (about BATCH_SECONDS of its pace, at most
    `limit`) and sent: a conversation's in order, different conversations concurrently;
    claimed again while some are due and the loop's clock is before `until`."""
    total = SendReport()
    loop = asyncio.get_running_loop()
    while True:
        report = await _send_batch(adapters, pacer, channel, limit, moment)
        total.sent += report.sent
        total.failed += report.failed
        total.dead += report.dead
        busy = report.sent + report.failed + report.dead
        if until is None or not busy or loop.time() > until:
            return total
        moment = clock.now()


async def _send_batch(
    adapters: Adapters, pacer: Pacer, channel: Channel, limit: int, moment: datetime
) -> SendReport:
    per_second = channel_rate(channel) or RATES.get(channel.kind.value, DEFAULT)[0]
    rows = await claim_rows(
        "messages",
        DUE + " AND channel_id = {}",
        [Direction.OUT.value, MessageStatus.QUEUED.value, MessageStatus.FAILED.value, moment,
         channel.id],
        columns=("id", "conversation_id"),
        lease_column="claimed_until",
        lease=LEASE,
        order_by="next_attempt_at, id",
        limit=max(1, min(limit, int(per_second * BATCH_SECONDS))),
        now=moment,
    )  # fmt: skip
    lanes: dict[int, list[int]] = {}
    for message_id, conversation_id in sorted((int(i), int(c)) for i, c in rows):
        lanes.setdefault(conversation_id, []).append(message_id)
    report = SendReport()
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def lane(message_ids: list[int]) -> None:
        for message_id in message_ids:
            async with gate:
                outcome = await _send_one(adapters, pacer, message_id)
            if outcome in ("sent", "failed", "dead"):
                setattr(report, outcome, getattr(report, outcome) + 1)

    await settle(*(lane(ids) for ids in lanes.values()))
    return report


async def send_due(
    adapters: Adapters,
    pacer: Pacer,
    *,
    limit: int = 200,
    now: datetime | None = None,
    budget: float = 0.0,
) -> SendReport:
    """Claim due outgoing messages and send them: each channel on its own (a slow mailbox
    does not hold back a messenger), several at once within a channel; the pacer spaces
    them as the platform allows. With a `budget` (seconds) each channel claims again
    while it finds work, until the budget is spent; without, one batch per channel."""
    moment = now or clock.now()
    until = asyncio.get_running_loop().time() + budget if budget else None
    channels = await _due_channels(moment)
    reports: list[SendReport] = await settle(
        *(_send_channel(adapters, pacer, c, limit, moment, until) for c in channels)
    )
    return SendReport(
        sent=sum(r.sent for r in reports),
        failed=sum(r.failed for r in reports),
        dead=sum(r.dead for r in reports),
    )


async def retry(message_id: int) -> Message:
    """Put a failed or dead-lettered message back in the queue, attempts reset."""
    message = await Message.filter(id=message_id, direction=Direction.OUT).first()
    if message is None:
        raise NotFound()
    if message.source_id is not None or message.status not in (
        MessageStatus.DEAD,
        MessageStatus.FAILED,
    ):
        raise Conflict(N_("This message has already been sent"), code="already_sent")
    await Message.filter(id=message.id).update(
        status=MessageStatus.QUEUED,
        attempts=0,
        next_attempt_at=clock.now(),
        claimed_until=None,
        last_error="",
    )
    return await Message.get(id=message.id)


async def dead_letters(limit: int = 100) -> list[Message]:
    return await Message.filter(status=MessageStatus.DEAD).order_by("-id").limit(limit)

"""Raw events: stored exactly as received before they are acknowledged, then processed.

A webhook body or polled update becomes a `RawEvent` row first. Workers claim pending rows
under a lease (exactly once across processes, see `crm.claims`), parse them with the
channel's adapter and hand the events to the hub. A body that cannot be parsed is kept as
UNPARSED for inspection (`crmhub inbox unparsed`); one whose processing keeps failing is
retried a few times and then kept the same way. A worker that dies mid-way leaves its rows
to be claimed again when the lease ends; the hub's unique `(channel, source_id)` makes the
second pass change nothing."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeGuard

from crm import clock
from crm.claims import claim_rows
from crm.models import Channel, ChannelIdentity, RawEvent, RawEventStatus
from inbox import batch, hub, lead_sources
from inbox.channels.base import (
    ButtonPress,
    ChannelAdapter,
    InboundEvent,
    InboundMessage,
    StatusUpdate,
)
from inbox.channels.registry import Adapters

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
BATCH = 200


def _sender(events: list[InboundEvent]) -> str:
    for event in events:
        if not isinstance(event, StatusUpdate):
            return event.external_user_id
    return ""


async def _parse(
    adapters: Adapters, channels: dict[int, Channel], raw: Raw
) -> list[InboundEvent] | None:
    """The events of a raw body; None (and the row kept as UNPARSED) when it has none."""
    channel = channels.get(raw.channel_id)
    if channel is None:
        await _finish(raw, RawEventStatus.UNPARSED, "channel is gone")
        return None
    adapter = await adapters.get(channel)
    try:
        return [hub.keyed(e) for e in adapter.parse(raw.body.encode("utf-8"))]
    except Exception as exc:  # hostile input breaks parsers in many ways (overflow, recursion)
        await _finish(raw, RawEventStatus.UNPARSED, f"unparsable: {exc!r}")
        return None


async def _finish(raw: Raw, status: RawEventStatus, error: str) -> None:
    await RawEvent.filter(id=raw.id).update(
        status=status, error=error[:2000], processed_at=clock.now(), claimed_until=None
    )


async def _fail(raw: Raw, exc: BaseException) -> None:
    attempts = raw.attempts + 1
    log.error("raw event %s failed (attempt %s)", raw.id, attempts, exc_info=exc)
    if attempts >= MAX_ATTEMPTS:
        await RawEvent.filter(id=raw.id).update(
            status=RawEventStatus.UNPARSED,
            attempts=attempts,
            error=f"failed {attempts} times: {exc!r}"[:2000],
            processed_at=clock.now(),
            claimed_until=None,
        )
    else:  # the lease runs out and another pass takes it
        await RawEvent.filter(id=raw.id).update(attempts=attempts, error=repr(exc)[:2000])


@dataclass(frozen=True)
class Raw:
    """A claimed raw event: what processing needs of the row."""

    id: int
    channel_id: int
    body: str
    attempts: int


Work = list[tuple[Raw, list[InboundEvent]]]


async def _run_group(channel: Channel, work: Work) -> None:
    for raw, parsed in work:  # one sender's events in the order they came
        try:
            for event in parsed:
                await hub.ingest(channel, event)
        except Exception as exc:
            await _fail(raw, exc)
            return  # keep the order: the rest of this sender's events wait for the retry
        await _finish(raw, RawEventStatus.PROCESSED, "")


async def _with_names(
    adapter: ChannelAdapter, channel: Channel, parsed: list[InboundEvent]
) -> list[InboundEvent]:
    """Platforms whose events carry no sender name (VK) are asked once per batch for the
    names of senders not known yet, so new leads get a person's name, not an id."""
    profiles = getattr(adapter, "profiles", None)
    nameless = {
        e.external_user_id for e in parsed if isinstance(e, InboundMessage) and not e.profile_name
    }
    if profiles is None or not nameless:
        return parsed
    known = await ChannelIdentity.filter(
        channel_id=channel.id, external_id__in=list(nameless)
    ).values_list("external_id", flat=True)
    wanted = sorted(nameless - {str(k) for k in known})
    names: dict[str, str] = await profiles(wanted) if wanted else {}
    return [
        replace(e, profile_name=names[e.external_user_id])
        if isinstance(e, InboundMessage) and not e.profile_name and e.external_user_id in names
        else e
        for e in parsed
    ]


def _sourceless(event: InboundEvent) -> TypeGuard[InboundMessage]:
    return isinstance(event, InboundMessage) and not event.lead_source and not event.edit


async def _with_sources(adapter: ChannelAdapter, channel: Channel, work: Work) -> Work:
    """Platforms that pass a deep link's parameter before the first message (Viber's
    `conversation_started`) get it looked up in the raw store for the messages of senders
    not known yet, so the client they become gets it as lead source."""
    context_of = getattr(adapter, "context_of", None)
    first: dict[str, int] = {}  # sender -> the raw event of their first message here
    for raw, events in work:
        for event in events:
            if _sourceless(event):
                first.setdefault(event.external_user_id, raw.id)
    if context_of is None or not first:
        return work
    known = await ChannelIdentity.filter(
        channel_id=channel.id, external_id__in=list(first)
    ).values_list("external_id", flat=True)
    for external_id in known:
        first.pop(str(external_id), None)
    sources = await lead_sources.viber_contexts(channel.id, first, context_of) if first else {}
    if not sources:
        return work
    return [
        (
            raw,
            [
                replace(e, lead_source=sources[e.external_user_id])
                if _sourceless(e) and e.external_user_id in sources
                else e
                for e in events
            ],
        )
        for raw, events in work
    ]


async def _acknowledge_presses(adapter: ChannelAdapter, work: Work) -> None:
    """Platforms that wait for a button press to be acknowledged (Telegram's
    answerCallbackQuery stops the button's spinner) are told, once it is processed; a
    failure (a press too old to answer) only costs the spinner."""
    acknowledge = getattr(adapter, "acknowledge_press", None)
    if acknowledge is None:
        return
    for _, events in work:
        for event in events:
            if isinstance(event, ButtonPress):
                try:
                    await acknowledge(event)
                except Exception as exc:  # the platform's refusal, the network
                    log.info("button press %s not acknowledged: %r", event.source_id, exc)


async def _run_channel(adapters: Adapters, channel: Channel, work: Work, concurrency: int) -> None:
    """The whole batch at once (known senders in one transaction); if that fails, sender
    by sender so one bad event holds up only its own sender."""
    adapter = await adapters.get(channel)
    work = await _with_sources(adapter, channel, work)
    try:
        parsed = [event for _, events in work for event in events]
        parsed = await _with_names(adapter, channel, parsed)
        await batch.ingest_many(channel, parsed)
    except Exception:
        log.warning(  # with the cause: a fast path failing every time must show (bench.ingest)
            "batch of %s events on channel %s failed; one by one",
            len(work),
            channel.id,
            exc_info=True,
        )
    else:
        await RawEvent.filter(id__in=[raw.id for raw, _ in work]).update(
            status=RawEventStatus.PROCESSED, error="", processed_at=clock.now(), claimed_until=None
        )
        await _acknowledge_presses(adapter, work)
        return
    groups: dict[str, Work] = defaultdict(list)
    for raw, parsed in work:
        groups[_sender(parsed)].append((raw, parsed))
    semaphore = asyncio.Semaphore(concurrency)

    async def run(group: Work) -> None:
        async with semaphore:
            await _run_group(channel, group)

    await asyncio.gather(*(run(g) for g in groups.values()))
    await _acknowledge_presses(adapter, work)


async def process_pending(adapters: Adapters, *, limit: int = BATCH, concurrency: int = 8) -> int:
    """Claim and process pending raw events; returns how many were claimed."""
    claimed = await claim_rows(
        "raw_events",
        "status = {}",
        [RawEventStatus.PENDING.value],
        columns=("id", "channel_id", "body", "attempts"),
        lease_column="claimed_until",
        lease=LEASE,
        order_by="id",
        limit=limit,
    )
    if not claimed:
        return 0
    rows = sorted(
        (Raw(int(r[0]), int(r[1] or 0), str(r[2]), int(r[3])) for r in claimed),
        key=lambda r: r.id,
    )
    channel_ids = {r.channel_id for r in rows}
    channels = {c.id: c for c in await Channel.filter(id__in=list(channel_ids))}
    by_channel: dict[int, Work] = defaultdict(list)
    for raw in rows:
        parsed = await _parse(adapters, channels, raw)
        if parsed is not None:
            by_channel[raw.channel_id].append((raw, parsed))
    for channel_id, work in by_channel.items():
        try:
            await _run_channel(adapters, channels[channel_id], work, concurrency)
        except Exception:  # one channel's trouble must not hold up the others
            log.exception("processing channel %s failed; its events wait for the lease", channel_id)
    return len(rows)

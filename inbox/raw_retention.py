"""Retention of the raw store: processed webhook bodies and polled updates are deleted once
they are older than the retention (CRMHUB_RAW_EVENT_RETENTION_DAYS).

What stays however old: PENDING rows (not handled yet) and UNPARSED ones (kept for
inspection, `crmhub inbox unparsed`; an admin deletes them deliberately).

Redelivered webhooks do not depend on these rows: the hub recognizes a repeat by the
message's unique `(channel, source_id)`, so a body redelivered after its first copy was
deleted still makes no second message. Viber's opened chats do: a customer's first message
looks back in the raw store for their latest `conversation_started`
(`inbox.lead_sources.viber_contexts`, within CONTEXT_WINDOW of its arrival), so such bodies
are kept that long even when the retention is shorter."""

from __future__ import annotations

import logging
from datetime import timedelta

from tortoise.expressions import Q

from crm import clock
from crm.import_files import LONGEST_RETENTION_DAYS
from crm.models import RawEvent, RawEventStatus
from inbox.lead_sources import CONTEXT_WINDOW

log = logging.getLogger(__name__)

BATCH = 1000  # ids per DELETE: a large backlog never holds one long transaction
# What `lead_sources.OPENED_PREDICATE` looks for in a body.
CHAT_OPENED = "conversation_started"


async def forget_processed_events(*, keep_days: int, batch: int = BATCH) -> int:
    """Delete the raw events processed more than `keep_days` ago, `batch` at a time, and
    return how many went. Pending and unparsed events stay, and so do opened Viber chats
    the lead-source lookup may still read."""
    now = clock.now()
    old = RawEvent.filter(
        status=RawEventStatus.PROCESSED,
        processed_at__lt=now - timedelta(days=min(keep_days, LONGEST_RETENTION_DAYS)),
    ).exclude(Q(body__contains=CHAT_OPENED, created_at__gte=now - CONTEXT_WINDOW))
    deleted = 0
    while True:
        ids = await old.order_by("id").limit(batch).values_list("id", flat=True)
        if ids:
            deleted += await RawEvent.filter(id__in=ids).delete()
        if len(ids) < batch:
            break
    if deleted:
        log.info("raw events processed over %s days ago deleted: %s", keep_days, deleted)
    return deleted

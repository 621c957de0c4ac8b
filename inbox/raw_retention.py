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

from crm import clock
from crm.imports.files import LONGEST_RETENTION_DAYS
from crm.models import RawEvent
from crm.rows import moment, query
from crm.sql_indexes import CHAT_OPENED_PREDICATE
from inbox.lead_sources import CONTEXT_WINDOW

log = logging.getLogger(__name__)

BATCH = 1000  # ids per DELETE: a large backlog never holds one long transaction
# Oldest first along the partial index raw_events_processed (crm/sql_indexes.py, migration
# 0005), which 'processed' spelled out lets the planner use even in a generic plan; the
# scan stops at the cutoff instead of walking every processed row still kept.
_OLDEST = (
    "SELECT id FROM raw_events WHERE status = 'processed' AND processed_at < $1"
    f" AND NOT ({CHAT_OPENED_PREDICATE} AND created_at >= $2)"
    " ORDER BY processed_at LIMIT $3"
)


async def forget_processed_events(*, keep_days: int, batch: int = BATCH) -> int:
    """Delete the raw events processed more than `keep_days` ago, `batch` at a time, and
    return how many went. Pending and unparsed events stay, and so do opened Viber chats
    the lead-source lookup may still read."""
    now = clock.now()
    cutoff = now - timedelta(days=min(keep_days, LONGEST_RETENTION_DAYS))
    params = [moment(cutoff), moment(now - CONTEXT_WINDOW), batch]
    deleted = 0
    while True:
        ids = [row[0] for row in await query(_OLDEST, params)]
        if ids:
            deleted += await RawEvent.filter(id__in=ids).delete()
        if len(ids) < batch:
            break
    if deleted:
        log.info("raw events processed over %s days ago deleted: %s", keep_days, deleted)
    return deleted

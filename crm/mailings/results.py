"""What a mailing did: per recipient, the outbox message's status is the result (queued,
sent, delivered, seen, failed with its reason), or why the recipient was skipped (opted
out since the start, bounced, blocked, cancelled); and who replied.

A customer's message within the mailing's `reply_days` after it reached them is its
reply: `attribute_replies` marks the recipient replied (with the inquiry the message
opened or joined) and gives a client without a lead source the mailing as one, so the
sources report counts what the mailing brought."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crm import clock
from crm.kept import Kept
from crm.mailings import consent, survey_answers
from crm.models import Client, Mailing, MailingRecipient
from crm.rows import moment, query

LOOK_BACK = timedelta(days=60)  # no mailing waits longer for replies (reply_days <= 60)
LEAD_SOURCE_MAX = 200
RECENT_TTL = 5.0  # seconds

# result keys, in the order pages show them
STATES = ("queued", "sent", "delivered", "seen", "failed", "opted_out", "skipped", "cancelled")


@dataclass
class Results:
    total: int = 0
    states: Counter[str] = field(default_factory=Counter)
    replied: int = 0
    by_channel: dict[str, Counter[str]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    failures: list[tuple[str, int]] = field(default_factory=list)  # the commonest errors

    @property
    def done_share(self) -> float:
        """How much of the mailing has left the queue (0..1)."""
        return 1.0 if not self.total else 1.0 - self.states["queued"] / self.total


def _state(skipped: str, status: str | None, error: str) -> str:
    if skipped == "cancelled":
        return "cancelled"
    if skipped == "opted_out":
        return "opted_out"
    if skipped:
        return "skipped"
    if status is None or status in ("queued", "sending"):
        return "queued"
    if status in ("dead", "failed"):
        if status == "failed":
            return "queued"  # will be retried
        return "opted_out" if error == consent.OPTED_OUT_ERROR else "failed"
    return status  # sent, delivered, seen


async def results(mailing: Mailing) -> Results:
    rows = await query(
        "SELECT h.kind, r.skipped, m.status, COALESCE(m.last_error, ''),"
        " COUNT(*), COUNT(r.replied_at)"
        " FROM mailing_recipients r JOIN channels h ON h.id = r.channel_id"
        " LEFT JOIN messages m ON m.id = r.message_id WHERE r.mailing_id = $1"
        " GROUP BY h.kind, r.skipped, m.status, COALESCE(m.last_error, '')",
        [mailing.id],
    )
    result = Results()
    failures: Counter[str] = Counter()
    for kind, skipped, status, error, count, replied in rows:
        state = _state(str(skipped or ""), None if status is None else str(status), str(error))
        result.total += int(count)
        result.replied += int(replied)
        result.states[state] += int(count)
        result.by_channel.setdefault(str(kind), Counter())[state] += int(count)
        if skipped and skipped not in ("cancelled", "opted_out"):
            result.skipped[str(skipped)] += int(count)
        if state == "failed":
            failures[str(error)[:300]] += int(count)
    result.failures = failures.most_common(10)
    return result


async def _read_recent(_: None) -> bool:
    return await Mailing.filter(started_at__gte=clock.now() - LOOK_BACK).exists()


# Whether any mailing started within LOOK_BACK: without one, a customer's message costs no
# query here (the intake's hot path). Kept a few seconds; a start forgets it in its process.
_recent = Kept(_read_recent, ttl=RECENT_TTL, model=Mailing, changed_by=(Mailing,))


def forget_recent() -> None:
    _recent.forget()


async def attribute_replies(
    replies: Iterable[tuple[int, int, int | None]], *, now: datetime | None = None
) -> int:
    """(client id, message id, inquiry id or None) of customers' new messages: each client's
    latest mailing that reached them within its reply_days and has no reply yet gets this
    one. How many were attributed. Survey answers among them are recorded first
    (`crm.mailings.survey_answers.capture`)."""
    wanted = {client_id: (message_id, inquiry_id) for client_id, message_id, inquiry_id in replies}
    if not wanted or not await _recent.get(None):
        return 0
    await survey_answers.capture(((c, m) for c, (m, _) in wanted.items()), now=now)
    at = now or clock.now()
    ids = sorted(wanted)
    marks = ", ".join(f"${n}" for n in range(2, len(ids) + 2))
    rows = await query(
        "SELECT r.id, r.client_id, r.mailing_id, g.reply_days, m.sent_at, g.name"
        " FROM mailing_recipients r JOIN messages m ON m.id = r.message_id"
        " JOIN mailings g ON g.id = r.mailing_id"
        f" WHERE r.client_id IN ({marks}) AND r.replied_at IS NULL"
        " AND m.sent_at IS NOT NULL AND m.sent_at >= $1"
        " ORDER BY m.sent_at DESC",
        [moment(at - LOOK_BACK), *ids],
    )
    done: set[int] = set()
    for recipient_id, client_id, _, reply_days, sent_at, name in rows:
        client_id = int(client_id)
        if client_id in done:
            continue
        sent = sent_at if isinstance(sent_at, datetime) else datetime.fromisoformat(str(sent_at))
        if at - sent > timedelta(days=int(reply_days)):
            continue
        done.add(client_id)
        _, inquiry_id = wanted[client_id]
        await MailingRecipient.filter(id=int(recipient_id), replied_at__isnull=True).update(
            replied_at=at, inquiry_id=inquiry_id
        )
        await Client.filter(id=client_id, lead_source="").update(
            lead_source=f"{name}"[:LEAD_SOURCE_MAX]
        )
    return len(done)

"""Lead sources from deep links: where a customer who first writes to us came from.

Each platform passes the parameter of the link the customer followed differently:

- Telegram: `t.me/<bot>?start=PAYLOAD` makes the customer's first message `/start PAYLOAD`
  (the adapter reads it; the hub shows that message as "customer opened the chat").
- VK: `vk.me/<community>?ref=R&ref_source=S` puts `ref`/`ref_source` on that message.
- Viber: `viber://pa?chatURI=<bot>&context=C` puts `context` on `conversation_started`,
  which comes *before* the first message and, from a customer not subscribed yet, makes
  no message at all. Its body is already kept in the raw store (stored before it was
  acknowledged), so when the first message of an unknown sender is processed, the intake
  looks back there for that sender's latest `conversation_started` with a context
  (`viber_contexts`): durable across restarts and processes, and a redelivered callback
  only finds the same context again.

The source is set only on the client this first contact creates; an existing client's
`lead_source` is never changed. `clean` keeps it one short, printable line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, timedelta

from tortoise import connections

from crm import clock
from crm.i18n import N_
from crm.models import Client
from crm.rows import query

# A customer's `/start` as managers see it: stored so by inbox.hub in the company's language,
# shown by the bot in each manager's.
CHAT_OPENED = N_("Customer opened the chat")
CHAT_OPENED_FROM = N_("Customer opened the chat (source: {source})")

LEAD_SOURCE_MAX: int = Client._meta.fields_map["lead_source"].max_length  # type: ignore[attr-defined]

# How long an opened Viber chat is remembered for the customer's first message.
CONTEXT_WINDOW = timedelta(days=30)
# The raw bodies `viber_contexts` looks at; migration 0003 indexes exactly these rows
# (a partial index matches only when the query repeats its predicate literally).
OPENED_PREDICATE = "body LIKE '%conversation_started%'"

_SPACES = re.compile(r"\s+")
_SAFE_RUN = re.compile(r"[A-Za-z0-9]+")


def clean(value: object) -> str | None:
    """A deep-link parameter as a lead source: control and format characters dropped,
    whitespace collapsed, cut to the column's length; None when nothing is left."""
    if value is None:
        return None
    text = "".join(
        " " if ch.isspace() else ch
        for ch in str(value)
        if ch.isspace() or not unicodedata.category(ch).startswith("C")
    )
    text = _SPACES.sub(" ", text).strip()[:LEAD_SOURCE_MAX].rstrip()
    return text or None


def _sender_hint(user_id: str) -> str:
    """The longest run of letters and digits of a Viber user id: a substring every JSON
    spelling of the id contains (`/` may come escaped) and that LIKE takes literally."""
    runs = _SAFE_RUN.findall(user_id)
    return max(runs, key=len) if runs else ""


_LOOKUP = f"""
SELECT id, body FROM raw_events
WHERE channel_id = $1 AND {OPENED_PREDICATE} AND created_at >= $2 AND id < $3
    AND body LIKE $4
ORDER BY created_at DESC, id DESC LIMIT 20
"""


async def viber_contexts(
    channel_id: int,
    before: Mapping[str, int],
    context_of: Callable[[bytes], tuple[str, str] | None],
) -> dict[str, str]:
    """The deep-link context of each sender in `before` (sender -> the id of the raw event
    of their message): from their latest `conversation_started` stored before that event
    and within CONTEXT_WINDOW. `context_of` reads (sender, context) from a raw body."""
    found: dict[str, str] = {}
    since = clock.now() - CONTEXT_WINDOW
    if connections.get("default").capabilities.dialect == "sqlite":
        since_param: object = since.astimezone(UTC).isoformat(" ")  # how SQLite rows hold it
    else:
        since_param = since
    for sender, raw_id in before.items():
        hint = _sender_hint(sender)
        if not hint:
            continue
        rows = await query(_LOOKUP, [channel_id, since_param, raw_id, f"%{hint}%"])
        for _, body in rows:  # newest first: the latest opening with a context counts
            opened = context_of(str(body).encode("utf-8"))
            if opened is not None and opened[0] == sender and (source := clean(opened[1])):
                found[sender] = source
                break
    return found

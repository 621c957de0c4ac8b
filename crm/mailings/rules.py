"""Which channel reaches each addressee, and who is removed and why.

Consent first: an opted-out client is never mailed; an advertising mailing reaches only
clients with a recorded consent. Then the platforms' rules, per channel: Telegram only
customers who wrote to the bot and did not block it, VK only where messages are allowed,
Viber only subscribed users (all three: the identity's `subscribed`, kept by the inbox from
the platforms' events and refusals), email only to an address that did not bounce, through
an active mailbox. In "auto" mode the client's messengers are tried most recent
conversation first, then email; otherwise only the chosen channel. Key persons go by email.

`plan` answers for the whole audience with a few reads per 5,000 clients."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from crm.mailings import consent
from crm.mailings.audience import Addressees
from crm.models import (
    Channel,
    ChannelKind,
    ClientContact,
    ContactKind,
    ContactPerson,
    MailingKind,
)
from crm.rows import query

MESSENGERS = (ChannelKind.TELEGRAM, ChannelKind.VK, ChannelKind.VIBER)
MODES = ("auto", *(k.value for k in ChannelKind))
CHUNK = 5000

# Reasons, as stored and counted (labels in crm.labels.MAILING_REASONS).
OPTED_OUT = "opted_out"
NO_CONSENT = "no_consent"
NO_CHANNEL = "no_channel"
NOT_WRITTEN = "not_written"  # never wrote to this messenger's bot or community
BLOCKED = "blocked"  # Telegram: blocked the bot
NOT_ALLOWED = "not_allowed"  # VK: messages not allowed
NOT_SUBSCRIBED = "not_subscribed"  # Viber: unsubscribed
EMAIL_ABSENT = "email_absent"
EMAIL_BOUNCED = "email_bounced"
NO_MAILBOX = "no_mailbox"  # no active email channel
REFUSED_BY_PLATFORM = {
    ChannelKind.TELEGRAM: BLOCKED,
    ChannelKind.VK: NOT_ALLOWED,
    ChannelKind.VIBER: NOT_SUBSCRIBED,
}


@dataclass(frozen=True)
class Planned:
    client_id: int
    person_id: int | None
    channel_id: int
    kind: ChannelKind
    identity_id: int | None  # messengers
    address: str  # email


@dataclass
class Plan:
    audience: int = 0
    recipients: list[Planned] = field(default_factory=list)
    removed: Counter[str] = field(default_factory=Counter)
    # per channel kind: recipients on it, and who could not be reached on it and why
    by_channel: dict[str, Counter[str]] = field(default_factory=dict)

    def count(self, kind: str, what: str) -> None:
        self.by_channel.setdefault(kind, Counter())[what] += 1

    @property
    def channel_totals(self) -> dict[str, int]:
        return {k: c["recipients"] for k, c in self.by_channel.items()}


@dataclass(frozen=True)
class _Identity:
    id: int
    channel_id: int
    kind: ChannelKind
    subscribed: bool
    last: str  # the conversation's last message moment as sortable text ("" = none)


def _moment(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


async def _identities(client_ids: list[int]) -> dict[int, list[_Identity]]:
    marks = ", ".join(f"${n}" for n in range(1, len(client_ids) + 1))
    rows = await query(
        "SELECT i.id, i.client_id, i.channel_id, h.kind, i.subscribed,"
        " (SELECT MAX(v.last_message_at) FROM conversations v WHERE v.identity_id = i.id)"
        " FROM channel_identities i JOIN channels h ON h.id = i.channel_id"
        f" WHERE h.is_active AND h.kind <> 'email' AND i.client_id IN ({marks})",
        client_ids,
    )
    found: dict[int, list[_Identity]] = {}
    for row in rows:
        found.setdefault(int(row[1]), []).append(
            _Identity(
                int(row[0]), int(row[2]), ChannelKind(str(row[3])), bool(row[4]), _moment(row[5])
            )
        )
    for identities in found.values():
        identities.sort(key=lambda i: (i.last, i.id), reverse=True)
    return found


async def _emails(client_ids: list[int]) -> dict[int, str]:
    rows = (
        await ClientContact.filter(client_id__in=client_ids, kind=ContactKind.EMAIL)
        .order_by("-position", "-id")
        .values_list("client_id", "value")
    )
    return {int(str(c)): str(v) for c, v in rows}  # the first position wins (written last)


async def mailbox() -> Channel | None:
    return await Channel.filter(kind=ChannelKind.EMAIL, is_active=True).order_by("id").first()


async def plan(addressees: Addressees, *, kind: MailingKind, mode: str) -> Plan:
    result = Plan()
    email_channel = await mailbox()
    ids = addressees.client_ids
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        result.audience += len(chunk) + sum(len(addressees.persons.get(c, ())) for c in chunk)
        opted = await consent.opted_out_clients(chunk)
        allowed = (
            await consent.consented_clients(chunk) if kind == MailingKind.ADVERTISING else None
        )
        identities = await _identities(chunk)
        emails = await _emails(chunk)
        person_ids = [p for c in chunk for p in addressees.persons.get(c, ())]
        persons = (
            {p.id: p for p in await ContactPerson.filter(id__in=person_ids)} if person_ids else {}
        )
        bounced = await consent.bounced(
            [*emails.values(), *(p.email or "" for p in persons.values())]
        )
        for client_id in chunk:
            weight = 1 + len(addressees.persons.get(client_id, ()))
            if client_id in opted:
                result.removed[OPTED_OUT] += weight
                continue
            if allowed is not None and client_id not in allowed:
                result.removed[NO_CONSENT] += weight
                continue
            _place(
                result,
                client_id,
                identities.get(client_id, []),
                emails.get(client_id),
                bounced,
                email_channel,
                mode,
            )
            for person_id in addressees.persons.get(client_id, ()):
                person = persons.get(person_id)
                address = (person.email or "") if person else ""
                _place(
                    result,
                    client_id,
                    [],
                    address or None,
                    bounced,
                    email_channel,
                    ChannelKind.EMAIL.value,
                    person_id=person_id,
                )
    return result


def _place(
    result: Plan,
    client_id: int,
    identities: list[_Identity],
    email: str | None,
    bounced: set[str],
    email_channel: Channel | None,
    mode: str,
    *,
    person_id: int | None = None,
) -> None:
    """Put one addressee on the first channel that may reach them, or count them removed."""
    order: list[ChannelKind] = (
        [*MESSENGERS, ChannelKind.EMAIL] if mode == "auto" else [ChannelKind(mode)]
    )
    messengers = [i for i in identities if i.kind in order]
    tried: set[ChannelKind] = set()
    last = NO_CHANNEL
    for identity in messengers:  # most recent conversation first
        if identity.subscribed:
            result.recipients.append(
                Planned(client_id, person_id, identity.channel_id, identity.kind, identity.id, "")
            )
            result.count(identity.kind.value, "recipients")
            return
        tried.add(identity.kind)
        last = REFUSED_BY_PLATFORM[identity.kind]
        result.count(identity.kind.value, last)
    for kind in order:
        if kind in MESSENGERS and kind not in tried and not any(i.kind == kind for i in messengers):
            last = NOT_WRITTEN
            result.count(kind.value, last)
    if ChannelKind.EMAIL in order:
        reason = None
        if not email:
            reason = EMAIL_ABSENT
        elif email.lower() in bounced:
            reason = EMAIL_BOUNCED
        elif email_channel is None:
            reason = NO_MAILBOX
        if reason is None and email_channel is not None and email:
            result.recipients.append(
                Planned(client_id, person_id, email_channel.id, ChannelKind.EMAIL, None, email)
            )
            result.count(ChannelKind.EMAIL.value, "recipients")
            return
        last = reason or NO_MAILBOX
        result.count(ChannelKind.EMAIL.value, last)
    result.removed[NO_CHANNEL if mode == "auto" else last] += 1

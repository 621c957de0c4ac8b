"""Advertising consent and the opt-out, honoured forever.

A client's consent to advertising is recorded with its date and source (an import, a form,
the client's own "yes" in a chat). An opt-out ("стоп" in a messenger, the one-click link of
a mailing's email, or a manager recording the client's wish) is kept for good: every later
mailing skips the client, informational ones included, while managers' own replies still
reach them. A merge keeps the opt-out of either client (`opted_out_clients` looks at the
clients merged into one too).

Email addresses our mail did not reach are kept as bounced: mailings skip them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from crm import clock, normalize
from crm.access import access_client
from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models import ClientConsent, ConsentSource, EmailBounce, User
from crm.rows import query

# What a customer writes to stop mailings: compared after trimming, lower case, without
# the punctuation people add ("Стоп!", "/stop@ShopBot" is Telegram's group form).
STOP_WORDS = frozenset({"стоп", "отписаться", "/stop", "stop", "unsubscribe", "отписка"})
STOP_MAX = 24  # longer texts are never a stop word: the hot path checks only the length
_TRIM = " \t\r\n.!?,;:'\"«»()"

# The outbox's last_error of a mailing's message whose client opted out before it went.
OPTED_OUT_ERROR = "the client unsubscribed from mailings"

CONFIRMATION = N_(
    "You have unsubscribed from our mailings and will not receive them again. "
    "Our managers can still answer your messages."
)


def is_stop(text: str) -> bool:
    """Whether a customer's message asks to stop mailings (cheap: length first)."""
    if not text or len(text) > STOP_MAX:
        return False
    word = text.strip(_TRIM).lower().replace("ё", "е")
    return word in STOP_WORDS or word.split("@", 1)[0] == "/stop"


@dataclass(frozen=True)
class Consent:
    client_id: int
    consented_at: datetime | None = None
    source: ConsentSource | None = None
    opted_out_at: datetime | None = None
    opted_out_via: str = ""

    @property
    def advertising_allowed(self) -> bool:
        return self.consented_at is not None and self.opted_out_at is None


async def _row(client_id: int) -> ClientConsent:
    row = await ClientConsent.filter(client_id=client_id).first()
    if row is not None:
        return row
    try:
        return await ClientConsent.create(client_id=client_id)
    except IntegrityError:  # another request made it meanwhile
        return await ClientConsent.get(client_id=client_id)


async def consent_of(client_id: int) -> Consent:
    row = await ClientConsent.filter(client_id=client_id).first()
    if row is None:
        return Consent(client_id)
    return Consent(client_id, row.consented_at, row.source, row.opted_out_at, row.opted_out_via)


async def record_consent(
    client_id: int,
    *,
    source: ConsentSource | str,
    actor: User | None,
    at: datetime | None = None,
) -> Consent:
    """The client agreed to advertising (`at`, default now). After an opt-out only the
    client's own "yes" in a chat lifts it; other sources are refused."""
    if actor is not None:
        await access_client(actor, client_id)
    try:
        source = ConsentSource(source)
    except ValueError:
        raise ValidationFailed.field("source", N_("Choose one of the options")) from None
    moment = at or clock.now()
    if moment > clock.now():
        raise ValidationFailed.field("consented_at", N_("The date is in the future"))
    row = await _row(client_id)
    if row.opted_out_at is not None and source != ConsentSource.CHAT:
        raise ValidationFailed.field(
            "source",
            N_("The client unsubscribed from mailings: only their own consent in a chat lifts it"),
        )
    await ClientConsent.filter(id=row.id).update(
        consented_at=moment,
        source=source,
        recorded_by_id=actor.id if actor else None,
        opted_out_at=None,
        opted_out_via="",
    )
    return await consent_of(client_id)


async def withdraw_consent(client_id: int, *, actor: User | None) -> Consent:
    """The consent is no longer there (the client withdrew it, or it was recorded by mistake)."""
    if actor is not None:
        await access_client(actor, client_id)
    await ClientConsent.filter(client_id=client_id).update(consented_at=None, source=None)
    return await consent_of(client_id)


async def opt_out(client_id: int, *, via: str, actor: User | None = None) -> bool:
    """Unsubscribe the client from mailings for good; False when they already were."""
    if actor is not None:
        await access_client(actor, client_id)
    row = await _row(client_id)
    updated = await ClientConsent.filter(id=row.id, opted_out_at__isnull=True).update(
        opted_out_at=clock.now(), opted_out_via=via[:16]
    )
    return bool(updated)


async def opted_out_clients(client_ids: Iterable[int]) -> set[int]:
    """Those of `client_ids` who opted out, themselves or as a client merged into them."""
    ids = sorted(set(client_ids))
    if not ids:
        return set()
    found: set[int] = set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
        rows = await query(
            "SELECT COALESCE(c.merged_into_id, c.id) FROM client_consents s "
            "JOIN clients c ON c.id = s.client_id "
            f"WHERE s.opted_out_at IS NOT NULL AND (c.id IN ({marks}) "
            f"OR c.merged_into_id IN ({marks}))",
            chunk,
        )
        found.update(int(r[0]) for r in rows)
    return found & set(ids)


async def consented_clients(client_ids: Iterable[int]) -> set[int]:
    """Those of `client_ids` with a recorded advertising consent (not opted out)."""
    ids = sorted(set(client_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = await ClientConsent.filter(
            client_id__in=chunk, consented_at__isnull=False, opted_out_at__isnull=True
        ).values_list("client_id", flat=True)
        found.update(int(str(r)) for r in rows)
    return found - await opted_out_clients(found)


# --- bounced addresses ------------------------------------------------------------------


def _address(raw: str) -> str:
    try:
        return normalize.email(raw)
    except ValidationFailed:
        return raw.strip().lower()


async def record_bounce(address: str, reason: str = "", *, at: datetime | None = None) -> None:
    value = _address(address)
    if not value:
        return
    moment = at or clock.now()
    updated = await EmailBounce.filter(address=value).update(
        bounced_at=moment, reason=reason[:2000]
    )
    if not updated:
        try:
            await EmailBounce.create(address=value, bounced_at=moment, reason=reason[:2000])
        except IntegrityError:
            pass  # recorded meanwhile


async def clear_bounce(address: str) -> None:
    await EmailBounce.filter(address=_address(address)).delete()


async def bounced(addresses: Iterable[str]) -> set[str]:
    values = sorted({_address(a) for a in addresses if a})
    found: set[str] = set()
    for start in range(0, len(values), 5000):
        rows = await EmailBounce.filter(address__in=values[start : start + 5000]).values_list(
            "address", flat=True
        )
        found.update(str(r) for r in rows)
    return found

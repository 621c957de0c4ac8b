"""Claims of the bot's one-off notices (`NoticeSent`): take one before sending it, mark it
sent after, give it back after a transient failure. Two workers ticking at once: the
second insert fails on the unique key and that worker skips the notice.

These are the bot's own bookkeeping, never a change of CRM data (no actor)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from tortoise.exceptions import IntegrityError

from crm import clock
from crm.models import NoticeKind, NoticeSent


async def claim(kind: NoticeKind, subject: int, day: date) -> bool:
    """Take the notice; False when it was already taken (sent, or being sent)."""
    try:
        await NoticeSent.create(kind=kind, subject=subject, day=day)
    except IntegrityError:
        return False
    return True


async def mark_sent(kind: NoticeKind, subject: int, day: date) -> None:
    await NoticeSent.filter(kind=kind, subject=subject, day=day).update(sent_at=clock.now())


async def release(kind: NoticeKind, subject: int, day: date) -> None:
    """Give an unsent claim back, so a later tick sends it."""
    await NoticeSent.filter(kind=kind, subject=subject, day=day, sent_at__isnull=True).delete()


async def taken(kind: NoticeKind, subjects: Iterable[int], days: Iterable[date]) -> set[int]:
    """Of `subjects`, those with a notice of `kind` on one of `days`."""
    wanted, on = list(set(subjects)), sorted(set(days))
    if not wanted or not on:
        return set()
    rows = await NoticeSent.filter(kind=kind, subject__in=wanted, day__in=on).values_list(
        "subject", flat=True
    )
    return {int(str(s)) for s in rows}

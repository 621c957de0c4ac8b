"""When each recipient gets a mailing: the mailing's local date and time in the
recipient's own time zone (the client's, else the company's), moved into the company's
mailing hours (e.g. 09:00-21:00 local): before them to their start that day, after them
to their start the next day; a moment already past is now (then moved likewise)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm.models import Company

DAY = 24 * 60


@dataclass(frozen=True)
class Window:
    start: int  # minutes after local midnight
    end: int

    @classmethod
    def of(cls, company: Company) -> Window:
        return cls(company.mailing_from_minute, company.mailing_until_minute)


def zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)


def due_at(
    send_on: date | None, send_minute: int | None, tz: ZoneInfo, window: Window, now: datetime
) -> datetime:
    """The UTC moment one recipient in `tz` gets the mailing."""
    local_now = now.astimezone(tz)
    wanted = _at(send_on, send_minute or 0, tz) if send_on is not None else local_now
    moment = max(wanted, local_now)
    minute = moment.hour * 60 + moment.minute
    if window.start <= window.end:
        if minute < window.start:
            moment = _at(moment.date(), window.start, tz)
        elif minute >= window.end:
            moment = _at(moment.date() + timedelta(days=1), window.start, tz)
    # A window across midnight (start > end, e.g. 22:00-02:00) is taken as given.
    elif window.end <= minute < window.start:
        moment = _at(moment.date(), window.start, tz)
    return moment.astimezone(UTC)


def in_the_past(send_on: date | None, send_minute: int | None, tz: ZoneInfo, now: datetime) -> bool:
    """Whether the chosen local moment (in the company's zone) has passed (a minute's grace)."""
    if send_on is None:
        return False
    return _at(send_on, send_minute or 0, tz) < now - timedelta(minutes=1)

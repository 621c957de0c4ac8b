"""Working time: the company's calendar (working days, holidays, the hours of a working
day, in the company's time zone) and the working minutes between two moments.

`working_minutes` is pure: the same calendar and moments always give the same figure.
A working day's window is its start and end of the day as wall-clock times in the
calendar's zone, turned into moments through `zoneinfo`, so a day on which the clocks
change counts the minutes that really passed (a 09:00-18:00 day across a spring-forward
change at 10:00 is 8 hours). Without hours set, a working day counts whole, from midnight
to midnight. A moment before `start` counts nothing (the result is never negative)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = (1, 2, 3, 4, 5)  # ISO weekdays, Monday = 1: the default working week


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str = "Europe/Moscow"
    work_days: frozenset[int] = frozenset(WEEKDAYS)  # ISO weekdays
    holidays: frozenset[date] = field(default_factory=frozenset)
    day_start: time | None = None
    day_end: time | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.work_days and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The working hours of `day` as UTC moments (whole day without hours set)."""
        zone = self.zone
        start = datetime.combine(day, self.day_start or time(0), tzinfo=zone)
        if self.day_end is None or self.day_end == time(0):
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        else:
            end = datetime.combine(day, self.day_end, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def working_minutes(start: datetime, end: datetime, calendar: WorkCalendar) -> float:
    """Working minutes from `start` to `end` (aware datetimes) under `calendar`."""
    if end <= start:
        return 0.0
    zone = calendar.zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    seconds = 0.0
    day = first
    while day <= last:
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                seconds += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return seconds / 60


def parse_days(values: Iterable[object]) -> frozenset[int]:
    """ISO weekdays from values such as "1".."7"; anything else is left out."""
    days = set()
    for value in values:
        text = str(value).strip()
        if text.isdigit() and 1 <= int(text) <= 7:
            days.add(int(text))
    return frozenset(days)


class WorkClock:
    """`working_minutes` for many pairs of moments over a known span of days: each day's
    window and the working seconds before it are computed once, so a pair costs two
    lookups (a report over a year's inquiries asks for hundreds of thousands). The
    figures equal `working_minutes`' (tests compare them)."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        self.calendar = calendar
        self.zone = calendar.zone
        self.first, self.last = first, last
        self.windows: dict[date, tuple[datetime, datetime] | None] = {}
        self.before: dict[date, float] = {}
        # by day index: the local midnights as POSIX seconds (one more after the last day),
        # the window's start and length, the working seconds before the day
        self._midnights: list[float] = []
        self._spans: list[tuple[datetime, float] | None] = []
        self._before: list[float] = []
        total, day = 0.0, first
        while day <= last + timedelta(days=1):
            self._midnights.append(datetime.combine(day, time(0), tzinfo=self.zone).timestamp())
            if day > last:
                break
            window = calendar.window(day) if calendar.is_working_day(day) else None
            self.windows[day], self.before[day] = window, total
            self._before.append(total)
            if window is not None:
                length = (window[1] - window[0]).total_seconds()
                self._spans.append((window[0], length))
                total += length
            else:
                self._spans.append(None)
            day += timedelta(days=1)

    def _worked(self, at: datetime) -> float | None:
        """Working seconds from the first day's midnight to `at` (None outside the span).
        The day is found among the local midnights by bisection: a report asks this
        hundreds of thousands of times, and a time-zone conversion each cost most of it."""
        index = bisect_right(self._midnights, at.timestamp()) - 1
        if not 0 <= index < len(self._spans):
            return None
        span, done = self._spans[index], self._before[index]
        if span is not None:
            done += min(max((at - span[0]).total_seconds(), 0.0), span[1])
        return done

    def minutes(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        a, b = self._worked(start), self._worked(end)
        if a is None or b is None:
            return working_minutes(start, end, self.calendar)
        return max(b - a, 0.0) / 60

    def minutes_from(self, start: datetime, *ends: datetime | None) -> list[float | None]:
        """`minutes(start, end)` for each end (None for None), the start looked up once."""
        a = self._worked(start)
        out: list[float | None] = []
        for end in ends:
            if end is None:
                out.append(None)
            elif end <= start:
                out.append(0.0)
            else:
                b = self._worked(end)
                if a is None or b is None:
                    out.append(working_minutes(start, end, self.calendar))
                else:
                    out.append(max(b - a, 0.0) / 60)
        return out

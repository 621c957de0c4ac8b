"""Working minutes between two moments: weekends, holidays, hours, time zones, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm import company
from crm.errors import ValidationFailed
from crm.models import User
from crm.working_time import WorkCalendar, working_minutes
from tests.crm import factories as f

MSK = ZoneInfo("Europe/Moscow")
OFFICE = WorkCalendar(
    timezone="Europe/Moscow",
    holidays=frozenset({date(2026, 1, 7)}),
    day_start=time(9),
    day_end=time(18),
)


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)  # type: ignore[misc]


def test_inside_one_working_day() -> None:
    assert working_minutes(msk(2026, 3, 2, 10, 0), msk(2026, 3, 2, 10, 7), OFFICE) == 7


def test_evening_message_answered_next_morning_counts_from_opening() -> None:
    # Monday 17:50 -> Tuesday 09:10: 10 minutes on Monday + 10 on Tuesday
    assert working_minutes(msk(2026, 3, 2, 17, 50), msk(2026, 3, 3, 9, 10), OFFICE) == 20


def test_weekend_and_holiday_count_nothing() -> None:
    # Friday 17:00 -> Monday 10:00: 60 + 60
    assert working_minutes(msk(2026, 3, 6, 17, 0), msk(2026, 3, 9, 10, 0), OFFICE) == 120
    # Saturday to Sunday
    assert working_minutes(msk(2026, 3, 7, 10, 0), msk(2026, 3, 8, 16, 0), OFFICE) == 0
    # 2026-01-07 (Wednesday) is a holiday: Tuesday 17:30 -> Thursday 9:30
    assert working_minutes(msk(2026, 1, 6, 17, 30), msk(2026, 1, 8, 9, 30), OFFICE) == 60


def test_moments_in_other_zones_are_the_same_moments() -> None:
    start = msk(2026, 3, 2, 12, 0).astimezone(UTC)
    end = msk(2026, 3, 2, 13, 30).astimezone(ZoneInfo("Asia/Vladivostok"))
    assert working_minutes(start, end, OFFICE) == 90
    # a Vladivostok office: its 9:00 is 02:00 in Moscow
    far = WorkCalendar(timezone="Asia/Vladivostok", day_start=time(9), day_end=time(18))
    assert working_minutes(msk(2026, 3, 2, 1, 0), msk(2026, 3, 2, 3, 0), far) == 60


def test_reversed_or_equal_moments_count_nothing() -> None:
    assert working_minutes(msk(2026, 3, 2, 11), msk(2026, 3, 2, 10), OFFICE) == 0
    assert working_minutes(msk(2026, 3, 2, 11), msk(2026, 3, 2, 11), OFFICE) == 0


def test_clock_change_days_count_real_minutes() -> None:
    berlin = WorkCalendar(timezone="Europe/Berlin", work_days=frozenset(range(1, 8)))
    zone = ZoneInfo("Europe/Berlin")
    # 2026-03-29: clocks go 02:00 -> 03:00, the day lasts 23 hours
    day = (datetime(2026, 3, 29, tzinfo=zone), datetime(2026, 3, 30, tzinfo=zone))
    assert working_minutes(*day, berlin) == 23 * 60
    # 2026-10-25: 25 hours
    day = (datetime(2026, 10, 25, tzinfo=zone), datetime(2026, 10, 26, tzinfo=zone))
    assert working_minutes(*day, berlin) == 25 * 60
    # 01:00-04:00 with working hours across the change: 2 real hours
    hours = WorkCalendar(
        timezone="Europe/Berlin",
        work_days=frozenset(range(1, 8)),
        day_start=time(1),
        day_end=time(4),
    )
    assert working_minutes(*day, hours) == 4 * 60  # Oct: 01:00-04:00 holds 4 real hours
    spring = (datetime(2026, 3, 29, tzinfo=zone), datetime(2026, 3, 30, tzinfo=zone))
    assert working_minutes(*spring, hours) == 2 * 60


def test_whole_days_without_hours_and_long_spans() -> None:
    plain = WorkCalendar(timezone="Europe/Moscow")
    # Monday 00:00 -> next Monday 00:00: five whole days
    assert working_minutes(msk(2026, 3, 2), msk(2026, 3, 9), plain) == 5 * 24 * 60
    # a year of working days at 9 hours, less the one holiday
    start, end = msk(2026, 1, 1), msk(2027, 1, 1)
    days = sum(
        1
        for n in range((end - start).days)
        if (start + timedelta(days=n)).isoweekday() <= 5
        and (start + timedelta(days=n)).date() != date(2026, 1, 7)
    )
    assert working_minutes(start, end, OFFICE) == days * 9 * 60


@pytest.mark.usefixtures("db")
async def test_company_calendar_settings_are_validated_and_used() -> None:
    admin: User = await f.admin()
    saved = await company.update_company(
        {
            "work_days": ["1", "2", "3", "4", "5", "6"],
            "holidays": "2026-01-07\n2026-01-01, 2026-01-07",
            "sla_first_reply_minutes": 30,
            "work_day_start": "10:00",
            "work_day_end": "19:00",
            "default_timezone": "Asia/Yekaterinburg",
        },
        actor=admin,
    )
    assert (saved.work_days, saved.holidays) == ("123456", ["2026-01-01", "2026-01-07"])
    calendar = company.work_calendar(await company.get_company())
    assert calendar == WorkCalendar(
        timezone="Asia/Yekaterinburg",
        work_days=frozenset({1, 2, 3, 4, 5, 6}),
        holidays=frozenset({date(2026, 1, 1), date(2026, 1, 7)}),
        day_start=time(10),
        day_end=time(19),
    )
    for bad in (
        {"work_days": []},
        {"holidays": "07.01.2026"},
        {"sla_first_reply_minutes": 0},
        {"work_day_start": "18:00", "work_day_end": "09:00"},
    ):
        with pytest.raises(ValidationFailed):
            await company.update_company(bad, actor=admin)
    kept = await company.get_company()
    assert (kept.work_days, kept.sla_first_reply_minutes) == ("123456", 30)
    assert kept.work_day_start is not None and kept.work_day_start.hour == 10


def test_work_clock_agrees_with_working_minutes() -> None:
    import random

    from crm.working_time import WorkClock

    rng = random.Random(7)
    calendars = [
        OFFICE,
        WorkCalendar(timezone="Europe/Berlin", day_start=time(8), day_end=time(17, 30)),
        WorkCalendar(timezone="America/New_York", work_days=frozenset({1, 3, 5, 6})),
    ]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for calendar in calendars:
        clock = WorkClock(calendar, date(2025, 12, 31), date(2026, 12, 31))
        for _ in range(300):
            start = base + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
            end = start + timedelta(minutes=rng.randrange(0, 10 * 24 * 60))
            assert clock.minutes(start, end) == pytest.approx(
                working_minutes(start, end, calendar)
            ), (calendar.timezone, start, end)
            before = start - timedelta(minutes=5)
            assert clock.minutes_from(start, end, None, before) == [
                clock.minutes(start, end),
                None,
                0.0,
            ]
        # outside the span it falls back to the plain count
        far = datetime(2030, 5, 6, 10, tzinfo=UTC)
        assert clock.minutes(far, far + timedelta(days=3)) == working_minutes(
            far, far + timedelta(days=3), calendar
        )


def test_work_clock_days_at_local_midnights() -> None:
    """The clock finds a moment's local day by bisecting the local midnights: right at a
    midnight and a microsecond either side, across clock changes, it is the day a time-zone
    conversion gives, and the minutes equal the plain count's."""
    from crm.working_time import WorkClock

    calendars = [
        WorkCalendar(timezone="Europe/Berlin"),  # whole days: a midnight is a window's edge
        WorkCalendar(timezone="America/Santiago", day_start=time(0), day_end=time(9)),
        WorkCalendar(timezone="Asia/Vladivostok", day_start=time(9), day_end=time(18)),
    ]
    tick = timedelta(microseconds=1)
    for calendar in calendars:
        clock = WorkClock(calendar, date(2026, 1, 1), date(2026, 12, 31))
        day = date(2026, 1, 2)
        while day < date(2026, 12, 30):
            midnight = datetime.combine(day, time(0), tzinfo=calendar.zone).astimezone(UTC)
            for at in (midnight - tick, midnight, midnight + tick):
                start = at - timedelta(hours=30)
                assert clock.minutes(start, at) == pytest.approx(
                    working_minutes(start, at, calendar), abs=1e-9
                ), (calendar.timezone, at)
            day += timedelta(days=1)

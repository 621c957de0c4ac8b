"""Typed dates and times (crm.when_parse): Russian and English, read in the manager's
timezone, refused with a reason rather than guessed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from crm.when_parse import Unclear, When, moment_of, parse_when

# Tuesday 12 May 2026, 10:00 in Samara (UTC+4), 06:00 UTC
NOW = datetime(2026, 5, 12, 6, 0, tzinfo=UTC)
TZ = "Europe/Samara"


def parse(text: str, **kw: object) -> When:
    return parse_when(text, NOW, TZ, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("завтра 11:00", date(2026, 5, 13), time(11)),
        ("Завтра в 11", date(2026, 5, 13), time(11)),
        ("tomorrow 11", date(2026, 5, 13), time(11)),
        ("tomorrow at 11:30", date(2026, 5, 13), time(11, 30)),
        ("сегодня 17", date(2026, 5, 12), time(17)),
        ("today", date(2026, 5, 12), None),
        ("послезавтра", date(2026, 5, 14), None),
        ("day after tomorrow 9:30", date(2026, 5, 14), time(9, 30)),
        ("пн 10", date(2026, 5, 18), time(10)),
        ("в понедельник", date(2026, 5, 18), None),
        ("во вторник", date(2026, 5, 19), None),  # today is Tuesday: a week ahead
        ("в среду 14.30", date(2026, 5, 13), time(14, 30)),
        ("пятницу", date(2026, 5, 15), None),
        ("Fri 3pm", date(2026, 5, 15), time(15)),
        ("next monday 9am", date(2026, 5, 18), time(9)),
        ("через неделю", date(2026, 5, 19), None),
        ("in a week", date(2026, 5, 19), None),
        ("через 2 недели", date(2026, 5, 26), None),
        ("через 3 дня", date(2026, 5, 15), None),
        ("in 1 day", date(2026, 5, 13), None),
        ("через месяц", date(2026, 6, 12), None),
        ("31.12 15:30", date(2026, 12, 31), time(15, 30)),
        ("31.12.2026", date(2026, 12, 31), None),
        ("1.1.27", date(2027, 1, 1), None),
        ("2026-12-31", date(2026, 12, 31), None),
        ("10.05", date(2027, 5, 10), None),  # passed this year: the next one
        ("12.05", date(2026, 5, 12), None),  # today still counts
        ("13 мая в 9", date(2026, 5, 13), time(9)),
        ("1 января", date(2027, 1, 1), None),
        ("May 20 10:15", date(2026, 5, 20), time(10, 15)),
        ("20 May 2027", date(2027, 5, 20), None),
        ("29.02", date(2028, 2, 29), None),  # the next 29 February there is
        ("14:30", None, time(14, 30)),
        ("7.45", None, time(7, 45)),
        ("9", None, time(9)),
        ("в 7 вечера", None, time(19)),
        ("8 утра", None, time(8)),
        ("12am", None, time(0)),
        ("12 pm", None, time(12)),
        ("полдень", None, time(12)),
        ("завтра, 11:00", date(2026, 5, 13), time(11)),
        ("ЗАВТРА 11:00", date(2026, 5, 13), time(11)),
    ],
)
def test_understood(text: str, day: date | None, at: time | None) -> None:
    assert parse(text) == When(day, at)


def test_an_ambiguous_dot_is_a_date_in_the_day_step_and_a_time_in_the_time_step() -> None:
    assert parse("10.11") == When(date(2026, 11, 10), None)
    assert parse("10.11", expect="time") == When(None, time(10, 11))
    assert parse("завтра 10.30") == When(date(2026, 5, 13), time(10, 30))


def test_hours_ahead_are_counted_on_the_clock_in_the_managers_zone() -> None:
    assert parse("через 2 часа") == When(date(2026, 5, 12), time(12))
    assert parse("in half an hour") == When(date(2026, 5, 12), time(10, 30))
    assert parse("через полчаса") == When(date(2026, 5, 12), time(10, 30))
    late = datetime(2026, 5, 12, 19, 30, tzinfo=UTC)  # 23:30 in Samara
    assert parse_when("через 1 час", late, TZ) == When(date(2026, 5, 13), time(0, 30))
    # Berlin goes to summer time at 02:00 on 29 March 2026: 01:30 + 1 hour is 03:30
    before = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert parse_when("in 1 hour", before, "Europe/Berlin") == When(date(2026, 3, 29), time(3, 30))


def test_today_is_the_managers_day_not_the_servers() -> None:
    evening_utc = datetime(2026, 5, 12, 22, 0, tzinfo=UTC)  # already the 13th in Vladivostok
    assert parse_when("сегодня", evening_utc, "Asia/Vladivostok").day == date(2026, 5, 13)
    assert parse_when("сегодня", evening_utc, "Europe/London").day == date(2026, 5, 12)


@pytest.mark.parametrize(
    ("text", "english", "russian"),
    [
        ("31.02", "There is no such date (31.02): February 2026 has 28 days.", "февраль 2026"),
        ("31.04.2027", "April 2027 has 30 days", "30 дней"),
        ("29.02.2027", "February 2027 has 28 days", "28 дней"),
        ("25:99", "There is no such time: “25:99”", "Такого времени нет"),
        ("24:00", "There is no such time", "Такого времени нет"),
        ("13pm", "There is no such time", "Такого времени нет"),
        ("завтра", None, None),
        ("xyz", "I did not understand “xyz”. Try “tomorrow 11:00”", "Не понял"),
        ("завтра в обед", "I did not understand “обед”", "Не понял"),
        ("11:00?", "I did not understand", "Не понял"),
        ("1430", "I did not understand “1430”", "Не понял"),
        ("завтра послезавтра", "names two days or two times", "два дня"),
        ("10 11", "names two days or two times", "два дня"),
        ("", "I did not understand", "Не понял"),
        ("через сто лет", "I did not understand", "Не понял"),
        ("May", "I did not understand", "Не понял"),
    ],
)
def test_refused_with_a_reason(text: str, english: str | None, russian: str | None) -> None:
    if english is None:  # the control: understood
        parse(text)
        return
    with pytest.raises(Unclear) as caught:
        parse(text)
    assert english in caught.value.render("en")
    assert russian is not None and russian in caught.value.render("ru")


def test_moment_of_a_bare_time_is_the_next_one_to_come() -> None:
    samara = parse_when("11:00", NOW, TZ)
    assert moment_of(samara, NOW, TZ) == datetime(2026, 5, 12, 7, 0, tzinfo=UTC)
    assert moment_of(When(None, time(9)), NOW, TZ) == datetime(2026, 5, 13, 5, 0, tzinfo=UTC)
    chosen = date(2026, 5, 20)
    assert moment_of(When(None, time(9)), NOW, TZ, day=chosen) == datetime(
        2026, 5, 20, 5, 0, tzinfo=UTC
    )
    assert moment_of(When(chosen, None), NOW, TZ) is None

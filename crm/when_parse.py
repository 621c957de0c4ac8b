"""Typed dates and times, in Russian or English, as a manager types them into the bot:
"завтра 11:00", "пн 10", "через неделю", "31.12 15:30", "13 мая в 9", "tomorrow 11",
"in 2 hours", "Friday 3pm", "7.45".

`parse_when(text, now, tz)` reads the text in the manager's timezone `tz` and returns a
`When`: the day, the time of day, or both (each None when the text did not name it). It
never guesses silently: a text it cannot read in full, a date not in the calendar ("31.02")
or a time not on the clock ("25:99") raises `Unclear`, whose `render(locale)` explains
what was wrong in the manager's language. Pure: no database, no clock of its own.

Rules a manager can rely on:
- a date without a year is the next one to come (today included);
- a day name is the next such day after today ("пн" on a Monday is a week ahead);
- a bare "a.b" is a time when `expect="time"` or when it cannot be a date (7.45), else a
  date; "31.12 15:30" is a date then a time;
- "через 2 часа" / "in 2 hours" is counted on the clock (UTC), then shown in `tz`, so a
  daylight-saving change in between is honoured."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import dates

from crm.i18n import N_, gettext, ngettext, pick_locale

Expect = Literal["day", "time"]

EXAMPLES = N_("Try “tomorrow 11:00”, “Mon 10”, “31.12 15:30” or “in a week”.")
NOT_UNDERSTOOD = N_("I did not understand “{text}”.")
NO_SUCH_TIME = N_("There is no such time: “{text}”. Send it as HH:MM, for example 14:30.")
TWO_ANSWERS = N_("“{text}” names two days or two times: send one.")


class Unclear(ValueError):
    """A typed date or time that was not understood; `render(locale)` says why."""

    def __init__(self, msgid: str, *, examples: bool = True, **params: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params
        self.examples = examples

    def render(self, locale: str | None) -> str:
        text = gettext(self.msgid, locale, **self.params)
        return text + " " + gettext(EXAMPLES, locale) if self.examples else text


class NoSuchDate(Unclear):
    """A day the month does not have ("31.02")."""

    def __init__(self, text: str, month: date) -> None:
        super().__init__("no such date", examples=False, text=text)
        self.month = month

    def render(self, locale: str | None) -> str:
        days = monthrange(self.month.year, self.month.month)[1]
        month = dates.format_date(self.month, "LLLL y", locale=pick_locale(locale))
        return ngettext(
            "There is no such date ({text}): {month} has {n} day.",
            "There is no such date ({text}): {month} has {n} days.",
            days,
            locale,
            text=self.params["text"],
            month=month,
        )


@dataclass(frozen=True)
class When:
    """What a typed text named: a day, a time of day, or both."""

    day: date | None = None
    at: time | None = None


# -- words ---------------------------------------------------------------------------------

RELATIVE_DAYS = {
    "сегодня": 0,
    "today": 0,
    "завтра": 1,
    "tomorrow": 1,
    "послезавтра": 2,
    "overmorrow": 2,
}
FILLERS = frozenset({"в", "во", "на", "к", "at", "on", "by", "the", "next", "след", "следующий"})
UNITS = {  # the stem of a unit word -> (days, hours, minutes)
    "минут": (0, 0, 1),
    "minute": (0, 0, 1),
    "min": (0, 0, 1),
    "час": (0, 1, 0),
    "hour": (0, 1, 0),
    "день": (1, 0, 0),
    "дн": (1, 0, 0),
    "day": (1, 0, 0),
    "недел": (7, 0, 0),
    "week": (7, 0, 0),
}
MONTH_UNITS = ("месяц", "month")
IN_WORDS = frozenset({"через", "in"})
ONE_WORDS = frozenset({"a", "an", "one", "один", "одну", "одна"})
HALF_DAY = {  # a word after an hour -> hours added below 12
    "am": 0,
    "утра": 0,
    "ночи": 0,
    "pm": 12,
    "дня": 12,
    "вечера": 12,
}
NOON = frozenset({"noon", "midday", "полдень"})

DAY_WIDTHS: tuple[Literal["wide", "abbreviated", "short"], ...] = ("wide", "abbreviated", "short")
MONTH_WIDTHS: tuple[Literal["wide", "abbreviated"], ...] = ("wide", "abbreviated")
CONTEXTS: tuple[Literal["format", "stand-alone"], ...] = ("format", "stand-alone")

_TOKEN = re.compile(r"\d+(?:[.:/-]\d+)*|[a-zа-я]+")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@lru_cache(maxsize=1)
def _names() -> tuple[dict[str, int], dict[str, int]]:
    """Day and month names (Russian and English, every CLDR width and context) -> number
    (weekday 0-6, month 1-12)."""
    days: dict[str, int] = {}
    months: dict[str, int] = {}
    for locale in ("ru", "en"):
        for context in CONTEXTS:
            for day_width in DAY_WIDTHS:
                for number, name in dates.get_day_names(day_width, context, locale).items():
                    days[_plain(name)] = number
            for month_width in MONTH_WIDTHS:
                for number, name in dates.get_month_names(month_width, context, locale).items():
                    months[_plain(name)] = number
    return days, months


def _plain(word: str) -> str:
    return word.lower().replace("ё", "е").strip(".")


def _lookup(word: str, names: dict[str, int], wide_min: int = 3) -> int | None:
    """A name's number: exact, or a beginning of at least `wide_min` letters of one name
    ("понед", "thurs"), or that with its case ending changed ("среду", "пятницу")."""
    if word in names:
        return names[word]
    found = {n for name, n in names.items() if len(word) >= wide_min and name.startswith(word)}
    if not found and len(word) > wide_min:
        found = {n for name, n in names.items() if name.startswith(word[:-1])}
    return found.pop() if len(found) == 1 else None


def _weekday(word: str) -> int | None:
    return _lookup(word, _names()[0])


def _month(word: str) -> int | None:
    return _lookup(word, _names()[1])


# -- the parse -----------------------------------------------------------------------------


@dataclass
class _Reading:
    text: str
    today: date
    now: datetime  # aware, in the manager's timezone
    tz: ZoneInfo
    day: date | None = None
    at: time | None = None

    def set_day(self, day: date) -> None:
        if self.day is not None and self.day != day:
            raise Unclear(TWO_ANSWERS, examples=False, text=self.text)
        self.day = day

    def set_time(self, at: time) -> None:
        if self.at is not None and self.at != at:
            raise Unclear(TWO_ANSWERS, examples=False, text=self.text)
        self.at = at


def parse_when(text: str, now: datetime, tz: str, *, expect: Expect = "day") -> When:
    """What `text` names, read at the moment `now` in timezone `tz` (see the module's
    rules); `expect` settles a bare "a.b" that could be either. Raises `Unclear`."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    cleaned = " ".join(text.split())
    if len(cleaned) > 60:
        raise Unclear(NOT_UNDERSTOOD, text=cleaned[:40] + "…")
    tokens = [_plain(t) for t in _TOKEN.findall(cleaned.lower().replace("ё", "е"))]
    if not tokens or _leftover(cleaned):
        raise Unclear(NOT_UNDERSTOOD, text=cleaned)
    reading = _Reading(cleaned, local.date(), local, zone)
    _read(reading, [t for t in tokens if t not in FILLERS], expect)
    return When(reading.day, reading.at)


def _leftover(text: str) -> bool:
    """Anything but words, numbers, spaces and a little punctuation: not ours to read."""
    rest = _TOKEN.sub("", text.lower().replace("ё", "е"))
    return bool(re.sub(r"[\s,.;!]", "", rest))


def _read(r: _Reading, tokens: list[str], expect: Expect) -> None:
    i = 0
    while i < len(tokens):
        word = tokens[i]
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if word in RELATIVE_DAYS:
            r.set_day(r.today + timedelta(days=RELATIVE_DAYS[word]))
        elif word == "day" and tokens[i + 1 : i + 3] == ["after", "tomorrow"]:
            r.set_day(r.today + timedelta(days=2))
            i += 2
        elif word in IN_WORDS:
            i = _relative(r, tokens, i + 1)
            continue
        elif word in NOON:
            r.set_time(time(12))
        elif (weekday := _weekday(word)) is not None and not word.isdigit():
            ahead = (weekday - r.today.weekday() - 1) % 7 + 1
            r.set_day(r.today + timedelta(days=ahead))
        elif (month := _month(word)) is not None and not word.isdigit():
            if not after.isdigit() or int(after) > 31:  # "May 13"
                raise Unclear(NOT_UNDERSTOOD, text=r.text)
            i = _day_of_month(r, tokens, i + 1, month)
            continue
        elif word.isdigit() and after and _month(after) is not None:  # "13 мая [2027]"
            i = _day_of_month(r, tokens, i, _month(after) or 0, month_after=True)
            continue
        elif word.isdigit():
            i = _hour(r, tokens, i)
            continue
        elif m := _TIME.match(word):
            if _DATE.match(word) and _is_date(word, tokens[i + 1 :], expect, r):
                r.set_day(_date_of(r, word))
            else:
                r.set_time(_clock(r, int(m[1]), int(m[2]), _half(after)))
                i += 1 if after in HALF_DAY else 0
        elif _DATE.match(word):
            r.set_day(_date_of(r, word))
        elif m := _ISO.match(word):
            r.set_day(_calendar(int(m[1]), int(m[2]), int(m[3])))
        else:
            raise Unclear(NOT_UNDERSTOOD, text=word)
        i += 1


def _is_date(word: str, rest: list[str], expect: Expect, r: _Reading) -> bool:
    """Whether "a.b" is a date ("31.12 15:30", "10.11" in the day step) rather than a time;
    "a:b" is always a time."""
    if ":" in word:
        return False
    a, b = (int(x) for x in word.split(".")[:2])
    if b > 12 or a == 0:
        return False  # 7.45, 0.30: only a time
    if a > 23 or b > 59:
        return True
    if r.day is not None:
        return False  # "завтра 10.30": the day is named already
    if any(_TIME.match(t) or t.isdigit() for t in rest):
        return True  # a time follows
    return expect == "day"


def _half(word: str) -> int | None:
    return HALF_DAY.get(word)


def _clock(r: _Reading, hour: int, minute: int, half: int | None = None) -> time:
    if half is not None:
        if not 1 <= hour <= 12:
            raise Unclear(NO_SUCH_TIME, examples=False, text=r.text)
        hour = hour % 12 + half
    if hour > 23 or minute > 59:
        raise Unclear(NO_SUCH_TIME, examples=False, text=r.text)
    return time(hour, minute)


def _hour(r: _Reading, tokens: list[str], i: int) -> int:
    """A bare number: an hour ("10", "3 pm", "7 вечера")."""
    word = tokens[i]
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    if len(word) > 2:
        raise Unclear(NOT_UNDERSTOOD, text=word)
    half = _half(after)
    r.set_time(_clock(r, int(word), 0, half))
    return i + (2 if half is not None else 1)


def _calendar(year: int, month: int, day: int) -> date:
    typed = f"{day:02d}.{month:02d}"
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise Unclear(NOT_UNDERSTOOD, text=typed)
    if not 1 <= day <= monthrange(year, month)[1]:
        raise NoSuchDate(typed, date(year, month, 1))
    return date(year, month, day)


def _next_date(r: _Reading, month: int, day: int, year: int | None) -> date:
    """The date, in `year` if given, else the next one to come (today included). A
    29 February without a year is the next one there is."""
    if year is not None:
        return _calendar(year, month, day)
    if not 1 <= month <= 12:
        raise Unclear(NOT_UNDERSTOOD, text=f"{day:02d}.{month:02d}")
    if month == 2 and day == 29:
        for year in range(r.today.year, r.today.year + 8):
            if monthrange(year, 2)[1] == 29 and date(year, 2, 29) >= r.today:
                return date(year, 2, 29)
    candidate = _calendar(r.today.year, month, day)
    return candidate if candidate >= r.today else _calendar(r.today.year + 1, month, day)


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _date_of(r: _Reading, word: str) -> date:
    m = _DATE.match(word)
    assert m is not None
    return _next_date(r, int(m[2]), int(m[1]), _year(m[3]))


def _day_of_month(
    r: _Reading, tokens: list[str], i: int, month: int, *, month_after: bool = False
) -> int:
    """ "13 мая [2027]" (i at 13) or "May 13 [2027]" (i at 13): the index after it."""
    day = int(tokens[i])
    i += 2 if month_after else 1
    year = None
    if i < len(tokens) and tokens[i].isdigit() and len(tokens[i]) == 4:
        year = int(tokens[i])
        i += 1
    if i < len(tokens) and tokens[i] in ("г", "года", "year"):
        i += 1
    r.set_day(_next_date(r, month, day, year))
    return i


def _relative(r: _Reading, tokens: list[str], i: int) -> int:
    """ "через 2 дня", "через неделю", "через полчаса", "in an hour", "in 3 weeks": from
    index i (after the "in" word); the index after it."""
    count = 1
    word = tokens[i] if i < len(tokens) else ""
    if word.isdigit():
        count, i = int(word), i + 1
    elif word in ONE_WORDS:
        i += 1
    elif word == "half":  # "in half an hour"
        i += 2 if i + 1 < len(tokens) and tokens[i + 1] in ONE_WORDS else 1
        if i < len(tokens) and tokens[i].startswith("hour"):
            _shift(r, timedelta(minutes=30))
            return i + 1
        raise Unclear(NOT_UNDERSTOOD, text=r.text)
    unit = tokens[i] if i < len(tokens) else ""
    if unit.startswith("полчас"):
        _shift(r, timedelta(minutes=30))
        return i + 1
    if count > 3660:  # ten years of days
        raise Unclear(NOT_UNDERSTOOD, text=r.text)
    if any(unit.startswith(stem) for stem in MONTH_UNITS):
        month = r.today.month - 1 + count
        year, month = r.today.year + month // 12, month % 12 + 1
        r.set_day(date(year, month, min(r.today.day, monthrange(year, month)[1])))
        return i + 1
    for stem, (days, hours, minutes) in UNITS.items():
        if unit.startswith(stem):
            if hours or minutes:
                _shift(r, timedelta(hours=hours * count, minutes=minutes * count))
            else:
                r.set_day(r.today + timedelta(days=days * count))
            return i + 1
    raise Unclear(NOT_UNDERSTOOD, text=r.text)


def _shift(r: _Reading, delta: timedelta) -> None:
    """A moment `delta` from now on the clock, as a day and a time in the manager's zone."""
    moment = (r.now.astimezone(ZoneInfo("UTC")) + delta).astimezone(r.tz)
    r.set_day(moment.date())
    r.set_time(time(moment.hour, moment.minute))


def moment_of(when: When, now: datetime, tz: str, *, day: date | None = None) -> datetime | None:
    """The aware moment `when` names, its day defaulting to `day`; a bare time with no day
    at all is the next such time to come (today, or tomorrow once it has passed). None
    without a time."""
    if when.at is None:
        return None
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    chosen = when.day or day
    if chosen is None:
        chosen = local.date()
        if datetime.combine(chosen, when.at, zone) <= local:
            chosen += timedelta(days=1)
    return datetime.combine(chosen, when.at, zone)

"""Babel catalogs (domain `crmhub`, locales ru and en) and locale-aware formatting.

Source strings are English; `N_` marks a string for extraction without translating it,
`NP_` one with a context (the same English meant two ways).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "crmhub"
SUPPORTED_LOCALES = ("ru", "en")
DEFAULT_LOCALE = "ru"


def N_(message: str) -> str:
    """Mark a string for translation; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:
    """Mark a string meant in `context` (see `pgettext`); translated where it is shown."""
    return (context, message)


@lru_cache(maxsize=64)
def pick_locale(locale: str | None) -> str:
    """The supported locale closest to `locale` (`en-US` -> `en`), else the default."""
    if locale:
        short = locale.replace("-", "_").split("_", 1)[0].lower()
        if short in SUPPORTED_LOCALES:
            return short
    return DEFAULT_LOCALE


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for `locale`; untranslated strings fall back to English."""
    return Translations.load(str(LOCALES_DIR), [pick_locale(locale)], DOMAIN)


def gettext(message: str, locale: str | None = None, **params: Any) -> str:
    text = translations(pick_locale(locale)).gettext(message)
    return text.format(**params) if params else text


def pgettext(context: str, message: str, locale: str | None = None, **params: Any) -> str:
    """`message` as meant in `context` (the Russian for an "Open" filter and an "Open" button
    differ)."""
    text = str(translations(pick_locale(locale)).pgettext(context, message))
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, locale: str | None = None, **params: Any) -> str:
    text = translations(pick_locale(locale)).ngettext(singular, plural, n)
    return text.format(n=n, **params)


class Text:
    """A translatable message with its parameters, rendered in the reader's locale."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def render(self, locale: str | None) -> str:
        return gettext(self.msgid, locale, **self.params)

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.msgid, self.params) == (other.msgid, other.params)

    def __hash__(self) -> int:
        return hash(self.msgid)


def format_datetime(value: datetime, locale: str | None, tz: str, fmt: str = "medium") -> str:
    """A moment shown in the reader's timezone and locale."""
    return dates.format_datetime(value.astimezone(ZoneInfo(tz)), fmt, locale=pick_locale(locale))


def format_date(value: date, locale: str | None, fmt: str = "medium") -> str:
    return dates.format_date(value, fmt, locale=pick_locale(locale))


def format_time(value: datetime, locale: str | None, tz: str) -> str:
    return dates.format_time(value.astimezone(ZoneInfo(tz)), "short", locale=pick_locale(locale))


# CLDR's currency spacing, which Babel does not apply: a currency shown by letters (its
# code, "RUB" in English) is kept apart from the digits ("RUB 81,700.00", not "RUB81,700.00")
_LETTERS_THEN_DIGIT = re.compile(r"(?<=[^\W\d_])(?=[\d\-−])")
_DIGIT_THEN_LETTERS = re.compile(r"(?<=\d)(?=[^\W\d_])")
NBSP = "\u00a0"


def format_money(amount: Decimal | int | float, currency: str, locale: str | None) -> str:
    """An amount with its currency in the locale's manner: "81 700,00 ₽" in Russian,
    "RUB 81,700.00" in English (a no-break space where the currency is letters)."""
    text = numbers.format_currency(amount, currency, locale=pick_locale(locale))
    return _DIGIT_THEN_LETTERS.sub(NBSP, _LETTERS_THEN_DIGIT.sub(NBSP, text))


def parse_money(text: str) -> Decimal:
    """An amount as a person types it, in either language: "81 700", "81,700", "81 700,50",
    "81,700.50", "81700 ₽", "1.5". A separator before exactly three digits groups them; one
    before one or two digits is the decimal point. Raises ValueError."""
    cleaned = re.sub(r"[\s\u00a0\u202f']|₽|руб\.?|р\.|rub|\$|€", "", text.strip().lower())
    if not re.fullmatch(r"\d+([.,]\d+)*", cleaned):
        raise ValueError(text)
    *groups, last = re.split(r"[.,]", cleaned)
    if not groups:
        return Decimal(last)
    if len(last) == 3 and all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3:
        return Decimal("".join(groups) + last)  # "81,700", "1.250.000"
    if len(last) <= 2 and len(groups) == 1:
        return Decimal(f"{groups[0]}.{last}")  # "81,5", "1.25"
    if len(last) <= 2 and all(len(g) == 3 for g in groups[1:-1]) and len(groups[0]) <= 3:
        separators = re.findall(r"[.,]", cleaned)
        if len(set(separators[:-1])) == 1 and separators[-1] != separators[0]:
            return Decimal("".join(groups) + "." + last)  # "81,700.50", "1.250.000,5"
    raise ValueError(text)

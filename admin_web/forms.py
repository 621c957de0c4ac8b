"""Reading submitted forms: text, numbers, flags and id lists, each named by its field."""

from __future__ import annotations

from typing import Any

from multidict import MultiDictProxy

from admin_web.security import INVALID_TEXT
from crm.errors import NotFound, ValidationFailed
from crm.i18n import N_
from crm.normalize import storable, whole_number

Form = MultiDictProxy[Any]


def text(form: Form, name: str, default: str = "") -> str:
    value = form.get(name, default)
    return value.strip() if isinstance(value, str) else default


def flag(form: Form, name: str) -> bool:
    return text(form, name) in ("1", "on", "true", "yes")


def integer(form: Form, name: str, *, required: bool = True) -> int | None:
    raw = text(form, name)
    if not raw:
        if required:
            raise ValidationFailed.field(name, N_("Required"))
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed.field(name, N_("Not a number")) from None
    if not -(2**31) < value < 2**31:
        raise ValidationFailed.field(name, N_("Not a number"))
    return value


def ids(form: Form, name: str) -> list[int]:
    """Every value of a repeated field (checkboxes) that is an id; others are ignored."""
    found = []
    for raw in form.getall(name, []):
        number = whole_number(raw.strip()) if isinstance(raw, str) else None
        if number is not None:
            found.append(number)
    return found


def searched(value: object, name: str) -> str:
    """Text to search for (a filter of a query string): at most 200 characters, and none
    that no database stores (NUL makes PostgreSQL fail the query)."""
    text = str(value or "")[:200]
    if not storable(text):
        raise ValidationFailed.field(name, INVALID_TEXT)
    return text


def lines(form: Form, name: str) -> list[str]:
    return [line.strip() for line in text(form, name).splitlines() if line.strip()]


def match_int(value: str) -> int:
    """A route's numeric match: the route pattern's `\\d+` also matches digits such as '١'
    and any number of them, so anything but an id that fits the column is not found."""
    number = whole_number(value, max_digits=10)
    if number is None or number >= 2**31:
        raise NotFound()
    return number

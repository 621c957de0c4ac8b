"""The checks of what a money fact is made of: an amount (positive, to the kopeck, below
MAX_AMOUNT), a date (within YEARS, a payment not in the future), an invoice number; each
refusal names its field in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from crm import clock
from crm.company import get_company
from crm.errors import ValidationFailed
from crm.i18n import N_, Text

MAX_AMOUNT = Decimal("1000000000000")  # a trillion: more is a typo, not an invoice
CENT = Decimal("0.01")
YEARS = (1990, 2100)
NUMBER_MAX = 64
SPACES = (" ", "\u00a0", "\u202f", "\u2009", "'")


def checked(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Each field's check run: their values, or one refusal naming every field refused."""
    errors: dict[str, str | Text] = {}
    out: dict[str, Any] = {}
    for name, check in checks.items():
        try:
            out[name] = check()
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def amount(value: Any, field: str = "amount") -> Decimal:
    """A positive amount to the kopeck ("1 234,50", 1234.5, "1234.50"), below MAX_AMOUNT."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationFailed.field(field, N_("Required"))
    if isinstance(value, bool):
        raise ValidationFailed.field(field, N_("Not an amount of money"))
    text = str(value).strip()
    for space in SPACES:
        text = text.replace(space, "")
    for sign in ("₽", "руб.", "руб", "RUB"):
        text = text.removesuffix(sign)
    try:
        parsed = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValidationFailed.field(field, N_("Not an amount of money")) from None
    if not parsed.is_finite():
        raise ValidationFailed.field(field, N_("Not an amount of money"))
    if parsed <= 0:
        raise ValidationFailed.field(field, N_("The amount must be above zero"))
    if parsed >= MAX_AMOUNT:
        raise ValidationFailed.field(field, N_("The amount is implausibly large"))
    if parsed != parsed.quantize(CENT):
        raise ValidationFailed.field(field, N_("An amount has at most two digits of kopecks"))
    return parsed.quantize(CENT)


def day(value: Any, field: str, *, required: bool = True) -> date | None:
    """A date (a date, "2026-12-07" or "07.12.2026") within YEARS; None when blank and
    not `required`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed.field(field, N_("Required"))
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):  # a text
        text = str(value).strip()
        try:
            value = date.fromisoformat(text[:10])
        except ValueError:
            try:
                d, m, y = text.split(" ")[0].split(".")
                value = date(int(y), int(m), int(d))
            except ValueError:
                raise ValidationFailed.field(field, N_("Not a date")) from None
    assert isinstance(value, date)
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValidationFailed.field(field, N_("The date is implausible"))
    return value


async def today() -> date:
    """Today in the company's time zone (what "overdue" and "in the future" count by)."""
    zone = ZoneInfo((await get_company()).default_timezone)
    return clock.now().astimezone(zone).date()


async def not_future(value: date, field: str) -> date:
    """A payment's date: not after today (a day's grace for the time zones)."""
    if value > await today() + timedelta(days=1):
        raise ValidationFailed.field(field, N_("A payment cannot be dated in the future"))
    return value


def number(value: Any) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > NUMBER_MAX:
        raise ValidationFailed.field("number", N_("Too long"))
    return text

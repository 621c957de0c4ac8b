"""Normalization and validation of what people type: whole numbers, phones, emails, INN,
KPP."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as ru_inn

from crm.errors import ValidationFailed
from crm.i18n import N_
from crm.models.clients import ClientKind

DEFAULT_REGION = "RU"
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # what storable_text removes or replaces
_SURROGATE = re.compile("[\ud800-\udfff]")


def whole_number(raw: object, *, max_digits: int = 9) -> int | None:
    """`raw` as a whole number when it is 1..`max_digits` ASCII digits, else None.

    Every id or page number read from a query string, a form or a JSON key goes through
    here: `str.isdigit()` also accepts digits such as '²' that int() refuses, and int()
    accepts '١', ' 1', '1_0' and thousands of digits (slowly, then not at all)."""
    if not isinstance(raw, str) or not 0 < len(raw) <= max_digits:
        return None
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def storable(text: str) -> bool:
    """Whether `text` can be stored as it is: PostgreSQL refuses NUL in text, and a lone
    surrogate (JSON can carry "\\ud800") has no UTF-8 form at all."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_text(text: str) -> str:
    """`text` as both databases store it: NUL dropped, each lone surrogate replaced with
    U+FFFD (for text from outside that must be kept rather than refused: a customer's
    message, a name a platform sends)."""
    if not UNSTORABLE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def phone(raw: str, *, field: str = "phone", region: str = DEFAULT_REGION) -> str:
    """A phone number in E.164 (`+79161234567`); `8 916 123-45-67` is read as Russian."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed.field(field, N_("Not a phone number: {value}"), value=raw) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed.field(field, N_("Not a phone number: {value}"), value=raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def shown_phone(e164: str) -> str:
    """A stored phone as people read it: `+7 916 123-45-67` (as stored when unparsable)."""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_or_none(raw: str | None) -> str | None:
    """E.164 when `raw` is a valid phone, else None (for matching, never for errors)."""
    if not raw:
        return None
    try:
        return phone(raw)
    except ValidationFailed:
        return None


def email(raw: str, *, field: str = "email") -> str:
    """An email address, trimmed and lowercased; the domain is IDNA-encoded."""
    value = raw.strip().lower()
    if not _EMAIL_RE.match(value):
        raise ValidationFailed.field(field, N_("Not an email address: {value}"), value=raw)
    local, _, domain = value.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationFailed.field(
            field, N_("Not an email address: {value}"), value=raw
        ) from None
    return f"{local}@{domain}"


def inn(raw: str, kind: ClientKind, *, field: str = "inn") -> str:
    """A checksum-valid INN: 10 digits for a legal entity, 12 for an individual."""
    value = re.sub(r"\s", "", raw)
    expected = 10 if kind == ClientKind.LEGAL else 12
    if not value.isdigit() or len(value) != expected:
        raise ValidationFailed.field(
            field, N_("INN must have {digits} digits"), code="invalid_inn", digits=expected
        )
    try:
        ru_inn.validate(value)
    except StdnumError:
        raise ValidationFailed.field(
            field, N_("INN checksum is wrong: {value}"), code="invalid_inn", value=value
        ) from None
    return value


def kpp(raw: str, *, field: str = "kpp") -> str:
    value = raw.strip().upper()
    if not _KPP_RE.match(value):
        raise ValidationFailed.field(field, N_("KPP must have 9 characters"), code="invalid_kpp")
    return value

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.ru import inn as ru_inn

from crm import normalize
from crm.errors import ValidationFailed
from crm.models import ClientKind


def _inn_checksum(digits: list[int], weights: list[int]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def make_inn(body: list[int]) -> str:
    if len(body) == 9:
        w = [2, 4, 10, 3, 5, 9, 4, 6, 8]
        return "".join(map(str, [*body, _inn_checksum(body, w)]))
    w1 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    w2 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    d11 = _inn_checksum(body, w1)
    d12 = _inn_checksum([*body, d11], w2)
    return "".join(map(str, [*body, d11, d12]))


digits = st.integers(min_value=0, max_value=9)


@given(st.lists(digits, min_size=9, max_size=9))
def test_valid_legal_inn_is_accepted_as_is(body: list[int]) -> None:
    value = make_inn(body)
    assert normalize.inn(f" {value} ", ClientKind.LEGAL) == value
    assert ru_inn.is_valid(value)


@given(st.lists(digits, min_size=10, max_size=10))
def test_valid_individual_inn_is_accepted(body: list[int]) -> None:
    value = make_inn(body)
    assert normalize.inn(value, ClientKind.INDIVIDUAL) == value


@given(st.lists(digits, min_size=9, max_size=9), st.integers(min_value=1, max_value=9))
def test_corrupted_inn_checksum_is_refused(body: list[int], delta: int) -> None:
    value = make_inn(body)
    broken = value[:-1] + str((int(value[-1]) + delta) % 10)
    with pytest.raises(ValidationFailed) as err:
        normalize.inn(broken, ClientKind.LEGAL)
    assert err.value.code == "invalid_inn"
    assert "inn" in err.value.fields


def test_inn_length_depends_on_kind() -> None:
    legal = "7707083893"  # Sberbank
    normalize.inn(legal, ClientKind.LEGAL)
    with pytest.raises(ValidationFailed) as err:
        normalize.inn(legal, ClientKind.INDIVIDUAL)
    assert err.value.field_messages("ru")["inn"] == "ИНН должен содержать 12 цифр"
    assert err.value.field_messages("en")["inn"] == "INN must have 12 digits"


@pytest.mark.parametrize(
    "raw", ["8 (916) 123-45-67", "+7 916 123 45 67", "89161234567", "7-916-123-45-67"]
)
def test_russian_phone_forms_normalize_to_e164(raw: str) -> None:
    assert normalize.phone(raw) == "+79161234567"


@given(st.integers(min_value=900_000_0000, max_value=999_999_9999))
def test_any_valid_mobile_round_trips(number: int) -> None:
    raw = f"8{number}"
    parsed = phonenumbers.parse(raw, "RU")
    if not phonenumbers.is_valid_number(parsed):
        with pytest.raises(ValidationFailed):
            normalize.phone(raw)
        return
    e164 = normalize.phone(raw)
    assert e164 == f"+7{number}"
    assert normalize.phone(e164) == e164  # idempotent


@given(st.text(alphabet="abcxyz-() ", max_size=12))
def test_garbage_is_not_a_phone(raw: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        normalize.phone(raw)
    assert "phone" in err.value.fields


def test_email_is_lowercased_and_idna_encoded() -> None:
    assert normalize.email(" Ivan@Example.COM ") == "ivan@example.com"
    assert normalize.email("info@пример.рф") == "info@xn--e1afmkfd.xn--p1ai"
    with pytest.raises(ValidationFailed):
        normalize.email("not-an-email")


def test_kpp() -> None:
    assert normalize.kpp("770701001") == "770701001"
    with pytest.raises(ValidationFailed):
        normalize.kpp("12345")

"""Money shown per locale and typed in either language (crm.i18n)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.i18n import format_money, parse_money

NBSP = "\u00a0"


def test_a_currency_shown_by_its_code_is_kept_apart_from_the_digits() -> None:
    assert format_money(Decimal("81700"), "RUB", "en") == f"RUB{NBSP}81,700.00"
    assert format_money(Decimal("-5"), "KZT", "en") == f"-KZT{NBSP}5.00"
    assert format_money(Decimal("81700"), "USD", "en") == "$81,700.00"  # a symbol: as is
    assert format_money(Decimal("81700"), "RUB", "ru") == f"81{NBSP}700,00{NBSP}₽"


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("81 700", "81700"),
        ("81\u00a0700", "81700"),
        ("81,700", "81700"),
        ("81.700", "81700"),
        ("81 700,50", "81700.50"),
        ("81,700.50", "81700.50"),
        ("1.250.000,5", "1250000.5"),
        ("81700 ₽", "81700"),
        ("81 700 руб.", "81700"),
        ("RUB 500", "500"),
        ("81,5", "81.5"),
        ("1.25", "1.25"),
        ("0", "0"),
    ],
)
def test_typed_amounts(typed: str, amount: str) -> None:
    assert parse_money(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["", "abc", "1,2,3", "12,3456", "-5", "1e6", "81 700,50,1"])
def test_not_amounts(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_money(typed)

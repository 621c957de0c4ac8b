"""Identifiers of the demo data that are valid and unique: INNs with their check digits,
mobile numbers, and Latin spellings of Russian words for addresses."""

from __future__ import annotations

import functools
import math

from crm.demo.words import LATIN, MOBILE_CODES

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def inn10(first9: str) -> str:
    """A legal entity's INN: nine digits plus the check digit."""
    return first9 + _check(first9, INN10_WEIGHTS)


def inn12(first10: str) -> str:
    """An individual's INN: ten digits plus two check digits."""
    eleven = first10 + _check(first10, INN11_WEIGHTS)
    return eleven + _check(eleven, INN12_WEIGHTS)


@functools.cache
def _spread(modulus: int) -> int:
    """A multiplier near the golden section of `modulus` and coprime to it."""
    factor = int(modulus * 0.6180339887)
    while math.gcd(factor, modulus) != 1:
        factor += 1
    return factor


def permute(n: int, modulus: int, salt: int) -> int:
    """A bijection of [0, modulus) that scatters neighbours: unique identifiers (phones,
    INNs) derived from row ids, so a million clients never share one."""
    return (n * _spread(modulus) + salt) % modulus


def mobile_phone(n: int, salt: int = 0) -> str:
    """A valid Russian mobile number in E.164, unique for each n."""
    k = permute(n, len(MOBILE_CODES) * 10_000_000, salt)
    return f"+7{MOBILE_CODES[k // 10_000_000]}{k % 10_000_000:07d}"


def base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, rest = divmod(n, 36)
        out = digits[rest] + out
        if not n:
            return out


def female_surname(male: str) -> str:
    if male.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return male + "а"
    if male.endswith("ий"):
        return male[:-2] + "ая"
    return male


def latin(text: str) -> str:
    out = "".join(LATIN.get(ch, ch) for ch in text.lower()).replace("-", "")
    return "".join(ch for ch in out if ch.isascii() and ch.isalnum())

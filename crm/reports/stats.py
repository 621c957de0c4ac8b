"""Figures shared by the reports: percentiles, shares, money from SQL sums.

Percentiles interpolate linearly between the closest ranks, as PostgreSQL's
`percentile_cont` does, so the same data gives the same median on both databases:
`grouped_quantiles` lets PostgreSQL compute them where the values are, and on SQLite
(which has no percentile function) reads the values and computes them here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crm.reports.scope import dialect, report_rows
from crm.rows import query

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Spread:
    """A distribution's middle and its 90th percentile (None when there are no values)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The `q` quantile of sorted values (linear interpolation, as percentile_cont)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def spread(values: Sequence[float]) -> Spread:
    ordered = sorted(values)
    return Spread(len(ordered), quantile(ordered, 0.5), quantile(ordered, 0.9))


async def grouped_quantiles(
    inner: str, params: Sequence[Any], keys: int = 1
) -> dict[tuple[Any, ...], Spread]:
    """Median and p90 of `v` per group of the first `keys` columns of `inner` (a SELECT of
    the key columns k1..kn and the value v)."""
    names = ", ".join(f"k{n}" for n in range(1, keys + 1))
    if dialect() == "postgres":
        rows = await report_rows(
            f"SELECT {names}, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY v),"
            f" percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM ({inner}) t GROUP BY {names}",
            params,
        )
        return {
            tuple(row[:keys]): Spread(int(row[keys]), float(row[keys + 1]), float(row[keys + 2]))
            for row in rows
        }
    groups: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for row in await query(f"SELECT {names}, v FROM ({inner}) t", params):
        groups[tuple(row[:keys])].append(float(row[keys]))
    return {key: spread(values) for key, values in groups.items()}


def money(value: Any) -> Decimal:
    """A SQL sum as money (SQLite sums decimals as floats; NULL is zero)."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENT)


def as_moment(value: Any) -> datetime | None:
    """A moment read in raw SQL: PostgreSQL gives datetimes, SQLite tortoise's ISO text."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def share(part: int | Decimal, whole: int | Decimal) -> float | None:
    """part / whole, None when the whole is zero (no figure rather than a zero)."""
    return float(part) / float(whole) if whole else None

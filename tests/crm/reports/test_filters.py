"""Report filters from a query string, and periods in the company's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm.errors import ValidationFailed
from crm.models import ClientKind
from crm.reports.filters import FieldMatch, Period, Preset, ReportFilter, parse_filter, preset_days


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        (Preset.THIS_WEEK, date(2026, 3, 30), date(2026, 4, 5)),
        (Preset.LAST_WEEK, date(2026, 3, 23), date(2026, 3, 29)),
        (Preset.THIS_MONTH, date(2026, 4, 1), date(2026, 4, 30)),
        (Preset.LAST_MONTH, date(2026, 3, 1), date(2026, 3, 31)),
        (Preset.THIS_QUARTER, date(2026, 4, 1), date(2026, 6, 30)),
        (Preset.LAST_QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
        (Preset.THIS_YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        (Preset.LAST_YEAR, date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_presets(preset: Preset, first: date, last: date) -> None:
    assert preset_days(preset, date(2026, 4, 2)) == (first, last)  # a Thursday


def test_january_last_month_and_quarter() -> None:
    assert preset_days(Preset.LAST_MONTH, date(2026, 1, 15)) == (
        date(2025, 12, 1),
        date(2025, 12, 31),
    )
    assert preset_days(Preset.LAST_QUARTER, date(2026, 2, 1)) == (
        date(2025, 10, 1),
        date(2025, 12, 31),
    )


def test_periods_begin_at_local_midnight() -> None:
    vladivostok = Period.of_days(date(2026, 3, 1), date(2026, 3, 31), "Asia/Vladivostok")
    assert vladivostok.start == datetime(2026, 2, 28, 14, 0, tzinfo=UTC)
    assert vladivostok.end == datetime(2026, 3, 31, 14, 0, tzinfo=UTC)
    berlin = Period.of_days(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
    assert (berlin.end - berlin.start).total_seconds() == 23 * 3600  # the clocks went forward


def test_parse_a_full_filter() -> None:
    parsed = parse_filter(
        {
            "from": "2026-01-01",
            "to": "2026-03-31",
            "scenario": "3",
            "managers": "4, 5,4",
            "channel": "6",
            "lead_source": "promo",
            "tag": "7",
            "kind": "legal",
            "relation": "buyer",
            "field": "8",
            "field_value": "Опт",
        }
    )
    assert parsed.preset is None and parsed.date_from == date(2026, 1, 1)
    assert parsed.manager_ids == (4, 5)
    assert parsed.client_kind == ClientKind.LEGAL
    assert parsed.field == FieldMatch(8, "Опт")
    assert parse_filter({}) == ReportFilter(preset=Preset.THIS_MONTH)
    assert parse_filter({"period": "last_year"}).preset == Preset.LAST_YEAR


def test_bad_filters_are_refused_together() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_filter(
            {
                "period": "someday",
                "managers": "1,x",
                "kind": "alien",
                "field": "1",
                "colour": "red",
                "tag": "-1",
            }
        )
    assert set(refused.value.fields) == {
        "period",
        "managers",
        "kind",
        "field_value",
        "colour",
        "tag",
    }
    for query, name in (
        ({"from": "2026-01-01"}, "to"),
        ({"from": "2026-03-01", "to": "2026-01-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"from": "1.1.2026", "to": "2026-01-02"}, "from"),
        ({"period": "this_month", "from": "2026-01-01", "to": "2026-01-02"}, "period"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            parse_filter(query)
        assert name in refused.value.fields, query

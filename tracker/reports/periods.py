"""Report periods: a quarter (the default), a month, a year or a custom range of London dates, and
the period of the same length just before it, which every figure is compared with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tracker.params import date_param
from tracker.timeutil import LONDON, format_date, london_today

KINDS = [("quarter", "Quarter"), ("month", "Month"), ("year", "Year"), ("custom", "Custom dates")]
# A longer custom range is a typing mistake (and a very slow report).
MAX_CUSTOM_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # first day, inclusive
    last: date  # last day, inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def starts_at(self) -> datetime:
        """The first instant of the period (midnight in London), for comparing with stored datetimes."""
        return datetime.combine(self.first, time(), LONDON)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), LONDON)

    @property
    def label(self) -> str:
        if self.kind == "quarter":
            return f"{self.first:%B} to {self.last:%B %Y}"
        if self.kind == "month":
            return f"{self.first:%B %Y}"
        if self.kind == "year":
            return str(self.first.year)
        return f"{format_date(self.first)} to {format_date(self.last)}"

    @property
    def slug(self) -> str:
        """For filenames: 2026-10-01-to-2026-12-31."""
        return f"{self.first.isoformat()}-to-{self.last.isoformat()}"

    def previous(self) -> Period:
        """The period of the same kind (or, for custom dates, the same number of days) just before."""
        if self.kind == "custom":
            return Period("custom", self.first - timedelta(days=self.days), self.first - timedelta(days=1))
        return period_of(self.kind, self.first - timedelta(days=1))

    def following(self) -> Period:
        return period_of(self.kind, self.last + timedelta(days=1))

    def query_args(self) -> dict[str, str]:
        if self.kind == "custom":
            return {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.kind, "of": self.first.isoformat()}


def period_of(kind: str, day: date) -> Period:
    """The calendar month, quarter or year containing ``day``."""
    if kind == "month":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif kind == "year":
        first, last = date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        last = (first + timedelta(days=95)).replace(day=1) - timedelta(days=1)
        kind = "quarter"
    return Period(kind, first, last)


def quarters_ending_with(period: Period, count: int = 8) -> list[Period]:
    """The ``count`` calendar quarters up to and including the one the period ends in, oldest first."""
    quarters = [period_of("quarter", period.last)]
    while len(quarters) < count:
        quarters.insert(0, quarters[0].previous())
    return quarters


def parse_period(args: Mapping[str, str]) -> tuple[Period, list[tuple[str, str]]]:
    """The period a report's query string asks for, and problems as (field, message) pairs.

    With a problem the current quarter is used, so the page can still say what is wrong above it.
    """
    kind = args.get("period", "quarter")
    today = london_today()
    if kind not in {value for value, _ in KINDS}:
        return period_of("quarter", today), [("period", "Choose a quarter, a month, a year or custom dates")]
    if kind != "custom":
        raw = args.get("of", "")
        day = date_param(raw) if raw else today
        if day is None:
            return period_of(kind, today), [("of", "Enter a real date between 1900 and 2100")]
        return period_of(kind, day), []
    first, last = date_param(args.get("from", "")), date_param(args.get("to", ""))
    problems = []
    if first is None:
        problems.append(("from", "Enter the first day of the period as a real date between 1900 and 2100"))
    if last is None:
        problems.append(("to", "Enter the last day of the period as a real date between 1900 and 2100"))
    if first is not None and last is not None:
        if last < first:
            problems.append(("to", "The last day must be the same as or after the first day"))
        elif (last - first).days + 1 > MAX_CUSTOM_DAYS:
            problems.append(("to", "Choose a period of at most three years"))
    if problems or first is None or last is None:
        return period_of("quarter", today), problems
    return Period("custom", first, last), []

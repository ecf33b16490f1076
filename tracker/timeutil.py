"""Time helpers: store UTC, show Europe/London."""

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite has no time zones, so values come back naive; this type refuses naive input and
    hands back aware UTC datetimes everywhere, so comparisons never mix the two.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def london(value: datetime | None) -> datetime | None:
    return value.astimezone(LONDON) if value is not None else None


def format_date(value) -> str:
    """25 November 2026."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return _day_in_words(value)


@lru_cache(maxsize=4096)
def _day_in_words(day: date) -> str:
    # A page shows the same few dates many times (due dates, meeting days), and strftime costs a few
    # microseconds each time: 25 matters arising show 50 dates.
    return f"{day.day} {day:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    """25 November 2026 at 10:00."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)  # once: a page of the audit log formats a hundred
    return f"{_day_in_words(local.date())} at {local.hour:02d}:{local.minute:02d}"


def london_today():
    """Today's date in Europe/London: due dates are London dates."""
    return datetime.now(LONDON).date()


def london_midnight(day: date) -> datetime:
    """The moment ``day`` begins in Europe/London (a date filter's bound; "today" from its start)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=LONDON)

"""SQL functions the reports need that SQLite and PostgreSQL spell differently, so that figures are
counted in the database (one query), never in Python loops over rows.

- ``london_date(ts)``: the Europe/London calendar date of a stored UTC datetime. Due dates are
  London dates, so "completed on time" compares like with like, including in British Summer Time.
- ``days_between(later, earlier)``: whole days between two dates.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Date, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from tracker.timeutil import LONDON


class london_date(GenericFunction):  # named as SQL calls it
    type = Date()
    inherit_cache = True


class days_between(GenericFunction):
    type = Integer()
    inherit_cache = True


@compiles(london_date, "postgresql")
def _london_date_postgresql(element, compiler, **kw):
    return f"CAST(timezone('Europe/London', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _sqlite_london_date(value: str | None) -> str | None:
    """SQLite stores UTC datetimes as text ('2026-11-26 09:30:00.000000'); answer the London date."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON).date().isoformat()


def register_sqlite_functions(dbapi_connection) -> None:
    """SQLite has no time zones: london_date is a deterministic Python function on each connection."""
    dbapi_connection.create_function("london_date", 1, _sqlite_london_date, deterministic=True)


__all__ = ["days_between", "london_date", "register_sqlite_functions"]

"""SQL functions the reports need that SQLite and PostgreSQL spell differently, so that figures are
counted in the database (one query), never in Python loops over rows.

- ``london_date(ts)``: the Europe/London calendar date of a stored UTC datetime. Due dates are
  London dates, so "completed on time" compares like with like, including in British Summer Time.
- ``days_between(later, earlier)``: whole days between two dates.

And one construct SQLite needs told: ``OuterLoopJoin``, an inner join whose left side SQLite reads
as the outer loop.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import Date, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import Join
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


class OuterLoopJoin(Join):
    """``left JOIN right ON onclause``, which SQLite must answer by reading ``left`` in the outer loop.

    For a page ordered first by a column of ``left`` (matters arising: by agency name, then by due
    date) with an index on ``right`` that gives the rest of the order for each ``left`` row, that
    order reads the first page and stops, rather than reading every matching row of ``right`` and
    sorting them. SQLite's planner, without statistics, prefers to start from the narrower index on
    ``right`` and sort; SQLite documents CROSS JOIN as the way to fix the order of the loops. Other
    databases get the plain join and plan it themselves (PostgreSQL forbids ON after CROSS JOIN;
    matters arising give PostgreSQL a LATERAL subquery instead, and the join only to count them)."""

    inherit_cache = True

    def __init__(self, left, right, onclause) -> None:  # an inner join only: CROSS JOIN is inner
        super().__init__(left, right, onclause)


@compiles(OuterLoopJoin, "sqlite")
def _outer_loop_join_sqlite(join, compiler, asfrom=False, from_linter=None, **kw):
    if from_linter:  # as the compiler's own visit_join does, so the cartesian product check sees it
        from_linter.edges.update(itertools.product(join.left._from_objects, join.right._from_objects))
    left = join.left._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    right = join.right._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    onclause = join.onclause._compiler_dispatch(compiler, from_linter=from_linter, **kw)
    return f"{left} CROSS JOIN {right} ON {onclause}"


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

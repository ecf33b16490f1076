"""On PostgreSQL, a transaction begins at its first write, not at its first statement.

psycopg, left to itself, sends BEGIN before a connection's first statement, as a round trip of its
own, and the request's end sends COMMIT: two of a page's ten or so round trips, each about 0.3 ms and
more when the server is busy. A page that only reads gains nothing from them: at READ COMMITTED, the
level used here, each statement sees the data as committed when that statement began, inside a
transaction or not, so reads outside one see exactly what they saw inside it.

So each connection is put in psycopg's autocommit mode, where it sends no BEGIN of its own, and
BEGIN is sent here, just before the first statement that is not a plain read: an INSERT, UPDATE or
DELETE, DDL, a SAVEPOINT, a SELECT that locks rows, writes (SELECT ... INTO) or calls a function
that changes state (an advisory lock, set_config, a sequence), or a read through a server-side
cursor (streamed results: PostgreSQL keeps such a cursor only within a transaction). From there on
everything runs in that transaction, and is committed or rolled back whole, as before; reads after a
write see it. (SQLite's driver works the same way: it begins a transaction before the first write.)
A SELECT calling a function of our own that writes would have to be added to _WRITES.

A page view's only write is usually its audit event, inserted as the request commits
(tracker/audit.py). When that INSERT is the only statement its transaction would hold, it is marked
LONE_WRITE and runs by itself: PostgreSQL commits a single statement as a transaction of its own, all
of its rows or none. Once an earlier write has begun a transaction, the INSERT joins it instead.

Only at READ COMMITTED: a connection whose default level is another (REPEATABLE READ, SERIALIZABLE,
read-only or deferrable, in the engine's options, the database URL or PGOPTIONS), where a request's
reads would share one snapshot, is left as psycopg makes it. SQLAlchemy is not told: it begins and
ends its transactions as ever, and psycopg's commit() and rollback() send COMMIT or ROLLBACK only when
the server holds a transaction open. A connection given another isolation level through SQLAlchemy
(``isolation_level="AUTOCOMMIT"`` for VACUUM, or a stricter level) is left to SQLAlchemy and psycopg;
when it comes back to the pool SQLAlchemy restores the default, and it is put back in autocommit when
next checked out.
"""

from __future__ import annotations

import re

from psycopg import IsolationLevel, ServerCursor
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event

# The execution option that lets a write run without a transaction when none is open: given only to
# a statement that is the last and only write of its transaction.
LONE_WRITE = "lone_write"

# A plain read: a SELECT (or a WITH ... SELECT that modifies nothing) that locks no rows and changes
# nothing. Anything else begins a transaction: a statement not recognised as a read costs a BEGIN, never
# its atomicity.
_SELECT = re.compile(r"\s*\(*\s*SELECT\b", re.IGNORECASE)
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_MODIFIES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_LOCKS = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b", re.IGNORECASE)
_WRITES = re.compile(r"\bINTO\b|\bpg_advisory|\bset_config\s*\(|\b(nextval|setval)\s*\(", re.IGNORECASE)


def is_plain_read(statement: str) -> bool:
    if _LOCKS.search(statement) or _WRITES.search(statement):
        return False
    if _SELECT.match(statement):
        return True
    return bool(_WITH.match(statement)) and not _MODIFIES.search(statement)


# Kept with each pooled connection: whether it runs at READ COMMITTED, read-write, so may begin at its
# first write.
_ELIGIBLE = "begins_at_first_write"


def begin_at_first_write(engine: Engine) -> None:
    """Listen on ``engine`` (PostgreSQL with psycopg) for the above. Called once per engine, after
    any "connect" listener that needs a transaction of its own."""

    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_connection, record) -> None:
        # The level psycopg is to ask for (set by SQLAlchemy from the engine's options), and the
        # session's default (postgresql.conf, the database, the URL's options, PGOPTIONS).
        asked = dbapi_connection.isolation_level, dbapi_connection.read_only, dbapi_connection.deferrable
        dbapi_connection.autocommit = True  # so that this SELECT sends no BEGIN
        default = dbapi_connection.execute(
            "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'),"
            " current_setting('transaction_deferrable')",
            prepare=False,
        ).fetchone()
        eligible = asked[0] in (None, IsolationLevel.READ_COMMITTED) and not any(asked[1:])
        record.info[_ELIGIBLE] = eligible and tuple(default) == ("read committed", "off", "off")
        dbapi_connection.autocommit = record.info[_ELIGIBLE]

    @event.listens_for(engine, "checkout")
    def _autocommit_again(dbapi_connection, record, _proxy) -> None:
        # SQLAlchemy restores its default level (not autocommit) on a connection given another one.
        if (
            record.info.get(_ELIGIBLE)
            and not dbapi_connection.autocommit
            and dbapi_connection.info.transaction_status == TransactionStatus.IDLE
        ):
            dbapi_connection.autocommit = True

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_a_write(connection, cursor, statement, _parameters, context, _executemany) -> None:
        dbapi_connection = cursor.connection
        if not dbapi_connection.autocommit or dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
            return  # a transaction is open already, or psycopg begins them itself (another level)
        options = context.execution_options if context is not None else connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT" or options.get(LONE_WRITE):
            return
        if is_plain_read(statement) and not isinstance(cursor, ServerCursor):
            return
        dbapi_connection.execute("BEGIN", prepare=False)

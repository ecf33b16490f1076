"""On PostgreSQL a transaction begins at its first write (tracker/transactions.py): a page that only
reads, and writes nothing but its audit event, sends no BEGIN and no COMMIT; every other write is in a
transaction that commits or rolls back whole."""

from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.conftest import ON_POSTGRES, get_page
from tracker import audit
from tracker.extensions import db
from tracker.models import Agency, AuditEvent
from tracker.transactions import is_plain_read

on_postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="psycopg's transactions")


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT agencies.id FROM agencies",
        "  select 1",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "WITH last_named AS (SELECT id FROM users) SELECT id FROM last_named",
        "SELECT id FROM actions WHERE description = 'FOR the record'",
    ],
)
def test_plain_reads_are_recognised(statement):
    assert is_plain_read(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO audit_events (action) VALUES (%(action)s)",
        "UPDATE actions SET status = 'open'",
        "DELETE FROM user_sessions",
        "SAVEPOINT sa_savepoint_1",
        "CREATE INDEX ix ON actions (due_date)",
        "SELECT id FROM actions FOR UPDATE",
        "SELECT id FROM actions FOR NO KEY UPDATE",
        "select id from actions for share",
        "WITH gone AS (DELETE FROM user_sessions RETURNING id) SELECT count(*) FROM gone",
        "TRUNCATE audit_events",
        "VACUUM ANALYZE",
    ],
)
def test_anything_else_begins_a_transaction(statement):
    assert not is_plain_read(statement)


@dataclass
class Seen:
    """A statement as the server saw it: its first word, whether a transaction was open as it was sent
    (this listener runs after the one that sends BEGIN), and the transaction that holds it once it has
    run: None when it ran by itself (committed already) or when it wrote nothing."""

    word: str
    in_transaction: bool
    xact: int | None


@contextmanager
def transaction_states(app):
    from psycopg.pq import TransactionStatus

    seen: list[Seen] = []

    def before(_conn, cursor, statement, *_args):
        open_ = cursor.connection.info.transaction_status != TransactionStatus.IDLE
        seen.append(Seen(statement.split()[0].upper(), open_, None))

    def after(_conn, cursor, *_args):
        # Straight on the driver's connection: no SQLAlchemy event, and no BEGIN of its own.
        xact = cursor.connection.execute("SELECT pg_current_xact_id_if_assigned()", prepare=False).fetchone()[0]
        seen[-1].xact = int(str(xact)) if xact is not None else None

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def writes(seen: list[Seen]) -> list[Seen]:
    return [state for state in seen if state.word in ("INSERT", "UPDATE", "DELETE")]


@on_postgres_only
def test_a_page_view_reads_and_writes_its_audit_event_without_begin_or_commit(
    app, client, login_as, make_agency, make_meeting
):
    police = make_agency(name="Police", code="POL")
    chair = login_as("chair", police)
    meeting_id = make_meeting(0, chair=chair, invited=[police])
    get_page(client, f"/meetings/{meeting_id}")
    with transaction_states(app) as seen:
        get_page(client, f"/meetings/{meeting_id}")
    assert [(state.word, state.in_transaction, state.xact) for state in writes(seen)] == [("INSERT", False, None)]
    assert not any(state.in_transaction for state in seen), seen  # no BEGIN, so no COMMIT either
    with app.app_context():
        viewed = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "meeting_viewed"))
    assert viewed == 2  # and the event was committed


@on_postgres_only
def test_writes_after_the_first_run_in_one_transaction_that_rolls_back_whole(app):
    with app.app_context(), transaction_states(app) as seen:
        db.session.scalar(sa.select(sa.func.count(Agency.id)))
        db.session.add(Agency(name="First agency", code="FIRST"))
        db.session.flush()
        db.session.add(Agency(name="Second agency", code="SECOND"))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Agency.id)).where(Agency.code.in_(["FIRST", "SECOND"]))) == 0
    assert (seen[0].word, seen[0].in_transaction) == ("SELECT", False)
    first, second = writes(seen)
    assert first.in_transaction and first.xact is not None and second.xact == first.xact


@on_postgres_only
def test_an_audit_event_written_with_other_changes_joins_their_transaction(app, client, login_as, make_agency):
    """A sign-out ends the session row (a write) and records an event: one transaction, not two."""
    login_as("chair", make_agency(name="Police", code="POL"))
    page = get_page(client, "/")
    token = page.select_one("form[action='/sign-out'] input[name=csrf_token]")
    with transaction_states(app) as seen:
        client.post("/sign-out", data={"csrf_token": token["value"]} if token else {})
    written = writes(seen)
    assert len(written) >= 2, seen
    assert written[0].xact is not None and all(state.xact == written[0].xact for state in written), seen


@on_postgres_only
def test_a_connection_lent_for_autocommit_comes_back_beginning_at_its_first_write(app):
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM agencies")  # refused inside a transaction block
        with db.engine.connect() as connection, transaction_states(app) as seen:
            assert connection.connection.driver_connection.autocommit  # back in autocommit
            connection.execute(sa.select(sa.func.count(Agency.id)))
            connection.execute(sa.insert(Agency).values(name="Lent agency", code="LENT", active=True))
            connection.execute(sa.insert(Agency).values(name="Lent again", code="LENT2", active=True))
            connection.rollback()
            left = connection.execute(sa.select(sa.func.count()).where(Agency.code.like("LENT%"))).scalar()
        assert left == 0
        assert [(state.word, state.in_transaction) for state in seen[:3]] == [
            ("SELECT", False),
            ("INSERT", True),
            ("INSERT", True),
        ]


@on_postgres_only
def test_an_audit_event_after_an_earlier_write_joins_its_transaction(app, make_agency):
    """A Core UPDATE has begun a transaction: the event's INSERT, marked as a lone write, joins it."""
    make_agency(name="Renamed agency", code="RENAME")
    with app.test_request_context(), transaction_states(app) as seen:
        db.session.execute(sa.update(Agency).where(Agency.code == "RENAME").values(name="Agency renamed"))
        audit.record("agencies_renamed")
        db.session.commit()
    update, insert = writes(seen)
    assert (update.word, insert.word) == ("UPDATE", "INSERT")
    assert update.xact is not None and insert.xact == update.xact


@on_postgres_only
@pytest.mark.parametrize(
    "first",
    [
        sa.select(Agency.id).with_for_update(),
        sa.text("SELECT pg_advisory_xact_lock(42)"),
    ],
    ids=["select for update", "advisory lock"],
)
def test_a_read_that_locks_begins_the_transaction_that_holds_the_lock(app, first):
    with app.app_context(), transaction_states(app) as seen:
        db.session.execute(first)
        assert db.session.connection().connection.driver_connection.info.transaction_status.name == "INTRANS"
        db.session.rollback()
    assert seen[0].in_transaction  # BEGIN went before it


@on_postgres_only
def test_a_savepoint_or_a_streamed_read_first_begins_a_transaction(app):
    with app.app_context():
        with db.session.begin_nested():
            assert db.session.connection().connection.driver_connection.info.transaction_status.name == "INTRANS"
        db.session.rollback()
        streamed = db.session.execute(sa.select(Agency.id).execution_options(yield_per=10))
        assert streamed.all() is not None
        db.session.rollback()


def test_audit_events_recorded_before_a_savepoint_that_fails_are_kept(app, make_agency):
    """The savepoint's release is a commit to SQLAlchemy: the events wait for the request's own, so the
    savepoint's failed flush does not take them with it."""
    make_agency(name="Taken agency", code="TAKEN")
    with app.test_request_context():
        audit.record("thing_viewed")
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(Agency(name="Taken agency", code="OTHER"))
        db.session.commit()
        kept = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "thing_viewed"))
    assert kept == 1


@on_postgres_only
@pytest.mark.parametrize(
    ("engine_options", "connect_options"),
    [
        ({"isolation_level": "REPEATABLE READ"}, ""),
        ({}, "-c default_transaction_isolation=serializable"),
        ({}, "-c default_transaction_read_only=on"),
    ],
    ids=["the engine's level", "the session's default level", "read only"],
)
def test_at_any_other_level_psycopg_begins_transactions_itself(database_uri, engine_options, connect_options):
    """Where a request's reads would share one snapshot (or must stay read only), they keep their
    transaction: the connection is not put in autocommit."""
    from config import TestingConfig
    from tests.conftest import make_test_app

    options = {**TestingConfig.SQLALCHEMY_ENGINE_OPTIONS, **engine_options}
    if connect_options:
        options["connect_args"] = {"options": connect_options}
    app = make_test_app(database_uri, SQLALCHEMY_ENGINE_OPTIONS=options)
    with app.app_context():
        db.session.scalar(sa.select(sa.func.count(Agency.id)))
        driver = db.session.connection().connection.driver_connection
        assert not driver.autocommit
        assert driver.info.transaction_status.name == "INTRANS"
        db.session.rollback()
        db.engine.dispose()

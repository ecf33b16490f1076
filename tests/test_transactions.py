"""On PostgreSQL a transaction begins at its first write (tracker/transactions.py): a page that only
reads, and writes nothing but its audit event, sends no BEGIN and no COMMIT; every other write is in a
transaction that commits or rolls back whole."""

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES, get_page
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


@contextmanager
def transaction_states(app):
    """(statement's first word, whether the server held a transaction open as it was sent)."""
    from psycopg.pq import TransactionStatus

    seen: list[tuple[str, bool]] = []

    def before(_conn, cursor, statement, *_args):
        seen.append((statement.split()[0].upper(), cursor.connection.info.transaction_status != TransactionStatus.IDLE))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


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
    assert ("INSERT", False) in seen
    assert [state for state in seen if state[1]] == [], seen  # nothing ran inside a transaction
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
    # (This listener runs after the one that sends BEGIN: the first INSERT is seen inside it.)
    assert seen[:3] == [("SELECT", False), ("INSERT", True), ("INSERT", True)]


@on_postgres_only
def test_an_audit_event_written_with_other_changes_joins_their_transaction(app, client, login_as, make_agency):
    """A sign-out ends the session row (a write) and records an event: one transaction, not two."""
    login_as("chair", make_agency(name="Police", code="POL"))
    page = get_page(client, "/")
    token = page.select_one("form[action='/sign-out'] input[name=csrf_token]")
    with transaction_states(app) as seen:
        client.post("/sign-out", data={"csrf_token": token["value"]} if token else {})
    writes = [state for state in seen if state[0] in ("INSERT", "UPDATE", "DELETE")]
    assert len(writes) >= 2, seen
    assert all(in_transaction for _, in_transaction in writes[1:]), seen


@on_postgres_only
def test_a_connection_lent_for_autocommit_comes_back_beginning_at_its_first_write(app):
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM agencies")  # refused inside a transaction block
        with db.engine.connect() as connection, transaction_states(app) as seen:
            connection.execute(sa.select(sa.func.count(Agency.id)))  # back in autocommit: no BEGIN for it
            connection.execute(sa.insert(Agency).values(name="Lent agency", code="LENT", active=True))
            connection.execute(sa.insert(Agency).values(name="Lent again", code="LENT2", active=True))
            connection.rollback()
            left = connection.execute(sa.select(sa.func.count()).where(Agency.code.like("LENT%"))).scalar()
        assert left == 0
        assert seen[:3] == [("SELECT", False), ("INSERT", True), ("INSERT", True)]

"""The database itself refuses to change the audit log, the actions' trails and the stored minutes
(triggers, on SQLite and PostgreSQL alike; on PostgreSQL see also tests/test_postgres_roles.py)."""

from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES
from tracker.extensions import db
from tracker.models import Action, ActionUpdate, Agency, AuditEvent, Meeting, MinutesDocument
from tracker.timeutil import utcnow


@pytest.fixture
def rows(app):
    with app.app_context():
        agency = Agency(name="Agency A", code="AAA")
        meeting = Meeting(starts_at=utcnow(), location="Room 1")
        action = Action(meeting=meeting, description="Do it", owning_agency=agency, due_date=date.today())
        db.session.add_all(
            [
                ActionUpdate(action=action, note="Progress"),
                MinutesDocument(meeting=meeting, revision=1, pdf=b"%PDF", sha256="x" * 64, size_bytes=4),
                AuditEvent(action="test_event"),
            ]
        )
        db.session.commit()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET detail = 'changed'",
        "DELETE FROM audit_events",
        "UPDATE action_updates SET note = 'changed'",
        "UPDATE minutes_documents SET sha256 = 'y'",
        # On PostgreSQL the schema's owner (whom the tests connect as) may delete stored minutes, for the
        # retention purge; the application's role may not (tests/test_postgres_roles.py).
        pytest.param(
            "DELETE FROM minutes_documents",
            marks=pytest.mark.skipif(ON_POSTGRES, reason="the owner may delete stored minutes on PostgreSQL"),
        ),
    ],
)
def test_the_database_refuses_to_change_append_only_rows(app, rows, statement):
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(ActionUpdate.id))) == 1

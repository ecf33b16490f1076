"""Audit events recorded in a request (tracker/audit.py): written as the request commits, dropped if it
rolls back, and kept through a savepoint that fails."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tracker import audit
from tracker.extensions import db
from tracker.models import Agency, AuditEvent


def test_audit_events_recorded_before_a_savepoint_that_fails_are_kept(app, make_agency):
    """A savepoint's release is a commit to SQLAlchemy, and its failed flush a rollback of its own: the
    events wait for the request's commit, so neither takes them away (two officers sending a case's
    first return at once meet this, tracker/reviews/operations.py)."""
    make_agency(name="Taken agency", code="TAKEN")
    with app.test_request_context():
        audit.record("thing_viewed")
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(Agency(name="Taken agency", code="OTHER"))
        db.session.commit()
        kept = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "thing_viewed"))
    assert kept == 1


def test_audit_events_go_with_the_requests_rollback(app):
    with app.test_request_context():
        audit.record("thing_viewed")
        db.session.rollback()
        db.session.commit()
        kept = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "thing_viewed"))
    assert kept == 0

"""read_rows (tracker/extensions.py): rows of columns read on the session's connection see the
request's own changes, as the ORM's reads do, and do not flush where the ORM would not."""

import sqlalchemy as sa

from tracker.extensions import db, read_rows
from tracker.models import Agency


def test_rows_read_on_the_connection_see_the_sessions_own_changes(app):
    with app.app_context():
        db.session.add(Agency(name="Rows agency", code="ROWS"))
        codes = read_rows(sa.select(Agency.code).where(Agency.code == sa.bindparam("code")), {"code": "ROWS"})
        assert codes.scalars().all() == ["ROWS"]
        db.session.rollback()


def test_rows_read_without_autoflush_leave_pending_changes_alone(app):
    with app.app_context():
        agency = Agency(name="Pending agency", code="PEND")
        db.session.add(agency)
        with db.session.no_autoflush:
            assert read_rows(sa.select(Agency.code).where(Agency.code == "PEND")).all() == []
        assert agency in db.session.new
        db.session.rollback()

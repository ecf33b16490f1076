"""Attendance is indexed by meeting, agency and status, in place of the meeting alone.

A partner sees a meeting its agency attended: the scope rule asks, for each meeting, whether anyone from
the agency was present at it. With the index by meeting alone, each question read every attendance row
of the meeting (about fifteen) and tested its agency and status; a partner's meetings list counts the
meetings it may see, 520 questions at ten years of generated data (bench/generate.py), and took 1.0 ms
on SQLite for the count alone, growing with every meeting held. With this index each question is one
seek in the index alone: 0.44 ms. The same rule runs on every page that shows a partner a meeting or a
case review. The index by meeting alone is its first column, so it goes.

Revision ID: d7a3f1c9e2b4
Revises: c6e2f8a4d1b7
Create Date: 2026-11-27 11:10:00

"""

from alembic import op

revision = "d7a3f1c9e2b4"
down_revision = "c6e2f8a4d1b7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_attendance_meeting_agency_status", "attendance", ["meeting_id", "agency_id", "status"], unique=False
    )
    op.drop_index("ix_attendance_meeting_id", table_name="attendance")


def downgrade():
    op.create_index("ix_attendance_meeting_id", "attendance", ["meeting_id"], unique=False)
    op.drop_index("ix_attendance_meeting_agency_status", table_name="attendance")

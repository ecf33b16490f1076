"""The open-actions index also holds the owning agency, so matters arising chooses its page from the
index alone.

Matters arising sorts the open actions due by the next meeting by agency, then due date. With ten
years of history that is some 3,000 actions; the index (status, due_date, meeting_id) found them, but
the owning agency had to be read from each action's row. With owning_agency_id in the index, the
ids, the sort key and the filters all come from the index (SQLite's plan says "COVERING INDEX").

Revision ID: e2c7a4b9d105
Revises: b7e4d2a9c6f1
Create Date: 2026-11-26 16:00:00

"""

from alembic import op

revision = "e2c7a4b9d105"
down_revision = "b7e4d2a9c6f1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_status_due_meeting")
        batch_op.create_index(
            "ix_actions_status_due_meeting", ["status", "due_date", "meeting_id", "owning_agency_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_status_due_meeting")
        batch_op.create_index("ix_actions_status_due_meeting", ["status", "due_date", "meeting_id"], unique=False)

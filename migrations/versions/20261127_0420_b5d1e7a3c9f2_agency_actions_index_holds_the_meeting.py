"""The (agency, status, due date, id) index of actions also holds the action's meeting, so that a
partner's matters arising are counted and chosen from the index alone.

Matters arising are the open actions raised at earlier meetings: for a partner, its agency's. SQLite
chose this index for them and read each action's row for its meeting (1,196 rows for the police at
ten years of generated data): counting them took 1.6 ms, and 0.4 ms from the index alone.

Revision ID: b5d1e7a3c9f2
Revises: a8d2e4f6b1c3
Create Date: 2026-11-27 04:20:00

"""

from alembic import op

revision = "b5d1e7a3c9f2"
down_revision = "a8d2e4f6b1c3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_agency_status_due")
        batch_op.create_index(
            "ix_actions_agency_status_due",
            ["owning_agency_id", "status", "due_date", "id", "meeting_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_agency_status_due")
        batch_op.create_index(
            "ix_actions_agency_status_due", ["owning_agency_id", "status", "due_date", "id"], unique=False
        )

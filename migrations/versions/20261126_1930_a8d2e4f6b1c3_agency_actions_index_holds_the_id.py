"""The (agency, status, due date) index of actions also holds the action's id, so that PostgreSQL
chooses a partner's page of open actions from the index alone.

A partner's home page and actions list sort their agency's open actions (1,196 for the police at ten
years of generated data) and keep 25 ids. The index had every column of the sort but the id, which
PostgreSQL's indexes do not carry: it read each action's row (597 table pages) to get it. SQLite's
indexes hold the row id anyway; for SQLite this changes nothing.

Revision ID: a8d2e4f6b1c3
Revises: f3a1c5d7e9b2
Create Date: 2026-11-26 19:30:00

"""

from alembic import op

revision = "a8d2e4f6b1c3"
down_revision = "f3a1c5d7e9b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_agency_status_due")
        batch_op.create_index(
            "ix_actions_agency_status_due", ["owning_agency_id", "status", "due_date", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_agency_status_due")
        batch_op.create_index("ix_actions_agency_status_due", ["owning_agency_id", "status", "due_date"], unique=False)

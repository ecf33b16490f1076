"""Indexes for the period reports, so their cost follows the period, not the years of history:
actions by when they were closed (completions in a period; actions still open at its end), and
meetings by status and start (meetings held in a period), which makes the status-only index redundant.

Revision ID: 9d1f3b7c2a10
Revises: c5e2a7d41f90
Create Date: 2026-11-26 12:45:00.000000

"""

from alembic import op

revision = "9d1f3b7c2a10"
down_revision = "c5e2a7d41f90"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actions_closed_at"), ["closed_at"], unique=False)
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_status"))
        batch_op.create_index("ix_meetings_status_starts_at", ["status", "starts_at"], unique=False)


def downgrade():
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_status_starts_at")
        batch_op.create_index(batch_op.f("ix_meetings_status"), ["status"], unique=False)
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_closed_at"))

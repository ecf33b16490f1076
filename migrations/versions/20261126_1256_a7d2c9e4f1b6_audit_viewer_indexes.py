"""Indexes for the audit viewer, so that each of its filters stays fast at millions of events.

- ix_audit_events_user_at (user_id, at): one account's events newest first, and an agency's (the
  events of each of its accounts). Replaces ix_audit_events_user_id, which it starts with.
- ix_audit_events_action_at (action, at): one kind of event newest first; the list of kinds is read
  from it one index seek per kind. Replaces ix_audit_events_action, which it starts with.
- ix_audit_events_object_at (object_type, object_id, at): everything about one record, and "who saw
  case X, and when" (the case, its reviews and actions, and the meetings it was on).
ix_audit_events_at stays: the unfiltered log and date ranges, newest first.

Revision ID: a7d2c9e4f1b6
Revises: c4f1a9e2b7d3
Create Date: 2026-11-26 12:40:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a7d2c9e4f1b6"
down_revision = "c4f1a9e2b7d3"
branch_labels = None
depends_on = None


# Plain index operations, not batch mode: on SQLite a batch that copied the table would drop its
# append-only triggers.


def upgrade():
    op.create_index("ix_audit_events_user_at", "audit_events", ["user_id", "at"], unique=False)
    op.create_index("ix_audit_events_action_at", "audit_events", ["action", "at"], unique=False)
    op.create_index("ix_audit_events_object_at", "audit_events", ["object_type", "object_id", "at"], unique=False)
    op.drop_index("ix_audit_events_user_id", table_name="audit_events")
    op.drop_index("ix_audit_events_action", table_name="audit_events")


def downgrade():
    op.create_index("ix_audit_events_action", "audit_events", ["action"], unique=False)
    op.create_index("ix_audit_events_user_id", "audit_events", ["user_id"], unique=False)
    op.drop_index("ix_audit_events_object_at", table_name="audit_events")
    op.drop_index("ix_audit_events_action_at", table_name="audit_events")
    op.drop_index("ix_audit_events_user_at", table_name="audit_events")

"""Three partial indexes of the open actions alone: by due date, by agency then due date, by meeting;
the two status-led indexes of every action give way to one by agency and due date.

The open actions are the panel's working set: 3,364 of 31,545 actions at ten years of generated data
(bench/generate.py), and a smaller share the longer the service runs. The status-led indexes read open
actions in two runs (open, then in progress), so any order by due date meant sorting every open action
first, and counting by due date meant testing each one. These indexes hold only open actions (the
condition is tracker.models.action.IS_OPEN, whose statuses the queries write as literals), in the
orders the pages read them, each ending with the status so that SQLite reads them alone (it does only
when an index holds every column a query names). At ten years, on SQLite:
- the actions list's first page: 1.2 ms (sort of every open action) to 0.02 ms (the index's first 25);
- matters arising by agency: a sort of 3,200 to a walk of each agency's entries in order, 0.1 ms;
- the matters arising counts: 2.0 to 0.5 ms, counting the open actions of the meetings since the one
  shown (by meeting) and the few due later than a date (by due date) rather than testing each one.

The status-led indexes of every action (status, due date, meeting, agency) and (agency, status, due
date, id, meeting) served only open actions and, kept, SQLite without statistics (as the app runs it)
preferred them to the partial ones, an equality on the status looking narrower. Every query of open
actions now has a partial index; an agency's actions of any status (a partner's actions list filtered
by status) are read by agency and due date. That index holds no more, so that it never holds all a
query of open actions reads, which would make SQLite without statistics weigh it level with theirs.

The index of actions by case review also holds the owning agency. A partner's scope rule for cases
asks whether the agency owns an action on the review; with one column, SQLite without statistics
chose the agency index for it instead and walked all the agency's actions for each review (a
partner's meetings list took a second at ten years).

Revision ID: c6e2f8a4d1b7
Revises: b5d1e7a3c9f2
Create Date: 2026-11-27 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c6e2f8a4d1b7"
down_revision = "b5d1e7a3c9f2"
branch_labels = None
depends_on = None

# As tracker.models.action.IS_OPEN renders: a migration stays as written, so the condition is spelt out.
OPEN = sa.text("status IN ('open', 'in_progress')")
INDEXES = {
    "ix_actions_open_due": ["due_date", "id", "owning_agency_id", "meeting_id", "status"],
    "ix_actions_open_agency_due": ["owning_agency_id", "due_date", "id", "meeting_id", "status"],
    "ix_actions_open_meeting": ["meeting_id", "status"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "actions", columns, unique=False, sqlite_where=OPEN, postgresql_where=OPEN)
    op.drop_index("ix_actions_status_due_meeting", table_name="actions")
    op.drop_index("ix_actions_agency_status_due", table_name="actions")
    op.create_index("ix_actions_agency_due", "actions", ["owning_agency_id", "due_date"], unique=False)
    op.drop_index("ix_actions_case_review_id", table_name="actions")
    op.create_index("ix_actions_case_review_id", "actions", ["case_review_id", "owning_agency_id"], unique=False)


def downgrade():
    op.drop_index("ix_actions_case_review_id", table_name="actions")
    op.create_index("ix_actions_case_review_id", "actions", ["case_review_id"], unique=False)
    op.drop_index("ix_actions_agency_due", table_name="actions")
    op.create_index(
        "ix_actions_agency_status_due",
        "actions",
        ["owning_agency_id", "status", "due_date", "id", "meeting_id"],
        unique=False,
    )
    op.create_index(
        "ix_actions_status_due_meeting",
        "actions",
        ["status", "due_date", "meeting_id", "owning_agency_id"],
        unique=False,
    )
    for name in INDEXES:
        op.drop_index(name, table_name="actions")

"""Extension requests and each action's original due date (backfilled from the first due-date change, else the due date).

Revision ID: c5e2a7d41f90
Revises: 3a4e041ef8b8
Create Date: 2026-11-26 12:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5e2a7d41f90"
down_revision = "3a4e041ef8b8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_due_date", sa.Date(), nullable=True))
    # The date the meeting first set: the "from" of the earliest recorded due-date change, else today's due date.
    op.execute(
        "UPDATE actions SET original_due_date = COALESCE("
        "(SELECT u.due_from FROM action_updates u WHERE u.action_id = actions.id AND u.due_from IS NOT NULL"
        " ORDER BY u.at, u.id LIMIT 1), due_date)"
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.alter_column("original_due_date", existing_type=sa.Date(), nullable=False)

    op.create_table(
        "extension_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_due_date", sa.Date(), nullable=False),
        sa.Column("requested_due_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "agreed",
                "declined",
                name="extension_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], name=op.f("fk_extension_requests_action_id_actions")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_extension_requests_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_extension_requests_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extension_requests")),
    )
    with op.batch_alter_table("extension_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_extension_requests_action_id"), ["action_id"], unique=False)
        batch_op.create_index("ix_extension_requests_action_status", ["action_id", "status"], unique=False)


def downgrade():
    with op.batch_alter_table("extension_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_extension_requests_action_status")
        batch_op.drop_index(batch_op.f("ix_extension_requests_action_id"))
    op.drop_table("extension_requests")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("original_due_date")

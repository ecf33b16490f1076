"""Failed sign-ins are counted by a keyed hash of the address typed, never the typed text itself.

The rows only matter for the 15-minute throttling window, so the table is rebuilt empty both ways.

Revision ID: 86cbf9aa21f5
Revises: 5a63be55900a
Create Date: 2026-11-26 12:32:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "86cbf9aa21f5"
down_revision = "5a63be55900a"
branch_labels = None
depends_on = None


def _create(key_column: sa.Column, key_index: str) -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        key_column,
        sa.Column("ip_address", sa.String(length=45), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(key_index, [key_column.name, "at"], unique=False)
        batch_op.create_index("ix_login_failures_ip_at", ["ip_address", "at"], unique=False)


def _drop(key_index: str) -> None:
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_ip_at")
        batch_op.drop_index(key_index)
    op.drop_table("login_failures")


def upgrade():
    _drop("ix_login_failures_email_at")
    _create(sa.Column("account_key", sa.String(length=64), nullable=False), "ix_login_failures_account_key_at")


def downgrade():
    _drop("ix_login_failures_account_key_at")
    _create(sa.Column("email", sa.String(length=254), nullable=False), "ix_login_failures_email_at")

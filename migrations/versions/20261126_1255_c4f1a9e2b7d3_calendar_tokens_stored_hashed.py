"""Calendar-feed secrets stored as their SHA-256 only: existing links keep working.

Revision ID: c4f1a9e2b7d3
Revises: f7b3c9d2e815
Create Date: 2026-11-26 12:30:00

"""

import hashlib

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4f1a9e2b7d3"
down_revision = "f7b3c9d2e815"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_token_hash", sa.String(length=64), nullable=True))
    # Each existing secret is replaced by its digest, so the addresses people subscribed to still work.
    connection = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("calendar_token", sa.String),
        sa.column("calendar_token_hash", sa.String),
    )
    rows = connection.execute(sa.select(users.c.id, users.c.calendar_token).where(users.c.calendar_token.is_not(None)))
    for user_id, token in rows.all():
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
        connection.execute(users.update().where(users.c.id == user_id).values(calendar_token_hash=digest))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_calendar_token"), type_="unique")
        batch_op.drop_column("calendar_token")
        batch_op.create_unique_constraint(batch_op.f("uq_users_calendar_token_hash"), ["calendar_token_hash"])


def downgrade():
    # A digest cannot be turned back into its secret: every calendar link stops working, and people
    # make a new one.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_calendar_token_hash"), type_="unique")
        batch_op.drop_column("calendar_token_hash")
        batch_op.add_column(sa.Column("calendar_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_calendar_token"), ["calendar_token"])

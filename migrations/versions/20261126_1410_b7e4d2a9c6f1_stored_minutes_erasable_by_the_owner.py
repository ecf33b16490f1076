"""Stored minutes stay append-only, except that the owner of the schema may delete them: the
retention purge, run as the owner, erases the stored minutes of meetings whose every case it erased
(they hold those cases' reviews). The application's role still cannot delete them.

On SQLite, which has no roles, the purge lifts the delete trigger within its own transaction
(tracker/retention.py).

Revision ID: b7e4d2a9c6f1
Revises: 2d11f5e04eae
Create Date: 2026-11-26 14:10:00

"""

from alembic import op

revision = "b7e4d2a9c6f1"
down_revision = "2d11f5e04eae"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION minutes_documents_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE'
                   AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'minutes_documents is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )


def downgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION minutes_documents_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'minutes_documents is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )

"""Action updates are append-only: the database refuses to change them, and to delete them except
for the owner of the schema (the retention purge, run as the owner, erases whole cases).

On SQLite, which has no roles, only changes are refused.

Revision ID: f3c6a1d8e2b5
Revises: e5b8d3f2a914
Create Date: 2026-11-26 13:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f3c6a1d8e2b5"
down_revision = "e5b8d3f2a914"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION action_updates_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE'
                   AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'action_updates is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER action_updates_append_only BEFORE UPDATE OR DELETE ON action_updates "
            "FOR EACH ROW EXECUTE FUNCTION action_updates_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER action_updates_no_update BEFORE UPDATE ON action_updates "
            "BEGIN SELECT RAISE(ABORT, 'action_updates is append-only: UPDATE refused'); END"
        )


def downgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS action_updates_append_only ON action_updates")
        op.execute("DROP FUNCTION IF EXISTS action_updates_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS action_updates_no_update")

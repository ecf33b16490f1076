"""The database refuses UPDATE and DELETE on stored approved minutes, as it does on audit events.

Revision ID: d81e46493346
Revises: 7701a076e24e
Create Date: 2026-11-25 12:53:02.366582

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d81e46493346"
down_revision = "7701a076e24e"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION minutes_documents_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'minutes_documents is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER minutes_documents_append_only BEFORE UPDATE OR DELETE ON minutes_documents "
            "FOR EACH ROW EXECUTE FUNCTION minutes_documents_append_only()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER minutes_documents_no_{operation.lower()} BEFORE {operation} ON minutes_documents "
                f"BEGIN SELECT RAISE(ABORT, 'minutes_documents is append-only: {operation} refused'); END"
            )


def downgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS minutes_documents_append_only ON minutes_documents")
        op.execute("DROP FUNCTION IF EXISTS minutes_documents_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS minutes_documents_no_update")
        op.execute("DROP TRIGGER IF EXISTS minutes_documents_no_delete")

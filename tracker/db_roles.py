"""PostgreSQL: the application's role gets only what the service needs.

Two roles: the **owner** owns the schema and its tables and runs the migrations (and the retention
purge and restores); the **application** role is what the service connects as. Not owning the tables,
the application role cannot TRUNCATE, ALTER or DROP them or disable their triggers; it reads and writes
rows, and on the append-only tables it may only add rows (the triggers refuse the rest as well).
``flask --app tracker grant-app-role ROLE``, run as the owner after every ``db upgrade``, applies this.
"""

from __future__ import annotations

import sqlalchemy as sa

from tracker.extensions import db

# The audit log, the actions' trails and the approved minutes: rows are added, never changed.
APPEND_ONLY_TABLES = ("audit_events", "action_updates", "minutes_documents")
# Alembic's bookkeeping: the service reads it (nothing writes it but the owner's migrations).
READ_ONLY_TABLES = ("alembic_version",)


def grant_statements(role: str, schema: str) -> list[str]:
    preparer = db.engine.dialect.identifier_preparer
    who, where = preparer.quote(role), preparer.quote_schema(schema)

    def tables(names) -> str:
        return ", ".join(f"{where}.{preparer.quote(name)}" for name in names)

    return [
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {where} TO {who}",
        f"REVOKE UPDATE, DELETE ON {tables(APPEND_ONLY_TABLES)} FROM {who}",
        f"REVOKE INSERT, UPDATE, DELETE ON {tables(READ_ONLY_TABLES)} FROM {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
        # Tables a later migration adds are usable at once (run this command again to tighten them).
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT USAGE, SELECT ON SEQUENCES TO {who}",
    ]


class RoleError(Exception):
    pass


def grant_app_role(role: str) -> list[str]:
    """Apply the grants for ``role`` in the current schema, as the owner; returns the statements run."""
    if db.engine.dialect.name != "postgresql":
        raise RoleError("Roles are a PostgreSQL matter: SQLite has none.")
    with db.engine.begin() as connection:
        if not connection.scalar(
            sa.text("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role)"), {"role": role}
        ):
            raise RoleError(f"There is no role {role!r}: create it first (see the README).")
        owner = connection.scalar(
            sa.text(
                "SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'audit_events'"
            )
        )
        if owner is None:
            raise RoleError("The tables do not exist yet: run `flask db upgrade` as the owner first.")
        if owner == role:
            raise RoleError(f"{role!r} owns the tables: the application must connect as a role that does not.")
        schema = connection.scalar(sa.text("SELECT current_schema()"))
        statements = grant_statements(role, schema)
        for statement in statements:
            connection.execute(sa.text(statement))
    return statements

"""The migrations are the schema: one head, in step with the models, reversible with data in place."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from tests.conftest import DATABASE_URL, ON_POSTGRES, make_test_app, project_root
from tracker import fulltext
from tracker.extensions import db


def test_single_head_and_date_prefixed_files():
    from alembic.config import Config

    config = Config(str(project_root() / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(project_root() / "migrations"))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        filename = revision.path.rsplit("/", 1)[-1]
        assert filename[:8].isdigit() and filename[8] == "_", filename


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        # The full-text search index is made by a migration and lives outside the models.
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": fulltext.include_object}
        )
        assert compare_metadata(context, db.metadata) == []


@pytest.fixture
def scratch_database_uri(tmp_path):
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    url = sa.engine.make_url(DATABASE_URL)  # this xdist worker's database
    scratch = url.set(database=f"{url.database}_migrations")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch.database}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{scratch.database}"'))
    yield scratch.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    admin.dispose()


def _agency_codes(connection):
    if "agencies" not in sa.inspect(connection).get_table_names():
        return None
    return [row[0] for row in connection.execute(sa.text("SELECT code FROM agencies ORDER BY code"))]


def test_upgrade_downgrade_upgrade_with_data(scratch_database_uri):
    """Step down one revision at a time and back up again, with a row in place throughout.

    Data in a table that a step does not drop must survive that step both ways.
    """
    app = make_test_app(scratch_database_uri)
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO agencies (name, code, active, created_at)"
                    " VALUES ('Police', 'POL', true, CURRENT_TIMESTAMP)"
                )
            )
        while True:
            with db.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
                before = _agency_codes(connection)
            if current is None:
                break
            downgrade(revision="-1")
            with db.engine.connect() as connection:
                after_down = _agency_codes(connection)
            assert after_down in (None, before)
            upgrade(revision=current)
            with db.engine.connect() as connection:
                # A step that dropped the table brings it back empty; otherwise the rows survive.
                assert _agency_codes(connection) == ([] if after_down is None else before)
            downgrade(revision="-1")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO agencies (name, code, active, created_at)"
                    " VALUES ('Police', 'POL', true, CURRENT_TIMESTAMP)"
                )
            )
            assert _agency_codes(connection) == ["POL"]
        db.engine.dispose()


def test_original_due_date_backfilled_from_the_first_due_date_change(scratch_database_uri):
    """Existing actions get the due date they first had: the earliest change's "from", else the due date."""
    app = make_test_app(scratch_database_uri)
    with app.app_context():
        upgrade(revision="3a4e041ef8b8")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO agencies (id, name, code, active, created_at)"
                    " VALUES (1, 'Police', 'POL', true, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO meetings (id, starts_at, location, status, general_notes, any_other_business,"
                    " minutes_revision, created_at, updated_at)"
                    " VALUES (1, CURRENT_TIMESTAMP, 'HQ', 'scheduled', '', '', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO actions (id, meeting_id, description, owning_agency_id, due_date, status,"
                    " completion_note, cancellation_reason, created_at, updated_at, version)"
                    " VALUES (:id, 1, 'Do it', 1, :due, 'open', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                ),
                [{"id": 1, "due": date(2026, 3, 31)}, {"id": 2, "due": date(2026, 4, 30)}],
            )
            # Action 1 was moved twice: 1 March -> 15 March -> 31 March.
            connection.execute(
                sa.text(
                    "INSERT INTO action_updates (id, action_id, at, note, due_from, due_to, due_change_reason)"
                    " VALUES (:id, 1, :at, '', :due_from, :due_to, 'Court date')"
                ),
                [
                    {
                        "id": 1,
                        "at": datetime(2026, 2, 1, 10, tzinfo=UTC),
                        "due_from": date(2026, 3, 1),
                        "due_to": date(2026, 3, 15),
                    },
                    {
                        "id": 2,
                        "at": datetime(2026, 3, 10, 10, tzinfo=UTC),
                        "due_from": date(2026, 3, 15),
                        "due_to": date(2026, 3, 31),
                    },
                ],
            )
        upgrade(revision="c5e2a7d41f90")
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id, original_due_date FROM actions ORDER BY id")).all()
        assert [(row[0], str(row[1])) for row in rows] == [(1, "2026-03-01"), (2, "2026-04-30")]
        db.engine.dispose()


def test_existing_calendar_links_keep_working_once_stored_hashed(scratch_database_uri):
    import hashlib

    app = make_test_app(scratch_database_uri)
    with app.app_context():
        upgrade(revision="3a4e041ef8b8")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO agencies (name, code, active, created_at)"
                    " VALUES ('Police', 'POL', true, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO users (email, display_name, role, agency_id, is_spoc, active, password_hash,"
                    " must_change_password, created_at, updated_at, calendar_token)"
                    " SELECT 'a@example.org', 'A', 'partner', id, false, true, 'x', false, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, 'subscribed-secret' FROM agencies"
                )
            )
        upgrade(revision="c4f1a9e2b7d3")
        with db.engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT calendar_token_hash FROM users")).scalar_one()
            columns = {column["name"] for column in sa.inspect(connection).get_columns("users")}
        assert stored == hashlib.sha256(b"subscribed-secret").hexdigest()
        assert "calendar_token" not in columns
        db.engine.dispose()


OPEN_ACTION_INDEXES = ("ix_actions_open_due", "ix_actions_open_agency_due", "ix_actions_open_meeting")


def _index_definitions(connection) -> dict[str, str]:
    if connection.dialect.name == "sqlite":
        rows = connection.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    else:
        rows = connection.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'actions'"))
    return {name: definition for name, definition in rows if name in OPEN_ACTION_INDEXES}


def test_the_open_actions_indexes_hold_open_actions_and_serve_the_open_condition(scratch_database_uri):
    """Alembic does not compare a partial index's condition: the migration's must be the model's
    IS_OPEN, statuses and all, or the queries written with IS_OPEN silently stop using the indexes."""
    from tracker.models import IS_OPEN, Action

    app = make_test_app(scratch_database_uri)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            definitions = _index_definitions(connection)
            assert set(definitions) == set(OPEN_ACTION_INDEXES)
            for definition in definitions.values():
                condition = definition.split("WHERE", 1)[1]
                assert "'open'" in condition and "'in_progress'" in condition, definition
                assert "'completed'" not in condition and "'cancelled'" not in condition, definition
            statement = sa.select(Action.id).where(IS_OPEN).order_by(Action.due_date, Action.id).limit(25)
            sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
            if connection.dialect.name == "sqlite":
                plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            else:  # an empty table: told not to scan it, the planner must find the partial index usable
                connection.exec_driver_sql("SET enable_seqscan = off")
                plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
        assert any(name in plan for name in OPEN_ACTION_INDEXES), plan
        db.engine.dispose()

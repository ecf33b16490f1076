"""PostgreSQL: an owner role runs the migrations; the application role cannot truncate, alter or
disable the triggers of the tables; audit events, action updates and stored minutes are append-only."""

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from tests.conftest import DATABASE_URL, ON_POSTGRES, make_test_app, sign_in
from tracker.extensions import db

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL roles: set TEST_DATABASE_URL to run")


def _refusal(engine, statement) -> str:
    """The database's message refusing ``statement`` (the test fails if it is not refused)."""
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as connection:
        connection.execute(sa.text(statement))
    return str(caught.value)


@pytest.fixture(scope="module")
def roles():
    """A database owned by an owner role, migrated by it, and an application role granted by
    `flask grant-app-role`; all of it dropped afterwards (role names are this test database's own)."""
    url = sa.engine.make_url(DATABASE_URL)
    prefix = url.database
    owner, app_role, database = f"{prefix}_owner", f"{prefix}_app", f"{prefix}_roles"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop_everything(connection):
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        for role in (app_role, owner):
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))

    with admin.connect() as connection:
        drop_everything(connection)
        connection.execute(sa.text(f'CREATE ROLE "{owner}" LOGIN'))
        connection.execute(sa.text(f'CREATE ROLE "{app_role}" LOGIN'))
        connection.execute(sa.text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
    owner_url = url.set(database=database, username=owner).render_as_string(hide_password=False)
    app_url = url.set(database=database, username=app_role).render_as_string(hide_password=False)
    owner_app = make_test_app(owner_url)
    with owner_app.app_context():
        upgrade()
    result = owner_app.test_cli_runner().invoke(args=["grant-app-role", app_role])
    assert result.exit_code == 0, result.output
    with owner_app.app_context():
        db.engine.dispose()
    yield {"owner_url": owner_url, "app_url": app_url, "app_role": app_role, "owner_app": owner_app}
    with admin.connect() as connection:
        drop_everything(connection)
    admin.dispose()


@pytest.fixture
def as_app(roles):
    engine = sa.create_engine(roles["app_url"])
    yield engine
    engine.dispose()


@pytest.fixture
def as_owner(roles):
    engine = sa.create_engine(roles["owner_url"])
    yield engine
    engine.dispose()


@pytest.fixture
def rows(roles, as_owner):
    """One row in each append-only table, made through the models as the owner."""
    from datetime import date

    from tracker.models import Action, ActionUpdate, Agency, AuditEvent, Meeting, MinutesDocument
    from tracker.timeutil import utcnow

    with roles["owner_app"].app_context():
        agency = Agency(name="Agency A", code="AAA")
        meeting = Meeting(starts_at=utcnow(), location="Room 1")
        action = Action(meeting=meeting, description="Do it", owning_agency=agency, due_date=date.today())
        db.session.add_all(
            [
                ActionUpdate(action=action, note="Progress"),
                MinutesDocument(meeting=meeting, revision=1, pdf=b"%PDF", sha256="x" * 64, size_bytes=4),
                AuditEvent(action="test_event"),
            ]
        )
        db.session.commit()
        db.engine.dispose()
    yield
    tables = "agencies, meetings, actions, action_updates, minutes_documents, audit_events, users"
    with as_owner.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} CASCADE"))


def test_the_owner_owns_the_tables_and_the_app_role_owns_nothing(roles, as_app):
    with as_app.connect() as connection:
        owners = set(
            connection.scalars(sa.text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"))
        )
    assert owners == {sa.engine.make_url(roles["owner_url"]).username}


@pytest.mark.parametrize(
    "statement, words",
    [
        ("TRUNCATE audit_events", "permission denied"),
        ("TRUNCATE action_updates CASCADE", "permission denied"),
        ("ALTER TABLE audit_events DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE action_updates DISABLE TRIGGER action_updates_append_only", "must be owner"),
        ("DROP TRIGGER audit_events_append_only ON audit_events", "must be owner"),
        ("ALTER TABLE minutes_documents DROP COLUMN pdf", "must be owner"),
        ("DROP TABLE audit_events", "must be owner"),
        ("UPDATE audit_events SET detail = 'changed'", "permission denied"),
        ("DELETE FROM audit_events", "permission denied"),
        ("UPDATE action_updates SET note = 'changed'", "permission denied"),
        ("DELETE FROM action_updates", "permission denied"),
        ("UPDATE minutes_documents SET sha256 = 'y'", "permission denied"),
        ("DELETE FROM minutes_documents", "permission denied"),
        ("UPDATE alembic_version SET version_num = 'x'", "permission denied"),
        ("CREATE TABLE sneaky (id int)", "permission denied"),
    ],
)
def test_the_app_role_is_refused(as_app, rows, statement, words):
    assert words in _refusal(as_app, statement)


@pytest.mark.parametrize(
    "statement, words",
    [
        ("UPDATE audit_events SET detail = 'changed'", "append-only"),
        ("DELETE FROM audit_events", "append-only"),
        ("UPDATE action_updates SET note = 'changed'", "append-only"),
        ("UPDATE minutes_documents SET sha256 = 'y'", "append-only"),
    ],
)
def test_the_triggers_refuse_changes_even_to_the_owner(as_owner, rows, statement, words):
    assert words in _refusal(as_owner, statement)


def test_only_the_owner_deletes_action_updates_for_the_retention_purge(as_owner, rows):
    with as_owner.begin() as connection:
        assert connection.execute(sa.text("DELETE FROM action_updates")).rowcount == 1


def test_only_the_owner_deletes_stored_minutes_for_the_retention_purge(as_owner, rows):
    with as_owner.begin() as connection:
        assert connection.execute(sa.text("DELETE FROM minutes_documents")).rowcount == 1


def test_the_service_runs_as_the_app_role(roles, as_app, rows):
    from tests.conftest import agency_factory, user_factory

    app = make_test_app(roles["app_url"])
    user = user_factory(app, agency_factory(app))("chair")
    client = app.test_client()
    assert sign_in(client, user.email, user.password).status_code == 302
    assert client.get("/").status_code == 200
    with as_app.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM audit_events WHERE action = 'sign_in'")) == 1
    with app.app_context():
        db.engine.dispose()

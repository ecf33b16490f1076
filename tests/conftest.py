"""Shared fixtures.

Every test gets its own database, built by the real migrations:
- SQLite (default): the migrations run once into a template file, which is copied per test.
- PostgreSQL (TEST_DATABASE_URL=postgresql+psycopg://...): the migrations run once per session;
  the tables are emptied before each test. Under pytest-xdist (``-n auto``) each worker creates,
  uses and finally drops a database of its own, named after TEST_DATABASE_URL's plus ``_gw0``, ...
Tests can also start from a prepared database: ``take_snapshot`` keeps one, ``database_from``
gives each test its own copy (see tests/test_permissions.py).
Requests run in their own app contexts (as in production), so test code that touches the
database opens ``with app.app_context():`` itself.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import smtplib
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask_migrate import upgrade
from jinja2.bccache import Bucket, BytecodeCache

# Background jobs (tracker/jobs.py) run at once, in the requesting process, in tests.
os.environ.setdefault("TRACKER_JOBS", "immediate")

from config import TestingConfig
from tracker import create_app
from tracker.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
PASSWORD = "correct horse battery staple"


class _CompiledTemplates(BytecodeCache):
    """Compiled Jinja templates kept in memory for the whole run, keyed by name and source checksum,
    so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._store.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()


def make_test_app(database_uri: str, **overrides):
    settings: dict = {"SQLALCHEMY_DATABASE_URI": database_uri}
    if database_uri.startswith("postgresql"):
        # Test databases are thrown away: commits need not wait for the disk.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **TestingConfig.SQLALCHEMY_ENGINE_OPTIONS,
            "connect_args": {"options": "-c synchronous_commit=off"},
        }
    settings.update(overrides)
    app = create_app("testing", settings)
    # Every test has its own app; they share compiled templates instead of compiling them again.
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    if database_uri.startswith("sqlite"):
        with app.app_context():
            sa.event.listen(_db.engine, "connect", _no_fsync)
    return app


def _no_fsync(dbapi_connection, _record):
    """Test databases are thrown away: SQLite need not wait for the disk on every commit."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def build_schema(database_uri: str) -> None:
    app = make_test_app(database_uri)
    with app.app_context():
        upgrade()
        _db.engine.dispose()


XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... under pytest -n


def _worker_database_url() -> str:
    """This process's PostgreSQL database: TEST_DATABASE_URL itself, or under pytest-xdist a
    database of its own per worker (``tracker_test_gw0``, ...) on the same server."""
    if not ON_POSTGRES or not XDIST_WORKER:
        return TEST_DATABASE_URL
    url = sa.engine.make_url(TEST_DATABASE_URL)
    return url.set(database=f"{url.database}_{XDIST_WORKER}").render_as_string(hide_password=False)


DATABASE_URL = _worker_database_url()


def postgres_admin_engine(database_url: str) -> sa.Engine:
    """A connection to the server's ``postgres`` maintenance database, for CREATE and DROP DATABASE."""
    url = sa.engine.make_url(database_url).set(database="postgres")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def recreate_postgres_database(database_url: str) -> None:
    name = sa.engine.make_url(database_url).database
    admin = postgres_admin_engine(database_url)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def drop_postgres_database(database_url: str) -> None:
    name = sa.engine.make_url(database_url).database
    admin = postgres_admin_engine(database_url)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def reset_postgres_schema(database_uri: str) -> None:
    engine = sa.create_engine(database_uri)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


_counter = itertools.count()


@dataclass(frozen=True)
class DatabaseSnapshot:
    """A database's contents, to start tests from: a SQLite file that is copied for each test, or
    (PostgreSQL) every table's rows, which are put back into this process's database."""

    sqlite_file: Path | None = None
    tables: tuple[str, ...] = ()  # PostgreSQL: the tables to empty, alembic_version aside
    rows: tuple[tuple[sa.Table, tuple[dict, ...]], ...] = ()  # PostgreSQL: (table, rows), parents first
    sequences: tuple[tuple[sa.Column, str], ...] = ()  # PostgreSQL: (column, its sequence)


def take_snapshot(database_uri: str, directory: Path) -> DatabaseSnapshot:
    """Keep the state of ``database_uri`` (nothing may be connected to a SQLite file meanwhile)."""
    if not database_uri.startswith("postgresql"):
        path = directory / f"snapshot-{next(_counter)}.sqlite"
        # SQLite's backup API, not a file copy: with a write-ahead log, committed pages may still sit
        # in the -wal file beside the database.
        source, target = sqlite3.connect(sa.engine.make_url(database_uri).database), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return DatabaseSnapshot(sqlite_file=path)
    engine = sa.create_engine(database_uri)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
    with engine.connect() as connection:
        rows = tuple(
            (table, tuple(dict(row) for row in connection.execute(sa.select(table)).mappings())) for table in tables
        )
        sequences = connection.execute(
            sa.text(
                "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)"
                " FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')"
            )
        ).all()
    engine.dispose()
    return DatabaseSnapshot(
        tables=tuple(t.name for t in tables),
        rows=tuple((table, table_rows) for table, table_rows in rows if table_rows),
        sequences=tuple((metadata.tables[table].c[column], sequence) for table, column, sequence in sequences),
    )


@cache
def _restoring_engine() -> sa.Engine:
    """One engine per process for putting snapshots back into this process's PostgreSQL database."""
    return sa.create_engine(DATABASE_URL, connect_args={"options": "-c synchronous_commit=off"})


def database_from(snapshot: DatabaseSnapshot, directory: Path) -> str:
    """A database in exactly the snapshot's state, for one test: a copy of the SQLite file, or this
    process's PostgreSQL database emptied and refilled."""
    if snapshot.sqlite_file is not None:
        path = directory / f"test-{next(_counter)}.sqlite"
        shutil.copyfile(snapshot.sqlite_file, path)
        return f"sqlite:///{path}"
    with _restoring_engine().begin() as connection:
        # Only tables with rows are emptied (TRUNCATE costs the same for an empty table). TRUNCATE is
        # not UPDATE or DELETE, so the append-only triggers (audit, stored minutes) allow it.
        probes = [
            sa.select(sa.literal(name)).where(sa.exists(sa.select(sa.literal(1)).select_from(sa.table(name))))
            for name in snapshot.tables
        ]
        if used := connection.execute(sa.union_all(*probes)).scalars().all():
            connection.execute(sa.text(f"TRUNCATE {', '.join(used)} CASCADE"))
        for table, table_rows in snapshot.rows:
            connection.execute(table.insert(), list(table_rows))
        # Every sequence continues after the highest id restored.
        if snapshot.sequences:
            connection.execute(
                sa.select(
                    *(
                        sa.func.setval(
                            sequence, sa.func.coalesce(sa.select(sa.func.max(column)).scalar_subquery(), 0) + 1, False
                        )
                        for column, sequence in snapshot.sequences
                    )
                )
            )
    return DATABASE_URL


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """The migrated, empty database each test starts from (one per xdist worker)."""
    if ON_POSTGRES:
        if XDIST_WORKER:
            recreate_postgres_database(DATABASE_URL)
        else:
            reset_postgres_schema(DATABASE_URL)
        build_schema(DATABASE_URL)
        yield take_snapshot(DATABASE_URL, tmp_path_factory.mktemp("template"))
        _restoring_engine().dispose()
        if XDIST_WORKER:
            drop_postgres_database(DATABASE_URL)
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    build_schema(f"sqlite:///{path}")
    yield DatabaseSnapshot(sqlite_file=path)


@pytest.fixture
def database_uri(database_template, tmp_path):
    return database_from(database_template, tmp_path)


@pytest.fixture
def app(database_uri):
    app = make_test_app(database_uri)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


TEST_SMTP_PORTS: set[int] = set()
_REAL_SMTP = smtplib.SMTP


@pytest.fixture(autouse=True)
def no_real_email(monkeypatch):
    """Any SMTP connection other than to the tests' own server on 127.0.0.1 fails the test."""

    def guarded(host="", port=0, *args, **kwargs):
        if host in ("127.0.0.1", "localhost") and port in TEST_SMTP_PORTS:
            return _REAL_SMTP(host, port, *args, **kwargs)
        raise AssertionError(f"a test tried to send real e-mail (to {host}:{port})")

    monkeypatch.setattr(smtplib, "SMTP", guarded)
    monkeypatch.setattr(smtplib, "SMTP_SSL", guarded)


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on 127.0.0.1 that keeps what it receives; the app is pointed at it."""
    import socket
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    received = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            message = message_from_bytes(envelope.content, policy=policy.default)
            received.append({"to": envelope.rcpt_tos, "subject": message["Subject"], "body": message.get_content()})
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    TEST_SMTP_PORTS.add(port)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USERNAME=None)
    yield received
    TEST_SMTP_PORTS.discard(port)
    controller.stop()


# Factories --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRef:
    """What a test needs to know about a user after the app context that made it has gone."""

    id: int
    email: str
    password: str
    role: str
    agency_id: int


@dataclass(frozen=True)
class AgencyRef:
    id: int
    name: str
    code: str


@pytest.fixture
def make_agency(app):
    return agency_factory(app)


@pytest.fixture
def make_user(app, make_agency):
    return user_factory(app, make_agency)


def agency_factory(app):
    """``make_agency``'s function for ``app`` (usable outside a test, for shared sample data)."""
    numbers = itertools.count(1)

    def make(name: str | None = None, code: str | None = None, active: bool = True) -> AgencyRef:
        from tracker.models import Agency

        n = next(numbers)
        with app.app_context():
            agency = Agency(name=name or f"Test agency {n}", code=code or f"TA{n}", active=active)
            _db.session.add(agency)
            _db.session.commit()
            return AgencyRef(agency.id, agency.name, agency.code)

    return make


def user_factory(app, make_agency):
    """``make_user``'s function for ``app`` (usable outside a test, for shared sample data)."""
    numbers = itertools.count(1)

    def make(
        role: str = "chair",
        agency: AgencyRef | None = None,
        *,
        email: str | None = None,
        name: str | None = None,
        password: str = PASSWORD,
        active: bool = True,
        is_spoc: bool = False,
        must_change_password: bool = False,
        second_factor: str | None = "default",
    ) -> UserRef:
        """``second_factor``: "app" (enrolled with the demo key, so ``sign_in`` can pass the second
        step), "declined" (a partner who said "not now") or None (never set up). By default: "app"
        where the role requires it, "declined" otherwise, so tests sign straight in."""
        from tracker.auth.passwords import hash_password
        from tracker.demo import DEMO_TOTP_SECRET
        from tracker.models import Role, SecondFactor, User
        from tracker.permissions import second_factor_required
        from tracker.timeutil import utcnow

        agency = agency or make_agency()
        n = next(numbers)
        with app.app_context():
            user = User(
                email=(email or f"{role}{n}@example.org").lower(),
                display_name=name or f"Test {role} {n}",
                role=Role(role),
                agency_id=agency.id,
                is_spoc=is_spoc,
                active=active,
                password_hash=hash_password(password),
                must_change_password=must_change_password,
            )
            _db.session.add(user)
            _db.session.flush()
            chosen = second_factor
            if chosen == "default":
                chosen = "app" if second_factor_required(user) else "declined"
            if chosen == "app":
                _db.session.add(SecondFactor(user_id=user.id, secret=DEMO_TOTP_SECRET, confirmed_at=utcnow()))
            elif chosen == "declined":
                _db.session.add(SecondFactor(user_id=user.id, declined_at=utcnow()))
            _db.session.commit()
            return UserRef(user.id, user.email, password, role, agency.id)

    return make


def sign_in(client, email: str, password: str, next_url: str | None = None, **extra):
    """Sign in through the real form; if the second step asks for a code, enter the current one
    (test users and demo accounts hold the demo key). Returns the last response."""
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    response = client.post(url, data={"email": email, "password": password, **extra})
    if response.status_code == 302 and response.headers["Location"] == "/sign-in/code":
        response = enter_code(client, email, **extra)
    return response


def current_code(app, email: str) -> str:
    """The code the demo key gives now that ``email`` has not used yet."""
    from tracker.demo import demo_code

    with app.app_context():
        result = demo_code(email)
    assert result is not None, f"no unused code for {email}: signed in more than twice within 30 seconds"
    return result.code


def enter_code(client, email: str, **extra):
    return client.post("/sign-in/code", data={"code": current_code(client.application, email), **extra})


@pytest.fixture
def login_as(client, make_user):
    """Create a user of ``role`` and sign the test client in as them."""

    def login(role: str, agency: AgencyRef | None = None, **kwargs) -> UserRef:
        user = make_user(role, agency, **kwargs)
        response = sign_in(client, user.email, user.password)
        assert response.status_code == 302, f"sign-in as {role} failed"
        return user

    return login


# Pages ------------------------------------------------------------------------------------


def parse(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "lxml")


def get_page(client, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == status, f"GET {url}: {response.status_code}, expected {status}"
    return parse(response)


def text_of(element) -> str:
    return re.sub(r"\s+", " ", element.get_text(" ", strip=True)) if element is not None else ""


def error_messages(page: BeautifulSoup) -> dict[str, str]:
    """Inline errors by the id of the field they belong to, plus the summary's links."""
    errors = {}
    for message in page.select(".govuk-error-message"):
        group = message.find_parent(class_="govuk-form-group")
        control = group.select_one("input, select, textarea") if group else None
        key = control.get("id") if control is not None else message.get("id", "")
        errors[key] = text_of(message).replace("Error:", "").strip()
    # GOV.UK's pattern, on every page a test reads errors from: one error summary, and the title
    # starting "Error: " once (a page's own summary replaces the layout's, never adds to it).
    title = text_of(page.title)
    assert len(page.select(".govuk-error-summary:not([data-testid=conflict])")) <= 1, "more than one error summary"
    assert not errors or title.startswith("Error: "), title
    assert "Error: Error:" not in title, title
    return errors


def summary_errors(page: BeautifulSoup) -> list[tuple[str, str]]:
    return [(link["href"], text_of(link)) for link in page.select(".govuk-error-summary a")]


@pytest.fixture
def query_counter(app):
    """Counts SQL statements sent while the ``with`` block runs."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = _db.engine
        sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", before_cursor_execute)

    return counting


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


# Meetings ---------------------------------------------------------------------------------


@pytest.fixture
def make_meeting(app, make_user):
    """Schedule a meeting ``days_from_now`` days away at 10:00 London time; returns its id."""
    from datetime import time, timedelta

    def make(
        days_from_now: int = 1,
        *,
        chair: UserRef | None = None,
        invited: list[AgencyRef] = (),
        attended_by: list[AgencyRef] = (),
        status: str | None = None,
    ) -> int:
        from tracker.meetings import operations
        from tracker.models import Agency, MeetingStatus, User
        from tracker.timeutil import london_today

        chair = chair or make_user("chair")
        with app.app_context():
            chair_user = _db.session.get(User, chair.id)
            agencies = [_db.session.get(Agency, a.id) for a in invited]
            (meeting,) = operations.schedule_meetings(
                first_day=london_today() + timedelta(days=days_from_now),
                start=time(10, 0),
                weeks=1,
                location="Meeting room 1",
                chair=chair_user,
                invited=agencies,
            )
            for agency in attended_by:
                operations.add_attendance(
                    meeting,
                    agency=_db.session.get(Agency, agency.id),
                    user=None,
                    person_name="Officer",
                    status="present",
                    role="member",
                    deputy_for="",
                )
            if status:
                meeting.status = MeetingStatus(status)
            _db.session.commit()
            return meeting.id

    return make


@pytest.fixture
def add_review(app):
    """Put case ``reference`` on a meeting's agenda, optionally involving agencies; returns the review id."""

    def add(meeting_id: int, reference: str, *, agencies: list[AgencyRef] = (), grade: int | None = None) -> int:
        from tracker.meetings import operations
        from tracker.models import Agency, Meeting

        with app.app_context():
            meeting = _db.session.get(Meeting, meeting_id)
            review = operations.add_case_review(meeting, reference).review
            review.agencies = [_db.session.get(Agency, a.id) for a in agencies]
            review.scrutiny_grade = grade
            _db.session.commit()
            return review.id

    return add


@pytest.fixture
def add_action(app):
    def add(
        meeting_id: int,
        agency: AgencyRef,
        *,
        review_id: int | None = None,
        due_in_days: int = 7,
        description: str = "Make a safety plan referral",
        status: str = "open",
    ) -> int:
        from datetime import timedelta

        from tracker.models import Action, ActionStatus
        from tracker.timeutil import london_today

        with app.app_context():
            action = Action(
                meeting_id=meeting_id,
                case_review_id=review_id,
                description=description,
                owning_agency_id=agency.id,
                due_date=london_today() + timedelta(days=due_in_days),
                status=ActionStatus(status),
            )
            _db.session.add(action)
            _db.session.commit()
            return action.id

    return add


def approve_minutes(client, meeting_id: int, *, accept_gaps: bool = True):
    """Go through the approval check as a chair would: tick every gap that may be accepted, approve.
    Returns the POST's response (302 to the meeting when approved)."""
    page = get_page(client, f"/meetings/{meeting_id}/approve")
    accepted = [box["value"] for box in page.select("input[name=accepted]")] if accept_gaps else []
    return client.post(f"/meetings/{meeting_id}/approve", data={"accepted": accepted})

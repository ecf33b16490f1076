"""Shared fixtures.

Every test gets its own database, built by the real migrations:
- SQLite (default): the migrations run once into a template file, which is copied per test.
- PostgreSQL (TEST_DATABASE_URL=postgresql+psycopg://...): the migrations run once per session;
  every table is emptied before each test.
Requests run in their own app contexts (as in production), so test code that touches the
database opens ``with app.app_context():`` itself.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import smtplib
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask_migrate import upgrade

from tracker import create_app
from tracker.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
PASSWORD = "correct horse battery staple"


def make_test_app(database_uri: str, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": database_uri}
    settings.update(overrides)
    return create_app("testing", settings)


def build_schema(database_uri: str) -> None:
    app = make_test_app(database_uri)
    with app.app_context():
        upgrade()
        _db.engine.dispose()


def reset_postgres_schema(database_uri: str) -> None:
    engine = sa.create_engine(database_uri)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """A migrated database to start each test from: a SQLite file, or the PostgreSQL URL."""
    if ON_POSTGRES:
        reset_postgres_schema(TEST_DATABASE_URL)
        build_schema(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    build_schema(f"sqlite:///{path}")
    return path


_counter = itertools.count()


@pytest.fixture
def database_uri(database_template, tmp_path):
    if ON_POSTGRES:
        engine = sa.create_engine(TEST_DATABASE_URL)
        tables = [t for t in sa.inspect(engine).get_table_names() if t != "alembic_version"]
        with engine.begin() as connection:
            # TRUNCATE is not UPDATE or DELETE, so the audit table's append-only trigger allows it.
            connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return TEST_DATABASE_URL
    path = tmp_path / f"test-{next(_counter)}.sqlite"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


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


@pytest.fixture
def make_user(app, make_agency):
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
    ) -> UserRef:
        from tracker.auth.passwords import hash_password
        from tracker.models import Role, User

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
            _db.session.commit()
            return UserRef(user.id, user.email, password, role, agency.id)

    return make


def sign_in(client, email: str, password: str, next_url: str | None = None):
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


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

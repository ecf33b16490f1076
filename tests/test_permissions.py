"""Every URL rule × every kind of user × GET and POST, checked against a declared policy.

A route that is missing from POLICY fails ``test_every_route_is_in_the_policy_table``, so a new
view cannot land without someone deciding, here, who may use it.
"""

import pytest

from tests.conftest import (
    ON_POSTGRES,
    agency_factory,
    database_from,
    make_test_app,
    sign_in,
    take_snapshot,
    user_factory,
)
from tracker.extensions import db as _db
from tracker.permissions import undeclared_endpoints

# Refused roles go first, so the allowed ones' writes cannot change what a refused role would see.
ROLES = ("anonymous", "partner_a", "partner_b", "manager", "chair", "admin")
EVERYONE = frozenset(ROLES)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
ADMIN = frozenset({"admin"})
# Least privilege: the administrator runs the service and reads the audit log, and opens no case
# work at all (meetings, case reviews, actions, minutes, reports): 403 on every such page.
CASE_READERS = SIGNED_IN - ADMIN
RECORDERS = frozenset({"chair"})
# The sample meeting was attended by agency A only, and its sample review involves agency A:
# partner B gets 404 for anything inside it, exactly as if it did not exist.
IN_SCOPE_OF_A = {"ok": CASE_READERS - {"partner_b"}, "not_found": {"partner_b"}}


def allowed(roles, not_found=()):
    return {"ok": frozenset(roles), "not_found": frozenset(not_found)}


# endpoint -> who may use it (the same for GET and POST, or a dict per method). Anyone not
# listed is refused: 302 to sign-in when anonymous, 403 when signed in. Methods a rule does
# not accept must answer 405 for everyone.
POLICY = {
    "static": allowed(EVERYONE),
    "main.home": allowed(SIGNED_IN),
    "main.accessibility": allowed(EVERYONE),
    "main.privacy": allowed(EVERYONE),
    "main.health": allowed(EVERYONE),
    "auth.sign_in": allowed(EVERYONE),
    "auth.sign_out": allowed(SIGNED_IN),
    "auth.change_password": allowed(SIGNED_IN),
    # The steps between the password and the session: without a password just checked, back to sign-in.
    "auth.sign_in_code": allowed(EVERYONE),
    "auth.sign_in_set_up": allowed(EVERYONE),
    "auth.forgot_password": allowed(EVERYONE),
    # The sample token is no invitation or reset link: "this link does not work" for everyone.
    "auth.set_password": allowed(set(), not_found=EVERYONE),
    "auth.confirm_password": allowed(SIGNED_IN),
    "auth.two_step_verification": allowed(SIGNED_IN),
    "auth.two_step_set_up": allowed(SIGNED_IN),
    "auth.recovery_codes": allowed(SIGNED_IN),
    # Only a partner who has set up an app may turn it off; the sample users have nothing to turn off.
    "auth.two_step_turn_off": allowed(set(), not_found=SIGNED_IN),
    "admin.users": allowed(ADMIN),
    "admin.new_user": allowed(ADMIN),
    "admin.user": allowed(ADMIN),
    "admin.send_invitation": allowed(ADMIN),
    "admin.send_password_reset": allowed(ADMIN),
    "admin.reset_second_factor": allowed(ADMIN),
    "admin.deactivate_user": allowed(ADMIN),
    "admin.reactivate_user": allowed(ADMIN),
    "admin.agencies": allowed(ADMIN),
    "admin.new_agency": allowed(ADMIN),
    "admin.agency": allowed(ADMIN),
    "admin.deactivate_agency": allowed(ADMIN),
    "admin.reactivate_agency": allowed(ADMIN),
    "admin.audit_log": allowed(ADMIN),
    "admin.audit_export": allowed(ADMIN),
    "admin.legal_holds": allowed(ADMIN),
    "admin.release_hold": allowed(ADMIN),
    "admin.settings": allowed(ADMIN),
    "admin.themes": allowed(ADMIN),
    "admin.set_theme_active": allowed(ADMIN),
    "admin.merge_theme": allowed(ADMIN),
    "meetings.meetings": allowed(CASE_READERS),
    "meetings.new_meeting": allowed(RECORDERS),
    "meetings.meeting": IN_SCOPE_OF_A,
    "meetings.edit_meeting": allowed(RECORDERS),
    "meetings.cancel_meeting": allowed(RECORDERS),
    "meetings.statement_read": allowed(RECORDERS),
    "meetings.save_notes": allowed(RECORDERS),
    "meetings.attendance": allowed(RECORDERS),
    "meetings.remove_attendance": allowed(RECORDERS),
    "meetings.agenda": allowed(RECORDERS),
    "meetings.add_regrade_cases": allowed(RECORDERS),
    "meetings.matters_arising": IN_SCOPE_OF_A,
    "reviews.agency_return": allowed(set(), not_found={"partner_a", "partner_b", "chair"}),
    "reviews.review": {"GET": IN_SCOPE_OF_A, "POST": allowed(RECORDERS, not_found={"partner_b"})},
    "meetings.remove_review": allowed(RECORDERS),
    "meetings.move_review": allowed(RECORDERS),
    "meetings.new_action": allowed(RECORDERS),
    "meetings.approve": allowed(RECORDERS),
    "meetings.reopen": allowed(RECORDERS),
    "main.calendar_feed": allowed(EVERYONE),  # the secret token in the address is the credential
    "auth.calendar": allowed(CASE_READERS),
    "actions.actions": allowed(CASE_READERS),
    "actions.export": allowed(CASE_READERS),
    "actions.action": IN_SCOPE_OF_A,  # the sample action belongs to agency A
    "actions.progress": allowed(RECORDERS | {"partner_a"}, not_found={"partner_b"}),
    # Partners ask for an extension instead; only chairs move a due date directly.
    "actions.due_date": allowed(RECORDERS, not_found={"partner_b"}),
    "actions.request_extension": allowed({"partner_a"}, not_found={"partner_b"}),
    "actions.decide_extension": allowed(RECORDERS),
    # Partner A is not their agency's single point of contact, so may not assign owners.
    "actions.owner": allowed(RECORDERS, not_found={"partner_b"}),
    "actions.cancel": allowed(RECORDERS, not_found={"partner_b"}),
    "actions.reopen": allowed(RECORDERS, not_found={"partner_b"}),
    "reports.index": allowed(CASE_READERS),
    "reports.minutes_pdf": IN_SCOPE_OF_A,
    "reports.action_summary_pdf": allowed(CASE_READERS),
    "reports.figures_csv": allowed(CASE_READERS),
    "reports.board_pdf": allowed(CASE_READERS),
    # The sample document was asked for by another user: nobody else may see it.
    "reports.document": allowed(set(), not_found=CASE_READERS),
    "reports.download_document": allowed(set(), not_found=CASE_READERS),
    "cases.cases": allowed(CASE_READERS),
    "cases.case": IN_SCOPE_OF_A,
}


def _rules():
    from tracker import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in ("GET", "POST")]


def test_every_route_is_in_the_policy_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - POLICY.keys() == set(), "add these routes to POLICY"
    assert POLICY.keys() - endpoints == set(), "these POLICY entries have no route"


def test_an_undeclared_view_is_detected(app):
    app.add_url_rule("/undeclared", "undeclared", lambda: "no permission declared")
    assert undeclared_endpoints(app) == ["undeclared"]


@pytest.fixture(scope="module")
def sample_world(database_template, tmp_path_factory):
    """Two partner agencies, a user for every role, and sample objects for URL arguments, built
    once into a database of their own; every test starts from a copy of it (see database_uri)."""
    directory = tmp_path_factory.mktemp("permissions")
    app = make_test_app(database_from(database_template, directory))
    make_agency = agency_factory(app)
    make_user = user_factory(app, make_agency)
    agency_a = make_agency(name="Agency A", code="AAA")
    agency_b = make_agency(name="Agency B", code="BBB")
    users = {
        "admin": make_user("admin", agency_a),
        "chair": make_user("chair", agency_a),
        "manager": make_user("manager", agency_a),
        "partner_a": make_user("partner", agency_a),
        "partner_b": make_user("partner", agency_b),
    }
    sample_user = make_user("partner", agency_b)
    args = {
        "user_id": sample_user.id,
        "agency_id": agency_b.id,
        "filename": "app.css",
        "table": "headline",
        "job_id": give_document_job(app, sample_user.id),
        "token": give_calendar_token(app, sample_user.id),
    }
    args.update(make_meeting_world(app, agency_a, agency_b, users["chair"]))
    args["hold_id"] = place_sample_hold(app, args["case_id"])
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    snapshot = take_snapshot(app.config["SQLALCHEMY_DATABASE_URI"], directory)
    return snapshot, users, args, agency_a


@pytest.fixture
def database_uri(sample_world, tmp_path):
    """Every test in this module gets its own copy of the sample world's database."""
    return database_from(sample_world[0], tmp_path)


@pytest.fixture
def world(app, sample_world):
    """The sample world's users and URL arguments, in this test's own copy of its database."""
    _snapshot, users, args, agency_a = sample_world

    def renew():
        """A fresh attendance row and review in the sample meeting, for routes that remove them."""
        return {**args, **add_row_and_review(app, args["meeting_id"], agency_a)}

    return users, args, renew


def give_calendar_token(app, user_id):
    from tracker.calendar_feed import token_digest
    from tracker.extensions import db
    from tracker.models import User

    with app.app_context():
        db.session.get(User, user_id).calendar_token_hash = token_digest("sample-calendar-token")
        db.session.commit()
    return "sample-calendar-token"


def place_sample_hold(app, case_id):
    from tracker.extensions import db
    from tracker.models import LegalHold

    with app.app_context():
        hold = LegalHold(case_id=case_id, reason="Sample claim")
        db.session.add(hold)
        db.session.commit()
        return hold.id


# Routes whose allowed POST removes the object in the URL: each role gets a fresh one.
CONSUMES_ITS_OBJECT = {"meetings.remove_attendance", "meetings.remove_review"}


def add_row_and_review(app, meeting_id, agency_ref):
    import itertools

    from tracker.extensions import db
    from tracker.meetings import operations
    from tracker.models import Agency, Meeting

    add_row_and_review.counter = getattr(add_row_and_review, "counter", itertools.count(2))
    with app.app_context():
        meeting, agency = db.session.get(Meeting, meeting_id), db.session.get(Agency, agency_ref.id)
        row = operations.add_attendance(
            meeting, agency=agency, user=None, person_name="Officer A", status="present", role="member", deputy_for=""
        )
        review = operations.add_case_review(meeting, f"REF/{next(add_row_and_review.counter)}").review
        review.agencies = [agency]
        db.session.commit()
        return {"row_id": row.id, "review_id": review.id, "case_id": review.case_id}


def give_document_job(app, user_id: int) -> int:
    from tracker.extensions import db
    from tracker.models import DocumentJob, DocumentJobStatus

    with app.app_context():
        job = DocumentJob(
            user_id=user_id, kind="board_report", title="Board report", filename="b.pdf", status=DocumentJobStatus.READY
        )
        job.pdf, job.pages = b"%PDF-1.7 sample", 1
        db.session.add(job)
        db.session.commit()
        return job.id


def make_meeting_world(app, agency_a, agency_b, chair_ref):
    """An earlier meeting with an open action (a matter arising), and the sample meeting:
    attended by agency A, one review involving A, one attendance row."""
    from datetime import date, timedelta

    from tracker.extensions import db
    from tracker.meetings import operations
    from tracker.models import Agency, ExtensionRequest, LearningTheme, User
    from tracker.timeutil import utcnow

    with app.app_context():
        a, b = db.session.get(Agency, agency_a.id), db.session.get(Agency, agency_b.id)
        chair = db.session.get(User, chair_ref.id)
        (earlier,) = operations.schedule_meetings(
            first_day=(utcnow() - timedelta(days=14)).date(),
            start=utcnow().time().replace(microsecond=0),
            weeks=1,
            location="Room 1",
            chair=chair,
            invited=[a, b],
        )
        action = operations.raise_action(
            earlier,
            review=None,
            description="Earlier action",
            agency=a,
            owner=None,
            due_date=date.today() + timedelta(days=3),
            by=chair,
        )
        (meeting,) = operations.schedule_meetings(
            first_day=(utcnow() + timedelta(days=1)).date(),
            start=utcnow().time().replace(microsecond=0),
            weeks=1,
            location="Room 2",
            chair=chair,
            invited=[a, b],
        )
        theme = LearningTheme(name="Sample theme")
        extension = ExtensionRequest(
            action=action,
            requested_by=None,
            current_due_date=action.due_date,
            requested_due_date=action.due_date + timedelta(days=14),
            reason="Waiting for a court date",
        )
        db.session.add_all([theme, extension])
        db.session.commit()
        ids = {"meeting_id": meeting.id, "action_id": action.id, "theme_id": theme.id, "request_id": extension.id}
    return {**ids, **add_row_and_review(app, ids["meeting_id"], agency_a)}


def _client_for(app, users, role):
    client = app.test_client()
    if role != "anonymous":
        user = users[role]
        assert sign_in(client, user.email, user.password).status_code == 302
    return client


# Routes whose allowed POST e-mails someone: they get a test SMTP server.
SENDS_EMAIL = {"admin.send_invitation", "admin.send_password_reset"}
# Allowed routes that lead to the sign-in page: signing out, and the second step of signing in
# when no password has just been checked.
ENDS_AT_SIGN_IN = {"auth.sign_out", "auth.sign_in_code", "auth.sign_in_set_up"}


@pytest.mark.parametrize("endpoint, method", _rules())
def test_route_policy(app, world, endpoint, method, request):
    from flask import url_for

    users, sample_args, renew = world
    if endpoint in SENDS_EMAIL:
        request.getfixturevalue("smtp_server")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    policy = POLICY[endpoint].get(method, POLICY[endpoint]) if "ok" not in POLICY[endpoint] else POLICY[endpoint]

    for role in ROLES:
        args = renew() if endpoint in CONSUMES_ITS_OBJECT else sample_args
        with app.test_request_context():
            url = url_for(endpoint, **{name: args[name] for name in rule.arguments})
        response = getattr(_client_for(app, users, role), method.lower())(url)
        status = response.status_code
        location = response.headers.get("Location", "")
        outcome = f"{method} {url} as {role}: {status} {location}"
        if method not in rule.methods:
            assert status == 405, outcome
        elif role in policy["ok"]:
            assert status in (200, 302), outcome
            if endpoint not in ENDS_AT_SIGN_IN:
                assert not location.startswith("/sign-in"), outcome
        elif role in policy["not_found"]:
            assert status == 404, outcome
        elif role == "anonymous":
            assert status == 302 and location.startswith("/sign-in"), outcome
        else:
            assert status == 403, outcome


def test_a_partners_scope_is_made_once_per_agency_and_names_that_agency():
    """The partner rules are kept per agency (tracker/permissions.py): one agency's rule is reused,
    never another agency's, and the agency it names is the reader's."""
    from types import SimpleNamespace

    from tracker.models import Role
    from tracker.permissions import case_review_scope, meeting_scope

    def partner(agency_id):
        return SimpleNamespace(role=Role.PARTNER, agency_id=agency_id)

    def agencies_named(clause) -> set:
        compiled = clause.compile()
        return {value for key, value in compiled.params.items() if "agency_id" in key}

    for scope in (meeting_scope, case_review_scope):
        assert scope(partner(7)) is scope(partner(7))
        assert scope(partner(7)) is not scope(partner(8))
        assert agencies_named(scope(partner(7))) == {7}
        assert agencies_named(scope(partner(8))) == {8}


def test_a_partners_scope_is_probed_row_by_row_on_postgresql():
    """Each EXISTS of the partner rules carries OFFSET 0, which keeps PostgreSQL from reading every row
    the subquery could match into a hash before the first outer row (see _probed)."""
    from types import SimpleNamespace

    from sqlalchemy.dialects import postgresql

    from tracker.models import Role
    from tracker.permissions import case_review_scope, meeting_scope

    partner = SimpleNamespace(role=Role.PARTNER, agency_id=7)
    meeting_sql = str(meeting_scope(partner).compile(dialect=postgresql.dialect()))
    review_sql = str(case_review_scope(partner).compile(dialect=postgresql.dialect()))
    assert meeting_sql.count("EXISTS") == 2 and meeting_sql.count("OFFSET") == 2
    # The review's own two, and the meeting rule's two inside the visible-meeting check (itself one).
    assert review_sql.count("EXISTS") == 5 and review_sql.count("OFFSET") == 4


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL setting")
def test_postgresql_connections_keep_generic_plans_and_the_urls_own_options(app):
    """Every connection keeps one generic plan per prepared statement (tracker/__init__.py
    _configure_postgresql), and options given in the database URL still hold."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tracker import create_app

    with app.app_context():
        assert _db.session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
        url = make_url(str(_db.engine.url)).update_query_dict({"options": "-c statement_timeout=12345"})
    other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False)})
    with other.app_context():
        assert _db.session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
        assert _db.session.scalar(text("SHOW statement_timeout")) == "12345ms"
        _db.session.remove()
        _db.engine.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL connection")
def test_a_pooled_connection_the_server_ended_is_replaced_without_a_ping_on_every_request(app):
    """tracker/__init__.py _configure_postgresql: no SELECT 1 before each request (pool_pre_ping is off);
    a pooled connection the server has ended is noticed at checkout and replaced, not used for a query."""
    import time

    import sqlalchemy as sa
    from sqlalchemy import text

    def backend_pid() -> int:
        pid = _db.session.scalar(text("SELECT pg_backend_pid()"))
        _db.session.remove()  # the connection goes back to the pool
        return pid

    with app.app_context():
        assert _db.engine.pool._pre_ping is False  # no round trip before every request
        first = backend_pid()
        assert backend_pid() == first  # a healthy connection is kept and used again
        admin = sa.create_engine(_db.engine.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            for _ in range(100):  # until the server has ended it
                gone = not connection.execute(
                    text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": first}
                ).first()
                if gone:
                    break
                time.sleep(0.02)
        admin.dispose()
        assert gone
        time.sleep(0.05)  # the server's last message reaches the pooled connection's socket
        assert backend_pid() != first  # a new connection, and no error


def test_a_statement_per_reader_is_shared_by_readers_alike_and_sees_only_their_role_and_agency():
    """statement_per_reader (tracker/permissions.py): users with the same role, and for a partner the
    same agency, share one statement; any other reader gets their own; the builder is given no more
    of a user than that, so nothing else of theirs can reach a shared statement."""
    from types import SimpleNamespace

    from sqlalchemy import select

    from tracker.models import Meeting, Role
    from tracker.permissions import Reader, meeting_scope, statement_per_reader

    given = []

    @statement_per_reader
    def statement(reader):
        given.append(reader)
        return select(Meeting.id).where(meeting_scope(reader))

    def user(role, agency_id, user_id):
        return SimpleNamespace(role=role, agency_id=agency_id, id=user_id, email=f"{user_id}@example.org")

    chair, other_chair = user(Role.CHAIR, 1, 10), user(Role.CHAIR, 2, 11)
    partner, colleague, other_agency = user(Role.PARTNER, 7, 20), user(Role.PARTNER, 7, 21), user(Role.PARTNER, 8, 22)
    assert statement(chair) is statement(other_chair)  # a chair's scope names no agency
    assert statement(partner) is statement(colleague)
    assert statement(partner) is not statement(other_agency)
    assert statement(partner) is not statement(chair)
    assert statement(user(Role.MANAGER, 1, 30)) is not statement(chair)  # kept per role too
    assert given == [
        Reader(Role.CHAIR, None),
        Reader(Role.PARTNER, 7),
        Reader(Role.PARTNER, 8),
        Reader(Role.MANAGER, None),
    ]
    assert all(not hasattr(reader, "id") and not hasattr(reader, "email") for reader in given)
    assert "agency_id" not in str(statement(chair)) and str(statement(partner)).count("agency_id") >= 1

"""Signing in and out, sessions, throttling, passwords."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, enter_code, error_messages, get_page, parse, sign_in, summary_errors, text_of
from tracker.extensions import db
from tracker.models import AuditEvent, LoginFailure, User, UserSession
from tracker.timeutil import utcnow

GENERIC = "Email address or password is wrong"


def audit_actions(app):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_anonymous_visitor_is_sent_to_sign_in_with_next(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/admin/users"


def test_sign_in_page_has_labelled_fields_and_no_remember_me(client):
    page = get_page(client, "/sign-in")
    assert text_of(page.h1) == "Sign in"
    assert page.select_one("label[for=email]") and page.select_one("label[for=password]")
    assert page.select_one("input#password")["type"] == "password"
    assert not page.find(string=lambda s: s and "remember" in s.lower())
    assert page.select_one("input[name=remember]") is None


def test_sign_in_with_any_case_email_lands_on_home(client, make_user, app):
    user = make_user("chair", email="Chair.Person@example.org")
    response = sign_in(client, "  CHAIR.person@EXAMPLE.org ", user.password)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = get_page(client, "/")
    assert "Welcome" in text_of(page.h1)
    assert "sign_in" in audit_actions(app)


@pytest.mark.parametrize("case", ["unknown", "wrong password", "deactivated"])
def test_failed_sign_in_gives_one_generic_message(client, make_user, app, case):
    user = make_user("partner", active=(case != "deactivated"))
    email = "nobody@example.org" if case == "unknown" else user.email
    password = "wrong password entirely" if case == "wrong password" else user.password
    response = sign_in(client, email, password)
    assert response.status_code == 200
    page = parse(response)
    assert error_messages(page) == {"email": GENERIC}
    assert summary_errors(page) == [("#email", GENERIC)]
    assert text_of(page.title).startswith("Error:")
    assert client.get("/").status_code == 302  # still signed out
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginFailure.id))) == 1
    assert audit_actions(app) == ["sign_in_failed"]


def test_empty_sign_in_form_gets_field_messages(client):
    page = parse(client.post("/sign-in", data={"email": "", "password": ""}))
    assert error_messages(page) == {"email": "Enter your email address", "password": "Enter your password"}


def test_account_throttled_after_repeated_failures_then_allowed_after_window(client, make_user, app):
    user = make_user("chair")
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert sign_in(client, user.email, "not the password at all").status_code == 200
    # Even the right password is not checked while throttled.
    response = sign_in(client, user.email, user.password)
    assert response.status_code == 429
    page = parse(response)
    assert "Try again in 15 minutes" in text_of(page)
    assert client.get("/").status_code == 302
    assert "sign_in_throttled" in audit_actions(app)

    # The window slides: once the failures are older than it, the user can sign in.
    with app.app_context():
        for failure in db.session.scalars(select(LoginFailure)):
            failure.at = utcnow() - app.config["LOGIN_THROTTLE_WINDOW"] - timedelta(seconds=1)
        db.session.commit()
    assert sign_in(client, user.email, user.password).status_code == 302


def test_ip_throttled_across_many_accounts(client, app):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for n in range(3):
        sign_in(client, f"guess{n}@example.org", "a wrong password here")
    response = sign_in(client, "another@example.org", "a wrong password here")
    assert response.status_code == 429


def test_throttle_is_shared_through_the_database(make_user, app, database_uri):
    """Failures recorded by one worker process count in another (here: a second app instance)."""
    from tests.conftest import make_test_app

    user = make_user("chair")
    other_worker = make_test_app(database_uri)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        sign_in(app.test_client(), user.email, "wrong wrong wrong")
    assert sign_in(other_worker.test_client(), user.email, user.password).status_code == 429
    with other_worker.app_context():
        db.engine.dispose()


def test_new_session_on_every_sign_in(client, make_user, app):
    user = make_user("chair")
    sign_in(client, user.email, user.password)
    first_cookie = client.get_cookie("tracker_session").value
    client.post("/sign-out")
    sign_in(client, user.email, user.password)
    assert client.get_cookie("tracker_session").value != first_cookie
    with app.app_context():
        rows = list(db.session.scalars(select(UserSession).order_by(UserSession.id)))
    assert len(rows) == 2 and rows[0].ended_at is not None and rows[1].ended_at is None


def test_sign_out_is_post_only_and_ends_the_session_for_replayed_cookies(client, make_user, app):
    user = make_user("manager")
    sign_in(client, user.email, user.password)
    stolen = client.get_cookie("tracker_session").value
    assert client.get("/sign-out").status_code == 405
    response = client.post("/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert client.get("/").status_code == 302

    replay = app.test_client()
    replay.set_cookie("tracker_session", stolen)
    assert replay.get("/").status_code == 302
    assert "sign_out" in audit_actions(app)


def _age_session(app, **delta):
    with app.app_context():
        for record in db.session.scalars(select(UserSession)):
            record.created_at -= timedelta(**delta.get("created", {}))
            record.last_seen_at -= timedelta(**delta.get("seen", {}))
        db.session.commit()


def test_idle_timeout_signs_out_after_30_minutes(client, make_user, app):
    user = make_user("chair")
    sign_in(client, user.email, user.password)
    _age_session(app, seen={"minutes": 29})
    assert client.get("/").status_code == 200  # activity refreshes the idle clock
    _age_session(app, seen={"minutes": 31})
    response = client.get("/")
    assert response.status_code == 302
    page = get_page(client, response.headers["Location"])
    assert "Your session ended" in text_of(page)
    with app.app_context():
        assert db.session.scalar(select(UserSession.end_reason)) == "idle timeout"


def test_absolute_timeout_after_12_hours_even_when_active(client, make_user, app):
    user = make_user("chair")
    sign_in(client, user.email, user.password)
    _age_session(app, created={"hours": 12, "minutes": 1})
    assert client.get("/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(UserSession.end_reason)) == "absolute timeout"


def test_the_session_cookie_is_set_at_sign_in_and_not_resent_on_every_page(client, make_user, app):
    """The server-side session row decides when a session ends; re-signing the cookie on every response
    (Flask's default for a permanent session) cost time on every page and bought nothing."""
    user = make_user("chair")
    response = sign_in(client, user.email, user.password)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    assert any(header.startswith(f"{cookie_name}=") for header in response.headers.getlist("Set-Cookie"))
    client.get("/")  # the first page stores the session's CSRF secret in it: a change, so it is sent
    for path in ("/", "/meetings", "/actions"):
        page = client.get(path)
        assert page.status_code == 200
        assert not page.headers.getlist("Set-Cookie"), path


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/admin/users", "/admin/users"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/%09/evil.example", "/%09/evil.example"),
        ("/\t/evil.example", "/"),
        (" //evil.example", "/"),
    ],
)
def test_next_only_goes_to_local_paths(client, make_user, target, expected):
    user = make_user("admin")
    response = client.post(
        "/sign-in", query_string={"next": target}, data={"email": user.email, "password": user.password}
    )
    # Where to go is kept, already made safe, through the second step.
    assert response.headers["Location"] == "/sign-in/code"
    response = enter_code(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_change_password_ends_other_sessions_and_keeps_this_one(client, make_user, app):
    user = make_user("partner")
    sign_in(client, user.email, user.password)
    other_device = app.test_client()
    sign_in(other_device, user.email, user.password)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "violet kettle marching slowly",
            "confirm_password": "violet kettle marching slowly",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
    client.post("/sign-out")
    assert sign_in(client, user.email, "violet kettle marching slowly").status_code == 302
    assert "password_changed" in audit_actions(app)


@pytest.mark.parametrize(
    "new, confirm, field, message",
    [
        ("short one", "short one", "new_password", "Password must be 12 characters or more"),
        ("x" * 129, "x" * 129, "new_password", "Password must be 128 characters or fewer"),
        (
            "1qaz2wsx3edc",
            "1qaz2wsx3edc",
            "new_password",
            "Password is too common or too easy to guess. Try a few unrelated words together",
        ),
        (
            "password1234",
            "password1234",
            "new_password",
            "Password is too common or too easy to guess. Try a few unrelated words together",
        ),
        (
            "ScrutinyTracker2026!",
            "ScrutinyTracker2026!",
            "new_password",
            "Password must not be made of your name, email address or the name of this service",
        ),
        ("violet kettle marching slowly", "violet kettle marching", "confirm_password", "The passwords do not match"),
        (PASSWORD, PASSWORD, "new_password", "Your new password must be different from your current password"),
    ],
)
def test_change_password_refuses_weak_or_mismatched_passwords(client, make_user, app, new, confirm, field, message):
    user = make_user("chair")
    sign_in(client, user.email, user.password)
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": new, "confirm_password": confirm}
    )
    assert response.status_code == 200
    assert error_messages(parse(response)) == {field: message}
    with app.app_context():
        assert "password_changed" not in [e.action for e in db.session.scalars(select(AuditEvent))]


def test_change_password_refuses_the_users_own_email(client, make_user):
    user = make_user("chair", email="kettle.violet@example.org")
    sign_in(client, user.email, user.password)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "kettle.violet@example.org",
            "confirm_password": "kettle.violet@example.org",
        },
    )
    assert error_messages(parse(response)) == {"new_password": "Password must not be your email address"}


def test_change_password_needs_the_current_password(client, make_user):
    user = make_user("chair")
    sign_in(client, user.email, user.password)
    response = client.post(
        "/account/password",
        data={
            "current_password": "not my password",
            "new_password": "violet kettle marching slowly",
            "confirm_password": "violet kettle marching slowly",
        },
    )
    assert error_messages(parse(response)) == {"current_password": "Your current password is wrong"}


def test_temporary_password_forces_a_change_before_anything_else(client, make_user, app):
    user = make_user("partner", must_change_password=True)
    response = sign_in(client, user.email, user.password)
    assert response.headers["Location"].startswith("/account/password")
    assert client.get("/").headers["Location"].startswith("/account/password")
    page = get_page(client, "/account/password")
    assert text_of(page.h1) == "Choose a new password"
    client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "violet kettle marching slowly",
            "confirm_password": "violet kettle marching slowly",
        },
    )
    assert client.get("/").status_code == 200
    with app.app_context():
        assert db.session.get(User, user.id).must_change_password is False


def test_deactivated_user_is_signed_out_at_once(client, make_user, app):
    user = make_user("partner")
    sign_in(client, user.email, user.password)
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert client.get("/").status_code == 302


def test_passwords_are_hashed_with_strong_argon2id_in_production():
    """The tests run with cheap argon2id parameters (TestingConfig.ARGON2_PARAMETERS); production must not."""
    from argon2 import Type, extract_parameters

    from tests.production_settings import SAFE_PRODUCTION
    from tracker import create_app
    from tracker.auth.passwords import hash_password

    app = create_app("production", SAFE_PRODUCTION)
    assert not app.config.get("ARGON2_PARAMETERS")
    with app.app_context():
        parameters = extract_parameters(hash_password("granite harbour willow nine"))
    assert parameters.type == Type.ID
    # At least OWASP's minimum for argon2id: 19 MiB of memory and 2 passes.
    assert parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2


# What a failed sign-in leaves behind, and who it locks out --------------------------------------


def _everything_stored(app) -> str:
    """Every value of every audit event and throttling row, as one string."""
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
        failures = db.session.scalars(select(LoginFailure)).all()
        values = [str(getattr(e, c)) for e in events for c in ("user_id", "object_type", "object_id", "detail")]
        values += [f.account_key for f in failures]
    return " ".join(values)


def test_a_failed_sign_in_audits_the_matched_account_or_nothing_never_the_typed_text(client, make_user, app):
    user = make_user("partner", email="real.person@example.org")
    # People type passwords into the e-mail field: what they typed must not be kept anywhere.
    sign_in(client, "hunter2-my-secret-password", "whatever they typed")
    sign_in(client, "Real.Person@example.org", "a wrong password entirely")
    with app.app_context():
        unknown, known = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert (unknown.action, unknown.user_id, unknown.object_id) == ("sign_in_failed", None, None)
    assert (known.action, known.user_id, known.object_id) == ("sign_in_failed", user.id, str(user.id))
    stored = _everything_stored(app)
    for typed in ("hunter2", "real.person", "whatever they typed", "a wrong password"):
        assert typed not in stored.lower()


def test_a_throttled_sign_in_audits_the_matched_account_or_nothing(client, make_user, app):
    user = make_user("partner")
    for email in (user.email, "typed-by-mistake@example.org"):
        for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] + 1):
            sign_in(client, email, "not the password at all")
    with app.app_context():
        throttled = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in_throttled")).all()
    assert [event.user_id for event in throttled] == [user.id, None]
    assert "typed-by-mistake" not in _everything_stored(app)


def test_an_office_of_thirty_behind_one_address_still_signs_in(client, make_user, app, make_agency):
    """Thirty colleagues behind one address each mistype their password a few times: nobody is locked out,
    because the limits per account do the work and the per-address ceiling is much higher."""
    office = make_agency(code="OFF")
    colleagues = [make_user("partner", office) for _ in range(30)]
    below_the_account_limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1
    for colleague in colleagues:
        for _ in range(below_the_account_limit):
            assert sign_in(app.test_client(), colleague.email, "a mistyped password").status_code == 200
    for colleague in colleagues:
        assert sign_in(app.test_client(), colleague.email, colleague.password).headers["Location"] == "/"
    # The ceiling per address is still there for one address trying very many accounts.
    assert app.config["LOGIN_MAX_FAILURES_PER_IP"] >= 30 * app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]


def test_wrong_current_passwords_on_the_change_password_page_are_throttled(client, make_user, app):
    user = make_user("partner")
    sign_in(client, user.email, user.password)
    data = {"new_password": "violet kettle marching slowly", "confirm_password": "violet kettle marching slowly"}
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        client.post("/account/password", data={**data, "current_password": "a guess at the password"})
    assert client.post("/account/password", data={**data, "current_password": PASSWORD}).status_code == 429
    assert "password_confirmation_failed" in audit_actions(app)


def test_the_sign_out_button_sits_with_the_other_account_links_as_a_browser_parses_the_page(client, make_user):
    """Parsed as a browser does (the HTML standard's parser): a p may not hold a form, so links in a p
    would be closed off before the sign-out form and it would fall onto a line of its own."""
    import io

    import tinyhtml5

    user = make_user("chair")
    sign_in(client, user.email, user.password)
    tree = tinyhtml5.parse(io.StringIO(client.get("/").get_data(as_text=True)), namespace_html_elements=False)
    [links] = [element for element in tree.iter() if "app-account-bar__links" in element.get("class", "")]
    assert [button.text for button in links.iter("button")] == ["Sign out"]

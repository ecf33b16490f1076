"""Headers, CSRF, request size, error pages, cookie flags and unsafe production settings."""

import pytest
import sqlalchemy as sa

from config import UnsafeConfiguration
from tests.conftest import current_code, enter_code, get_page, make_test_app, parse, text_of
from tests.production_settings import SAFE_PRODUCTION
from tracker import create_app
from tracker.extensions import db as tracker_db
from tracker.forms import date_example
from tracker.permissions import public


def test_security_headers_and_no_store_on_every_page(client, login_as):
    anonymous = client.get("/sign-in")
    login_as("admin")
    for response in (anonymous, client.get("/"), client.get("/admin/users"), client.get("/does-not-exist")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp
        assert "unsafe-inline" not in csp
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(client, login_as):
    login_as("admin")
    for url in ("/", "/admin/users", "/accessibility"):
        page = get_page(client, url)
        for script in page.find_all("script"):
            assert script.get("src"), f"inline script on {url}"


def test_static_assets_may_be_cached(client):
    response = client.get("/static/govuk/govuk-frontend.min.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"


@pytest.fixture
def csrf_app(database_uri):
    return make_test_app(database_uri, WTF_CSRF_ENABLED=True)


def _csrf_token(client, url):
    return parse(client.get(url)).select_one("input[name=csrf_token]")["value"]


def test_csrf_token_is_required_for_sign_in_and_sign_out(csrf_app, make_user):
    client = csrf_app.test_client()
    user = make_user("chair")
    response = client.post("/sign-in", data={"email": user.email, "password": user.password})
    assert response.status_code == 400
    assert text_of(parse(response).h1) == "There is a problem with your request"

    token = _csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"email": user.email, "password": user.password, "csrf_token": token})
    assert response.headers["Location"] == "/sign-in/code"
    # The second step is a form like any other.
    assert client.post("/sign-in/code", data={"code": current_code(csrf_app, user.email)}).status_code == 400
    response = enter_code(client, user.email, csrf_token=_csrf_token(client, "/sign-in/code"))
    assert response.status_code == 302 and response.headers["Location"] == "/"

    # Sign-out is a state change too: without the token it is refused and the user stays signed in.
    assert client.post("/sign-out").status_code == 400
    assert client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 200
    token = _csrf_token(client, "/")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_csrf_token_from_before_sign_in_is_not_reused_after(csrf_app, make_user):
    client = csrf_app.test_client()
    user = make_user("admin")
    before = _csrf_token(client, "/sign-in")
    client.post("/sign-in", data={"email": user.email, "password": user.password, "csrf_token": before})
    on_second_step = _csrf_token(client, "/sign-in/code")
    enter_code(client, user.email, csrf_token=on_second_step)
    after = _csrf_token(client, "/admin/users/new")
    assert len({before, on_second_step, after}) == 3


def test_oversized_post_gets_the_413_page(client):
    response = client.post("/sign-in", data={"email": "x@example.org", "password": "p" * (10 * 1024 * 1024)})
    assert response.status_code == 413
    assert text_of(parse(response).h1) == "What you sent is too large"


def test_unexpected_error_shows_a_reference_and_no_trace(database_uri):
    app = make_test_app(database_uri)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @public
    def explode():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500
    page = parse(response)
    assert page.select_one("[data-testid=error-reference]").get_text(strip=True)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("status, url, method", [(404, "/no-such-page", "get"), (405, "/sign-out", "get")])
def test_error_pages_are_service_pages(client, status, url, method):
    response = getattr(client, method)(url)
    assert response.status_code == status
    page = parse(response)
    assert page.select_one(".govuk-footer") and page.h1


def test_user_text_is_escaped(client, login_as, make_user):
    make_user("partner", name="<script>alert(1)</script>")
    login_as("admin")
    response = client.get("/admin/users?status=all")
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.get_data(as_text=True)


def test_production_refuses_weak_secret_key_and_sqlite():
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        create_app("production", {**SAFE_PRODUCTION, "SECRET_KEY": "short"})
    with pytest.raises(UnsafeConfiguration, match="PostgreSQL"):
        create_app("production", {**SAFE_PRODUCTION, "SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"})
    app = create_app("production", SAFE_PRODUCTION)
    assert app.debug is False


def test_production_session_cookie_is_host_prefixed_secure_httponly_lax(database_uri, make_user):
    app = create_app(
        "production",
        {
            **SAFE_PRODUCTION,
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "ALLOW_SQLITE_IN_PRODUCTION": True,
            "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        },
    )
    user = make_user("partner")  # straight in (no second step), so this response starts the session
    client = app.test_client()
    token = parse(client.get("/sign-in", base_url="https://localhost")).select_one("input[name=csrf_token]")["value"]
    # Over HTTPS Flask-WTF also checks the Referer is this site.
    response = client.post(
        "/sign-in",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/sign-in"},
        data={"email": user.email, "password": user.password, "csrf_token": token},
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain=" not in cookie and "Expires=" in cookie  # ends by itself at the absolute limit
    assert user.email not in cookie


def test_unknown_environment_name_is_refused():
    with pytest.raises(UnsafeConfiguration):
        create_app("staging")


def test_a_failed_commit_shows_the_error_page_and_no_success_banner(client, app, login_as, monkeypatch):
    """The save fails at the very end (the commit): nothing is kept, the full error page is shown
    with its headers, and the next page carries no "saved" banner."""
    from tracker.extensions import db as tracker_db
    from tracker.models import AuditEvent, Meeting

    app.config["PROPAGATE_EXCEPTIONS"] = False
    login_as("chair")

    def failing_commit(*_args, **_kwargs):
        raise RuntimeError("database went away")

    page = parse(client.get("/meetings/new"))
    chair_id = page.select_one("[name=chair_id] option[selected], [name=chair_id]:checked")["value"]
    invited = [box["value"] for box in page.select("input[name=invited_agency_ids][checked]")]
    form = {"date": ["1", "12", "2030"], "time": "10:00", "weeks": "1", "location": "Room 1", "chair_id": chair_id,
            "invited_agency_ids": invited}  # fmt: skip
    # The same form without the failure does schedule a meeting (so the failure is what stops it).
    assert client.post("/meetings/new", data=form).status_code == 302
    client.get("/meetings")  # shows, and so clears, the "scheduled" banner
    with app.app_context():
        meetings_before = tracker_db.session.scalar(sa.select(sa.func.count(Meeting.id)))
        events_before = tracker_db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    monkeypatch.setattr(tracker_db.session, "commit", failing_commit)
    response = client.post("/meetings/new", data=form)
    monkeypatch.undo()
    assert response.status_code == 500
    assert text_of(parse(response).h1) == "Sorry, there is a problem with the service"
    assert parse(response).select(".govuk-notification-banner") == []
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["Cache-Control"] == "no-store"
    following = parse(client.get("/meetings"))
    assert following.select(".govuk-notification-banner--success") == []
    with app.app_context():
        assert tracker_db.session.scalar(sa.select(sa.func.count(Meeting.id))) == meetings_before
        assert tracker_db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events_before


@pytest.mark.parametrize(
    "url",
    [
        "/meetings?to=9999-12-31",
        "/meetings?from=0001-01-01",
        "/meetings?page=99999999999999999999",
        "/actions?page=99999999999999999999",
        "/actions?page=%C2%B2",
        "/cases?page=-3",
        "/admin/users?page=1e9",
        "/reports/minutes/1.pdf?revision=99999999999999999999",
    ],
)
def test_out_of_range_query_values_answer_a_page_not_an_error(client, login_as, url):
    login_as("admin" if url.startswith("/admin/") else "chair")
    assert client.get(url).status_code in (200, 404)


def test_hostile_values_on_the_meeting_pages_answer_a_page_not_an_error(client, app, login_as, make_meeting):
    chair = login_as("chair")
    meeting_id = make_meeting(1, chair=chair)
    huge = "9" * 25
    for url in (f"/meetings/{huge}", f"/meetings/{meeting_id}/reviews/{huge}/return", f"/actions/{huge}/cancel"):
        assert client.get(url).status_code == 404, url
    moved = client.post(
        f"/meetings/{meeting_id}/reviews/move", data={"review_id": "²", "direction": "up", "agenda": ""}
    )
    assert moved.status_code == 302
    with app.app_context():
        agency_id = tracker_db_session_first_agency_id()
    twice = client.post(
        f"/meetings/{meeting_id}/agenda",
        data={"rows-0-reference": "CR/DUP/1", "rows-0-agency_ids": [agency_id, agency_id], "save": "y"},
    )
    assert twice.status_code in (200, 302)
    due = ["1", "1", "9" * 20]
    response = client.post(
        f"/meetings/{meeting_id}/actions/new", data={"description": "x", "owning_agency_id": agency_id, "due_date": due}
    )
    assert response.status_code == 200
    assert "Due date must be a real date" in parse(response).select_one(".govuk-error-message").get_text()


def tracker_db_session_first_agency_id():
    from tracker.extensions import db
    from tracker.models import Agency

    return db.session.scalar(sa.select(Agency.id).order_by(Agency.id))


def _clashing_agency_check(monkeypatch):
    """As if a second administrator's identical agency was saved between this form's check and its save."""
    from tracker.admin import queries

    monkeypatch.setattr(queries, "agency_clash", lambda *args, **kwargs: {"name": False, "code": False})


def _assert_conflict_page(response):
    assert response.status_code == 409
    page = parse(response)
    assert text_of(page.h1) == "Someone else saved a change at the same time"
    assert "Nothing you sent has been saved" in text_of(page.select_one("main"))
    assert page.select_one(".govuk-footer") and page.select_one(".govuk-notification-banner--success") is None
    assert response.headers["Content-Security-Policy"] and response.headers["Cache-Control"] == "no-store"


def test_a_save_that_clashes_while_flushing_gets_the_conflict_page(client, app, login_as, monkeypatch):
    login_as("admin")
    assert client.post("/admin/agencies/new", data={"name": "Health", "code": "NHS"}).status_code == 302
    _clashing_agency_check(monkeypatch)
    _assert_conflict_page(client.post("/admin/agencies/new", data={"name": "Health", "code": "NHS"}))
    from tracker.models import Agency

    with app.app_context():
        assert tracker_db.session.scalar(sa.select(sa.func.count()).where(Agency.code == "NHS")) == 1


def test_a_save_that_clashes_at_commit_gets_the_conflict_page(client, app, login_as):
    """The clash surfaces only when the request commits, after the view has returned."""
    from tracker.models import Agency

    @public
    def adds_without_flushing():
        tracker_db.session.add(Agency(name="Health", code="NHS"))
        return "saved"

    app.add_url_rule("/test/add-agency", "adds_without_flushing", adds_without_flushing)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handler answers
    assert client.get("/test/add-agency").status_code == 200
    _assert_conflict_page(client.get("/test/add-agency"))
    with app.app_context():
        assert tracker_db.session.scalar(sa.select(sa.func.count()).where(Agency.code == "NHS")) == 1


@pytest.mark.parametrize("year", ["9999", "1899", "2101"])
def test_dates_outside_1900_to_2100_are_refused_with_a_message(client, app, login_as, make_meeting, year):
    from tests.conftest import error_messages
    from tracker.models import Action, Agency

    chair = login_as("chair")
    meeting_id = make_meeting(1, chair=chair)
    with app.app_context():
        agency_id = tracker_db.session.scalar(sa.select(Agency.id))
    response = client.post(
        f"/meetings/{meeting_id}/actions/new",
        data={"description": "Refer", "owning_agency_id": agency_id, "due_date": ["1", "1", year]},
    )
    assert response.status_code == 200
    assert error_messages(parse(response))["due_date-day"] == (
        f"Due date must be between 1900 and 2100, like {date_example()}"
    )
    with app.app_context():
        assert tracker_db.session.scalar(sa.select(sa.func.count(Action.id))) == 0

"""Double-submit protection (tracker/once.py): posting a create form twice creates one thing.

Each post is built from the real rendered form, as a browser would send it: every field with its
value as shown, the one-time token included, plus what the test types in.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tests.conftest import PASSWORD, enter_code, get_page, make_test_app, parse, sign_in, text_of
from tracker import once
from tracker.extensions import db
from tracker.models import (
    Action,
    Agency,
    AgencyReturn,
    Attendance,
    CaseReview,
    FormSubmission,
    LearningTheme,
    Meeting,
    User,
)
from tracker.timeutil import london_today, utcnow

ALREADY_SAVED = "That was already saved."


# Filling in a form as a browser would --------------------------------------------------------


def token_form(page):
    """The form on the page that carries the one-time token (exactly one)."""
    [token] = page.select("input[name=form_token]")
    return token.find_parent("form")


def token_of(page) -> str:
    return token_form(page).select_one("input[name=form_token]")["value"]


def browser_data(form) -> dict[str, list[str]]:
    """What a browser sends for ``form`` untouched: every control's current value, no button."""
    data: dict[str, list[str]] = {}
    for control in form.select("input, select, textarea"):
        name = control.get("name")
        if not name or control.has_attr("disabled"):
            continue
        if control.name == "input":
            kind = control.get("type", "text")
            if kind in ("submit", "button", "reset", "image", "file"):
                continue
            if kind in ("checkbox", "radio") and not control.has_attr("checked"):
                continue
            data.setdefault(name, []).append(control.get("value", "on"))
        elif control.name == "select":
            options = control.select("option")
            picked = [o for o in options if o.has_attr("selected")] or (
                [] if control.has_attr("multiple") else options[:1]
            )
            data.setdefault(name, []).extend(o.get("value", o.get_text()) for o in picked)
        else:
            data.setdefault(name, []).append(control.get_text())
    return data


def filled_in(page, button: str, **typed) -> dict:
    """The token form of ``page`` as sent with ``typed`` values (a list for several) by pressing ``button``."""
    form = token_form(page)
    assert form.select_one(f"button[name={button}]") is not None, f"no button {button!r} on the form"
    data: dict = browser_data(form)
    for name, value in typed.items():
        data[name] = value if isinstance(value, list) else [str(value)]
    data[button] = ["y"]
    return data


def date_parts(day) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def banners(response_or_page) -> str:
    page = response_or_page if hasattr(response_or_page, "select") else parse(response_or_page)
    return " ".join(text_of(banner) for banner in page.select(".govuk-notification-banner"))


def post_twice(client, url: str, data: dict):
    """Post the same form twice; both answers must be the same redirect. Returns the Location."""
    first = client.post(url, data=data)
    assert first.status_code == 302, f"first post: {first.status_code}"
    second = client.post(url, data=data)
    assert second.status_code == 302, f"second post: {second.status_code}"
    assert second.headers["Location"] == first.headers["Location"]
    assert ALREADY_SAVED in banners(client.get(second.headers["Location"]))
    return first.headers["Location"]


# Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def chair(login_as, agencies):
    return login_as("chair", agencies["POL"])


@pytest.fixture
def admin(login_as, agencies):
    return login_as("admin", agencies["POL"])


def signed_in_client(app, user):
    client = app.test_client()
    assert sign_in(client, user.email, user.password).status_code == 302
    return client


# Each create form, posted twice -----------------------------------------------------------


def test_scheduling_a_meeting_twice_schedules_one(client, app, chair):
    page = get_page(client, "/meetings/new")
    data = filled_in(page, "submit", date=date_parts(london_today() + timedelta(days=9)), location="Room 4")
    location = post_twice(client, "/meetings/new", data)
    assert count(app, Meeting) == 1
    with app.app_context():
        assert location == f"/meetings/{db.session.scalar(select(Meeting.id))}/agenda"


def test_publishing_the_agenda_twice_adds_the_case_once_and_emails_once(
    client, app, chair, agencies, make_meeting, make_user, smtp_server
):
    meeting_id = make_meeting(3, chair=chair, invited=list(agencies.values()))
    make_user("partner", agencies["IDVA"])
    page = get_page(client, f"/meetings/{meeting_id}/agenda")
    data = filled_in(page, "publish", **{"rows-0-reference": "CR/TWICE/1", "rows-0-agency_ids": [agencies["IDVA"].id]})
    assert post_twice(client, f"/meetings/{meeting_id}/agenda", data) == f"/meetings/{meeting_id}"
    assert count(app, CaseReview) == 1
    assert len(smtp_server) == 1  # the agency is told once


def test_raising_an_action_twice_raises_one(client, app, chair, agencies, make_meeting, add_review):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/ACT/1")
    url = f"/meetings/{meeting_id}/actions/new?review={review_id}"
    data = filled_in(
        get_page(client, url),
        "submit",
        description="Refer to MARAC",
        owning_agency_id=agencies["IDVA"].id,
        due_date=date_parts(london_today() + timedelta(days=14)),
    )
    assert post_twice(client, url, data) == f"/meetings/{meeting_id}/reviews/{review_id}"
    assert count(app, Action) == 1


def test_adding_a_guest_to_the_attendance_twice_adds_one(client, app, chair, agencies, make_meeting, make_user):
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"]])
    make_user("partner", agencies["IDVA"])
    url = f"/meetings/{meeting_id}/attendance"
    data = filled_in(
        get_page(client, url), "save", guest_name="Visiting IDVA", guest_agency_id=agencies["IDVA"].id,
        guest_status="present",
    )  # fmt: skip
    assert post_twice(client, url, data) == url
    assert count(app, Attendance, Attendance.person_name == "Visiting IDVA") == 1


def test_saving_a_review_with_an_action_twice_raises_one_action(client, app, chair, agencies, make_meeting, add_review):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/REV/1")
    url = f"/meetings/{meeting_id}/reviews/{review_id}"
    data = filled_in(
        get_page(client, url),
        "save_draft",
        summary="Call handling reviewed",
        **{
            "action-description": "Check the bail conditions",
            "action-owning_agency_id": agencies["POL"].id,
            "action-due_date": date_parts(london_today() + timedelta(days=7)),
        },
    )
    assert post_twice(client, url, data) == f"/meetings/{meeting_id}"
    assert count(app, Action) == 1


def test_sending_an_agencys_information_twice_sends_it_once(
    client, app, chair, agencies, make_meeting, make_user, smtp_server
):
    meeting_id = make_meeting(3, chair=chair, invited=list(agencies.values()))
    officer = make_user("partner", agencies["IDVA"])
    agenda = get_page(client, f"/meetings/{meeting_id}/agenda")
    client.post(
        f"/meetings/{meeting_id}/agenda",
        data=filled_in(
            agenda, "publish", **{"rows-0-reference": "CR/RET/1", "rows-0-agency_ids": [agencies["IDVA"].id]}
        ),
    )
    with app.app_context():
        review_id = db.session.scalar(select(CaseReview.id))
    partner = signed_in_client(app, officer)
    url = f"/meetings/{meeting_id}/reviews/{review_id}/return"
    data = filled_in(get_page(partner, url), "submit", information="Known to IDVA since March")
    assert post_twice(partner, url, data) == f"/meetings/{meeting_id}"
    assert count(app, AgencyReturn) == 1


def test_adding_a_user_twice_adds_one(client, app, admin, agencies, smtp_server):
    page = get_page(client, "/admin/users/new")
    data = filled_in(
        page, "submit", email="twice@example.org", display_name="Pat Twice", role="partner",
        agency_id=agencies["HOU"].id,
    )  # fmt: skip
    location = post_twice(client, "/admin/users/new", data)
    with app.app_context():
        [user_id] = db.session.scalars(select(User.id).where(User.email == "twice@example.org")).all()
    assert location == f"/admin/users/{user_id}"
    assert len(smtp_server) == 1  # one invitation


def test_adding_an_agency_twice_adds_one(client, app, admin):
    page = get_page(client, "/admin/agencies/new")
    data = filled_in(page, "submit", name="Probation service", code="PROB")
    assert post_twice(client, "/admin/agencies/new", data) == "/admin/agencies"
    assert count(app, Agency, Agency.code == "PROB") == 1


def test_adding_a_learning_theme_twice_adds_one(client, app, admin):
    data = filled_in(get_page(client, "/admin/themes"), "submit", name="Coercive control")
    assert post_twice(client, "/admin/themes", data) == "/admin/themes"
    assert count(app, LearningTheme) == 1


# How the token behaves --------------------------------------------------------------------


def test_a_form_shown_again_with_errors_keeps_its_token_and_works_when_corrected(client, app, admin):
    page = get_page(client, "/admin/themes")
    token = token_of(page)
    response = client.post("/admin/themes", data=filled_in(page, "submit", name=""))
    assert response.status_code == 200
    shown_again = parse(response)
    assert "Error:" in text_of(shown_again.title)
    assert token_of(shown_again) == token  # the same form, so the same token
    assert count(app, FormSubmission) == 0  # a form shown again leaves no trace of its token

    corrected = filled_in(shown_again, "submit", name="Housing need")
    assert post_twice(client, "/admin/themes", corrected) == "/admin/themes"
    assert count(app, LearningTheme) == 1
    # A new visit to the page is a new form.
    assert token_of(get_page(client, "/admin/themes")) != token


def test_a_token_is_honoured_only_for_the_user_who_used_it(client, app, chair, agencies, make_user):
    page = get_page(client, "/meetings/new")
    day = london_today() + timedelta(days=9)
    data = filled_in(page, "submit", date=date_parts(day), location="Room 4")
    first = client.post("/meetings/new", data=data)
    assert first.status_code == 302

    # Another chair sending the same token gets their own meeting, not a trip to the first one.
    other = signed_in_client(app, make_user("chair", agencies["POL"]))
    theirs = filled_in(get_page(other, "/meetings/new"), "submit", date=date_parts(day), location="Room 9")
    theirs["form_token"] = data["form_token"]
    second = other.post("/meetings/new", data=theirs)
    assert second.status_code == 302
    assert second.headers["Location"] != first.headers["Location"]
    assert ALREADY_SAVED not in banners(other.get(second.headers["Location"]))
    assert count(app, Meeting) == 2


def test_only_the_tokens_hash_is_stored(client, app, admin):
    page = get_page(client, "/admin/themes")
    token = token_of(page)
    client.post("/admin/themes", data=filled_in(page, "submit", name="Stalking"))
    with app.app_context():
        [row] = db.session.execute(sa.select(FormSubmission.__table__)).mappings().all()
        assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert (row["user_id"], row["location"]) == (admin.id, "/admin/themes")
        assert row["created_at"] is not None
        assert not any(token in str(value) for value in row.values())


def test_a_post_without_a_token_is_processed_as_before(client, app, admin):
    for _ in range(2):
        assert client.post("/admin/agencies/new", data={"name": "Health", "code": "NHS"}).status_code in (200, 302)
    assert count(app, Agency, Agency.code == "NHS") == 1  # the form's own duplicate check, as before
    assert count(app, FormSubmission) == 0


def test_a_refused_post_leaves_its_token_unused(client, app, chair, make_user, agencies):
    """A post the view refuses (here: a partner on a chair's page) rolls the token back with everything else."""
    page = get_page(client, "/meetings/new")
    data = filled_in(page, "submit", date=date_parts(london_today() + timedelta(days=9)), location="Room 4")
    partner = signed_in_client(app, make_user("partner", agencies["IDVA"]))
    assert partner.post("/meetings/new", data=data).status_code in (403, 404)
    assert count(app, FormSubmission) == 0
    assert post_twice(client, "/meetings/new", data).endswith("/agenda")  # the chair's own post still works
    assert count(app, Meeting) == 1


def test_old_tokens_are_forgotten_when_the_user_records_a_new_one(client, app, admin):
    with app.app_context():
        db.session.add(
            FormSubmission(user_id=admin.id, token_hash="0" * 64, location="/admin/themes",
                           created_at=utcnow() - timedelta(days=2))
        )  # fmt: skip
        db.session.commit()
    client.post("/admin/themes", data=filled_in(get_page(client, "/admin/themes"), "submit", name="Economic abuse"))
    with app.app_context():
        hashes = db.session.scalars(select(FormSubmission.token_hash)).all()
    assert len(hashes) == 1 and hashes != ["0" * 64]


# Two submits at the same moment -----------------------------------------------------------


def test_a_submit_that_loses_the_race_is_sent_to_the_winners_result(client, app, admin, monkeypatch):
    """The second post does not see the first's row when it looks (as if both looked at the same
    moment): its INSERT fails on the unique constraint, and it is redirected to the first's result."""
    data = filled_in(get_page(client, "/admin/themes"), "submit", name="Honour-based abuse")
    first = client.post("/admin/themes", data=data)
    looks = []
    real_recorded = once._recorded

    def first_look_misses(user_id, token_hash):
        looks.append(token_hash)
        return None if len(looks) == 1 else real_recorded(user_id, token_hash)

    monkeypatch.setattr(once, "_recorded", first_look_misses)
    second = client.post("/admin/themes", data=data)
    assert len(looks) == 2  # looked, collided, looked again
    assert (second.status_code, second.headers["Location"]) == (302, first.headers["Location"])
    assert count(app, LearningTheme) == 1
    assert count(app, FormSubmission) == 1


def test_two_submits_at_the_same_moment_create_one_record(app, admin, monkeypatch):
    """Two requests with the same token in flight together (threads, separate connections). The
    second looks before the first has committed, finds nothing, and its INSERT waits on the database
    until the first commits; then it fails, and the second lands on the first one's result."""
    from tracker.admin import operations

    second_looked = threading.Event()
    looks: list[tuple[str, bool]] = []
    real_recorded, real_create = once._recorded, operations.create_theme

    def watched_recorded(user_id, token_hash):
        row = real_recorded(user_id, token_hash)
        looks.append((threading.current_thread().name, row is not None))
        if threading.current_thread().name == "second":
            second_looked.set()
        return row

    def create_once_the_second_has_looked(name):
        second.start()
        assert second_looked.wait(5)
        time.sleep(0.2)  # the second is now waiting on the database for this transaction
        return real_create(name)

    monkeypatch.setattr(once, "_recorded", watched_recorded)
    monkeypatch.setattr(operations, "create_theme", create_once_the_second_has_looked)
    user_client = signed_in_client(app, admin)
    data = filled_in(get_page(user_client, "/admin/themes"), "submit", name="Digital abuse")
    cookie = user_client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    responses = {}

    def post():
        same_browser = app.test_client()
        same_browser.set_cookie(cookie.key, cookie.value)
        response = same_browser.post("/admin/themes", data=data)
        responses[threading.current_thread().name] = (response.status_code, response.headers.get("Location"))

    first = threading.Thread(target=post, name="first")
    second = threading.Thread(target=post, name="second")
    first.start()
    first.join(15)
    second.join(15)
    assert responses == {"first": (302, "/admin/themes"), "second": (302, "/admin/themes")}
    assert [seen for name, seen in looks if name == "second"] == [False, True]  # collided, then found it
    assert count(app, LearningTheme) == 1


# With CSRF protection on ------------------------------------------------------------------


@pytest.fixture
def csrf_app(database_uri):
    app = make_test_app(database_uri, WTF_CSRF_ENABLED=True)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_token_and_csrf_protection_work_together(csrf_app, make_user):
    admin_user = make_user("admin")
    client = csrf_app.test_client()
    csrf = get_page(client, "/sign-in").select_one("input[name=csrf_token]")["value"]
    signed_in = client.post("/sign-in", data={"email": admin_user.email, "password": PASSWORD, "csrf_token": csrf})
    assert signed_in.headers["Location"] == "/sign-in/code"
    csrf = get_page(client, "/sign-in/code").select_one("input[name=csrf_token]")["value"]
    assert enter_code(client, admin_user.email, csrf_token=csrf).headers["Location"] == "/"

    page = get_page(client, "/admin/themes")
    data = filled_in(page, "submit", name="Child contact")
    assert data["csrf_token"] and data["form_token"]
    # Without the CSRF token the post is refused before the one-time token is even looked at.
    assert client.post("/admin/themes", data={**data, "csrf_token": "forged"}).status_code == 400
    assert count(csrf_app, FormSubmission) == 0
    assert post_twice(client, "/admin/themes", data) == "/admin/themes"
    assert count(csrf_app, LearningTheme) == 1


# The pages ---------------------------------------------------------------------------------


def test_create_buttons_ask_govuk_frontend_to_ignore_a_double_click(client, app, chair, make_meeting, make_user):
    """Every submit button of the token forms: GOV.UK Frontend's JavaScript (initialised by app.js)
    then ignores a second click within a second."""
    meeting_id = make_meeting(0, chair=chair)
    admin_client = signed_in_client(app, make_user("admin"))
    pages = [(client, "/meetings/new"), (client, f"/meetings/{meeting_id}/agenda"),
             (client, f"/meetings/{meeting_id}/actions/new"), (client, f"/meetings/{meeting_id}/attendance"),
             (admin_client, "/admin/themes"), (admin_client, "/admin/agencies/new"),
             (admin_client, "/admin/users/new")]  # fmt: skip
    for who, url in pages:
        buttons = token_form(get_page(who, url)).select("button[type=submit]")
        assert buttons and all(b.get("data-prevent-double-click") == "true" for b in buttons), url

"""Refused access is audited in a transaction of its own; one account refused again and again alerts
the administrators by e-mail (tracker/refusals.py)."""

import pytest
from flask import abort
from sqlalchemy import select

from tests.conftest import make_test_app, sign_in
from tracker import audit
from tracker.extensions import db
from tracker.models import AuditEvent, User
from tracker.permissions import Capability, requires


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def chair(make_user, agencies):
    return make_user("chair", agencies["POL"])


def events(app, *actions):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if actions:
            query = query.where(AuditEvent.action.in_(actions))
        return [
            (event.action, event.user_id, event.object_type, event.object_id, event.detail)
            for event in db.session.scalars(query)
        ]


def test_a_403_is_audited_even_though_the_request_is_rolled_back(app, client, make_user):
    @requires(Capability.SIGNED_IN)
    def writes_then_refuses(meeting_id):
        audit.record("written_before_the_refusal")  # part of the request's transaction
        db.session.flush()
        abort(403)

    app.add_url_rule("/test/refuse/<int:meeting_id>", "writes_then_refuses", writes_then_refuses)
    partner = make_user("partner")
    sign_in(client, partner.email, partner.password)
    assert client.get("/test/refuse/7").status_code == 403
    assert events(app, "written_before_the_refusal") == []
    assert events(app, "access_forbidden") == [
        ("access_forbidden", partner.id, "meetings", "7", "GET writes_then_refuses meeting_id=7")
    ]


def test_a_page_a_role_may_not_open_is_audited(client, app, login_as):
    partner = login_as("partner")
    assert client.post("/admin/users/new").status_code == 403
    assert events(app, "access_forbidden") == [("access_forbidden", partner.id, None, None, "POST admin.new_user")]


def test_a_record_outside_the_users_scope_is_audited_with_its_reference(
    client, app, agencies, make_user, make_meeting, chair
):
    meeting_id = make_meeting(1, chair=chair, attended_by=[agencies["POL"]])
    outsider = make_user("partner", agencies["IDVA"])
    sign_in(client, outsider.email, outsider.password)
    assert client.get(f"/meetings/{meeting_id}").status_code == 404
    assert events(app, "access_not_found") == [
        ("access_not_found", outsider.id, "meetings", str(meeting_id), f"GET meetings.meeting meeting_id={meeting_id}")
    ]


def test_an_address_that_matches_no_page_is_not_a_refusal(client, app, login_as):
    login_as("chair")
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/static/no-such-file.css").status_code == 404
    assert events(app, *("access_not_found", "access_forbidden")) == []


def test_a_refused_calendar_feed_is_audited_without_the_token(client, app):
    assert client.get("/calendar/guessed-secret-value.ics").status_code == 404
    (event,) = events(app, "access_not_found")
    assert event[:4] == ("access_not_found", None, None, None)
    assert "guessed-secret-value" not in event[4] and event[4] == "GET main.calendar_feed"


def test_a_failed_csrf_check_is_audited(database_uri, make_user):
    app = make_test_app(database_uri, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.post("/sign-in", data={"email": "someone@example.org", "password": "x"}).status_code == 400
    assert events(app, "csrf_check_failed") == [("csrf_check_failed", None, None, None, "POST auth.sign_in")]


@pytest.fixture
def alerting(app, smtp_server):
    app.config.update(REFUSAL_ALERT_THRESHOLD=3, REFUSAL_ALERT_WINDOW_MINUTES=10)
    return smtp_server


def test_repeated_refusals_by_one_account_alert_the_admins_once(
    client, app, alerting, agencies, make_user, make_meeting, chair
):
    first_admin = make_user("admin", agencies["POL"], email="first.admin@example.org")
    second_admin = make_user("admin", agencies["POL"], email="second.admin@example.org")
    retired_admin = make_user("admin", agencies["POL"], email="retired.admin@example.org")
    with app.app_context():
        db.session.get(User, retired_admin.id).active = False
        db.session.commit()
    meeting_id = make_meeting(1, chair=chair, attended_by=[agencies["POL"]])
    prober = make_user("partner", agencies["IDVA"])
    sign_in(client, prober.email, prober.password)

    assert client.get(f"/meetings/{meeting_id}").status_code == 404
    assert client.get("/admin/users").status_code == 403
    assert alerting == []  # two refusals: below the threshold
    assert client.get(f"/meetings/{meeting_id}/agenda").status_code == 403
    assert sorted(message["to"][0] for message in alerting) == [first_admin.email, second_admin.email]
    message = alerting[0]
    assert message["subject"] == "Repeated refused access to the scrutiny tracker"
    assert prober.email in message["body"] and f"/admin/audit?user={prober.id}" in message["body"]
    assert events(app, "refusals_alert_sent") == [
        ("refusals_alert_sent", None, "users", str(prober.id), "3 refusals in 10 minutes")
    ]

    for _ in range(3):  # more of the same within the window: no second alert
        client.get("/admin/agencies")
    assert len(alerting) == 2
    assert len(events(app, "access_forbidden", "access_not_found")) == 6


def test_refusals_of_different_accounts_are_not_added_together(app, alerting, agencies, make_user):
    make_user("admin", agencies["POL"])
    for _ in range(2):
        for partner in (make_user("partner", agencies["IDVA"]), make_user("partner", agencies["HOU"])):
            client = app.test_client()
            sign_in(client, partner.email, partner.password)
            assert client.get("/admin/users").status_code == 403
    assert alerting == []

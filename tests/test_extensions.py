"""Extension requests: a partner asks for a later due date, a chair agrees or declines; the action stays
due (and overdue) on its current date until agreed; the original due date is kept for ever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import error_messages, get_page, parse, sign_in, text_of
from tests.test_double_submit import date_parts, filled_in, post_twice
from tracker.extensions import db
from tracker.models import Action, ActionUpdate, AuditEvent, ExtensionRequest, ExtensionStatus
from tracker.timeutil import format_date, london_today


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def people(make_user, agencies):
    return {
        "chair": make_user("chair", agencies["POL"], name="Panel Chair", email="chair@example.org"),
        "other_chair": make_user("chair", agencies["POL"], name="Second Chair", email="chair2@example.org"),
        "idva": make_user("partner", agencies["IDVA"], name="IDVA Officer", email="idva@example.org"),
        "housing": make_user("partner", agencies["HOU"], name="Housing Officer", email="housing@example.org"),
        "manager": make_user("manager", agencies["POL"], name="Manager", email="manager@example.org"),
    }


@pytest.fixture
def overdue_action(app, agencies, people, make_meeting, add_action):
    meeting_id = make_meeting(-20, chair=people["chair"], attended_by=[agencies["IDVA"]])
    return add_action(meeting_id, agencies["IDVA"], due_in_days=-3, description="Complete the safety plan")


def as_user(client, person):
    client.post("/sign-out")
    assert sign_in(client, person.email, person.password).status_code == 302


def ask(client, action_id, days_from_today, reason="Waiting for the court date", **extra):
    page = get_page(client, f"/actions/{action_id}")
    day = london_today() + timedelta(days=days_from_today)
    data = filled_in(
        page,
        "extension-submit",
        **{"extension-requested_due_date": date_parts(day), "extension-reason": reason, **extra},
    )
    return client.post(f"/actions/{action_id}/extension", data=data), data


def the_action(app, action_id) -> Action:
    with app.app_context():
        action = db.session.get(Action, action_id)
        db.session.expunge(action)
        return action


def requests_of(app, action_id) -> list[ExtensionRequest]:
    with app.app_context():
        rows = list(db.session.scalars(select(ExtensionRequest).where(ExtensionRequest.action_id == action_id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def events(app, name) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == name)))


def test_original_due_date_is_set_when_an_action_is_raised(app, overdue_action):
    action = the_action(app, overdue_action)
    assert action.original_due_date == action.due_date == london_today() - timedelta(days=3)


def test_the_original_due_date_cannot_be_changed(app, overdue_action):
    with app.app_context():
        action = db.session.get(Action, overdue_action)
        with pytest.raises(ValueError, match="never changes"):
            action.original_due_date = london_today()
        action.original_due_date = action.original_due_date  # the same date is no change


def test_a_request_needs_a_reason_and_a_later_date(client, app, people, overdue_action):
    as_user(client, people["idva"])
    response, _ = ask(client, overdue_action, 10, reason="")
    assert error_messages(parse(response))["extension-reason"] == "Enter why more time is needed"
    response, _ = ask(client, overdue_action, -4)
    assert error_messages(parse(response))["extension-requested_due_date-day"] == (
        "New due date must be after the current due date"
    )
    response, _ = ask(client, overdue_action, -1)
    assert error_messages(parse(response))["extension-requested_due_date-day"] == (
        "New due date must be today or in the future"
    )
    assert requests_of(app, overdue_action) == []


def test_the_example_new_due_date_is_one_the_form_accepts(
    client, app, people, agencies, make_meeting, add_action, smtp_server
):
    """Two weeks after the current due date when that is later than today: an example two weeks from
    today would be refused for an action due in a month."""
    meeting_id = make_meeting(-20, chair=people["chair"], attended_by=[agencies["IDVA"]])
    later = add_action(meeting_id, agencies["IDVA"], due_in_days=30)
    as_user(client, people["idva"])
    hint = text_of(get_page(client, f"/actions/{later}").select_one("#extension-requested_due_date-hint"))
    example = london_today() + timedelta(days=44)
    assert hint == f"For example, {example.day} {example.month} {example.year}"
    response, _ = ask(client, later, 44)
    assert response.status_code == 302


def test_a_partner_asks_and_the_action_stays_overdue_until_a_chair_agrees(
    client, app, people, overdue_action, smtp_server
):
    as_user(client, people["idva"])
    response, _ = ask(client, overdue_action, 14, reason="Court hearing adjourned to next month")
    assert response.status_code == 302
    [request] = requests_of(app, overdue_action)
    assert request.status == ExtensionStatus.PENDING
    assert request.current_due_date == london_today() - timedelta(days=3)
    assert request.requested_due_date == london_today() + timedelta(days=14)
    assert request.requested_by_id == people["idva"].id

    action = the_action(app, overdue_action)
    assert action.due_date == london_today() - timedelta(days=3)
    page = get_page(client, f"/actions/{overdue_action}")
    assert "Overdue" in text_of(page.h1)
    assert "stays due" in text_of(page.select_one("[data-testid=extension-pending]"))
    assert page.select_one("[data-testid=extension-form]") is None  # one request at a time
    listed = get_page(client, "/actions?overdue=1")
    assert action.reference in text_of(listed.select_one("[data-testid=actions-list]"))

    # Both chairs are told, with the reference and dates but not the reason.
    assert sorted(message["to"][0] for message in smtp_server) == ["chair2@example.org", "chair@example.org"]
    body = smtp_server[0]["body"]
    assert action.reference in smtp_server[0]["subject"]
    assert format_date(request.requested_due_date) in body
    assert f"/actions/{overdue_action}/extensions/{request.id}" in body
    assert "adjourned" not in body
    assert [e.detail for e in events(app, "extension_requested")] == [
        f"request {request.id}: {action.due_date.isoformat()}->{request.requested_due_date.isoformat()}"
    ]


def test_only_one_request_waits_at_a_time(client, app, people, overdue_action, smtp_server):
    as_user(client, people["idva"])
    response, data = ask(client, overdue_action, 14)
    assert response.status_code == 302
    # The same form, sent again with a new token (another tab): refused, nothing added.
    data["form_token"] = ["x" * 43]
    data["extension-version"] = [str(the_action(app, overdue_action).version)]
    response = client.post(f"/actions/{overdue_action}/extension", data=data, follow_redirects=True)
    assert "already has an extension request waiting" in text_of(parse(response))
    assert len(requests_of(app, overdue_action)) == 1


def test_asking_twice_with_the_same_form_asks_once(client, app, people, overdue_action, smtp_server):
    as_user(client, people["idva"])
    page = get_page(client, f"/actions/{overdue_action}")
    day = london_today() + timedelta(days=14)
    data = filled_in(
        page, "extension-submit", **{"extension-requested_due_date": date_parts(day), "extension-reason": "Court"}
    )
    post_twice(client, f"/actions/{overdue_action}/extension", data)
    assert len(requests_of(app, overdue_action)) == 1


def test_a_stale_request_is_refused(client, app, people, overdue_action):
    as_user(client, people["idva"])
    page = get_page(client, f"/actions/{overdue_action}")
    day = london_today() + timedelta(days=14)
    data = filled_in(
        page, "extension-submit", **{"extension-requested_due_date": date_parts(day), "extension-reason": "Court"}
    )
    data["extension-version"] = [str(the_action(app, overdue_action).version - 1)]
    response = client.post(f"/actions/{overdue_action}/extension", data=data)
    assert response.status_code == 409
    assert requests_of(app, overdue_action) == []


def test_another_agency_cannot_ask_and_chairs_do_not_ask(client, app, people, overdue_action):
    as_user(client, people["housing"])
    assert client.post(f"/actions/{overdue_action}/extension", data={}).status_code == 404
    as_user(client, people["chair"])
    page = get_page(client, f"/actions/{overdue_action}")
    assert page.select_one("[data-testid=extension-form]") is None
    assert page.select_one("form[action$='/due-date']") is not None
    assert client.post(f"/actions/{overdue_action}/extension", data={}).status_code == 403


def _asked(client, app, people, action_id, days=14):
    as_user(client, people["idva"])
    response, _ = ask(client, action_id, days)
    assert response.status_code == 302
    [request] = requests_of(app, action_id)
    return request


def test_chairs_see_waiting_requests_on_their_home_page(client, app, people, overdue_action, smtp_server):
    request = _asked(client, app, people, overdue_action)
    as_user(client, people["chair"])
    page = get_page(client, "/")
    table = page.select_one("[data-testid=extension-requests]")
    link = table.select_one("tbody a")
    assert link["href"] == f"/actions/{overdue_action}/extensions/{request.id}"
    assert "IDVA agency" in text_of(table)
    as_user(client, people["manager"])
    assert get_page(client, "/").select_one("[data-testid=extension-requests]") is None
    as_user(client, people["idva"])
    assert get_page(client, "/").select_one("[data-testid=extension-requests]") is None


def decide(client, app, action_id, request_id, decision, note=""):
    url = f"/actions/{action_id}/extensions/{request_id}"
    get_page(client, url)
    return client.post(
        url,
        data={"decision": decision, "note": note, "version": str(the_action(app, action_id).version)},
    )


def test_declining_needs_a_note_and_leaves_the_due_date(client, app, people, overdue_action, smtp_server):
    request = _asked(client, app, people, overdue_action)
    smtp_server.clear()
    as_user(client, people["chair"])
    response = decide(client, app, overdue_action, request.id, "decline")
    assert error_messages(parse(response))["note"] == "Enter a note saying why the request is declined"
    response = decide(client, app, overdue_action, request.id, "maybe")
    assert "Select agree or decline" in error_messages(parse(response)).values()
    assert requests_of(app, overdue_action)[0].status == ExtensionStatus.PENDING

    response = decide(client, app, overdue_action, request.id, "decline", "The plan is needed before the hearing")
    assert response.status_code == 302
    [decided] = requests_of(app, overdue_action)
    assert (decided.status, decided.decided_by_id, decided.decision_note) == (
        ExtensionStatus.DECLINED,
        people["chair"].id,
        "The plan is needed before the hearing",
    )
    action = the_action(app, overdue_action)
    assert action.due_date == action.original_due_date == london_today() - timedelta(days=3)
    page = get_page(client, f"/actions/{overdue_action}")
    assert "Overdue" in text_of(page.h1)
    assert "Declined" in text_of(page.select_one("[data-testid=extensions]"))
    assert [m["to"] for m in smtp_server] == [["idva@example.org"]]
    assert "declined" in smtp_server[0]["subject"]
    assert "The chair's note is on the action's page:" in smtp_server[0]["body"]
    assert "The plan is needed" not in smtp_server[0]["body"]  # the note stays in the service
    assert len(events(app, "extension_declined")) == 1
    # Decided once: the page shows the decision and no form; the partner may ask again.
    assert (
        get_page(client, f"/actions/{overdue_action}/extensions/{request.id}").select_one("form[data-testid]") is None
    )
    as_user(client, people["idva"])
    assert get_page(client, f"/actions/{overdue_action}").select_one("[data-testid=extension-form]") is not None


def test_agreeing_moves_the_due_date_and_keeps_the_original(client, app, people, overdue_action, smtp_server):
    request = _asked(client, app, people, overdue_action, days=21)
    as_user(client, people["chair"])
    response = decide(client, app, overdue_action, request.id, "agree")
    assert response.status_code == 302
    action = the_action(app, overdue_action)
    original = london_today() - timedelta(days=3)
    assert action.due_date == london_today() + timedelta(days=21)
    assert action.original_due_date == original
    with app.app_context():
        [moved] = db.session.scalars(
            select(ActionUpdate).where(ActionUpdate.action_id == overdue_action, ActionUpdate.due_to.is_not(None))
        )
        assert (moved.due_from, moved.due_to, moved.author_id) == (original, action.due_date, people["chair"].id)
        assert moved.due_change_reason == "Extension agreed: Waiting for the court date"
    page = get_page(client, f"/actions/{overdue_action}")
    assert "Overdue" not in text_of(page.h1)
    details = text_of(page.select_one("[data-testid=action-details]"))
    assert f"Original due date {format_date(original)}" in details
    assert len(events(app, "extension_agreed")) == 1
    assert f"extension request {request.id}" in [e.detail for e in events(app, "action_viewed")]
    [told] = [m for m in smtp_server if m["to"] == ["idva@example.org"] and "agreed" in m["subject"]]
    assert "note" not in told["body"]  # agreed without a note: none is mentioned
    assert f"/actions/{overdue_action}" in told["body"]
    assert get_page(client, "/").select_one("[data-testid=extension-requests]") is None
    # A second decision on the same request changes nothing.
    again = decide(client, app, overdue_action, request.id, "decline", "No")
    assert again.status_code == 200
    assert requests_of(app, overdue_action)[0].status == ExtensionStatus.AGREED


def test_a_request_on_another_action_is_not_found(
    client, app, people, overdue_action, agencies, add_action, smtp_server
):
    request = _asked(client, app, people, overdue_action)
    other = add_action(the_action(app, overdue_action).meeting_id, agencies["HOU"])
    as_user(client, people["chair"])
    assert client.get(f"/actions/{other}/extensions/{request.id}").status_code == 404
    assert client.get(f"/actions/{overdue_action}/extensions/{request.id + 99}").status_code == 404


@pytest.mark.parametrize(("due_in_days", "overdue"), [(-3, True), (0, False), (10, False)])
def test_the_extension_form_says_the_action_stays_overdue_only_when_it_is(
    client, agencies, people, make_meeting, add_action, due_in_days, overdue
):
    meeting_id = make_meeting(-20, chair=people["chair"], attended_by=[agencies["IDVA"]])
    action_id = add_action(meeting_id, agencies["IDVA"], due_in_days=due_in_days, description="Safety plan")
    as_user(client, people["idva"])
    rule = text_of(get_page(client, f"/actions/{action_id}").select_one("[data-testid=extension-rule]"))
    due = format_date(london_today() + timedelta(days=due_in_days))
    expected = f"stays due on {due}, and overdue." if overdue else f"stays due on {due}."
    assert rule == f"A chair decides. Until they agree, the action {expected}"


def test_a_request_waiting_for_a_chair_is_announced_at_the_top_of_the_action_with_a_link_to_decide(
    client, app, people, overdue_action, smtp_server
):
    request = _asked(client, app, people, overdue_action, days=21)
    as_user(client, people["chair"])
    page = get_page(client, f"/actions/{overdue_action}")
    banner = page.select_one("[data-testid=extension-waiting]")
    assert "Extension request waiting" in text_of(banner)
    assert "asked on" in text_of(banner) and format_date(london_today() + timedelta(days=21)) in text_of(banner)
    assert banner.select_one("a")["href"] == f"/actions/{overdue_action}/extensions/{request.id}"
    # Only for whoever decides: the partner who asked sees the request below, not a call to decide.
    as_user(client, people["idva"])
    assert get_page(client, f"/actions/{overdue_action}").select_one("[data-testid=extension-waiting]") is None

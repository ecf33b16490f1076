"""Minutes are a record as at the meeting: each action's status and due date as they stood on the
meeting's date (worked back from the update trail); today's status only where the reader asks; a
meeting not yet held gives an agenda."""

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from tests.conftest import approve_minutes, get_page, sign_in
from tracker.actions import operations
from tracker.extensions import db
from tracker.models import Action, ActionStatus, User
from tracker.timeutil import london_today


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def chair(agencies, make_user):
    return make_user("chair", agencies["POL"], name="Panel Chair")


def client_for(app, user):
    client = app.test_client()
    sign_in(client, user.email, user.password)
    return client


def text_of_pdf(data: bytes) -> str:
    return " ".join(re.sub(r"\s+", " ", page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages)


def row_of(text: str, reference: str) -> str:
    """The table row of an action: from its reference to the next one (or the next heading)."""
    match = re.search(re.escape(reference) + r"(.*?)(?=A-\d{5}|Actions for the meeting|Cases reviewed|$)", text)
    assert match, reference
    return match.group(1)


def change_later(app, action_id: int, chair: User, *, complete: bool = False, new_due_in: int | None = None):
    """Change an action today, after its meeting, as a chair would (the trail records it)."""
    with app.app_context():
        action = db.session.get(Action, action_id)
        author = db.session.get(User, chair.id)
        if new_due_in is not None:
            operations.change_due_date(
                action,
                by=author,
                new_due=london_today() + timedelta(days=new_due_in),
                reason="Court moved",
                seen_version=action.version,
            )
        if complete:
            operations.record_progress(
                action, by=author, note="Done", new_status=ActionStatus.COMPLETED, seen_version=action.version
            )
        db.session.commit()


@pytest.fixture
def held(app, agencies, chair, make_meeting, add_review, add_action):
    """A meeting held 14 days ago; its actions were due after it, and have changed since."""
    earlier = make_meeting(-28, chair=chair, attended_by=[agencies["IDVA"]])
    meeting = make_meeting(-14, chair=chair, invited=list(agencies.values()), attended_by=[agencies["IDVA"]])
    review = add_review(meeting, "DA/2026/22222", agencies=[agencies["IDVA"]], grade=1)
    ids = {
        # Due 4 days ago: overdue today, but 10 days ahead on the meeting's date.
        "now_overdue": add_action(meeting, agencies["IDVA"], review_id=review, due_in_days=-4),
        # Completed after the meeting: open at the meeting.
        "completed_since": add_action(meeting, agencies["IDVA"], review_id=review, due_in_days=5),
        # Its due date moved after the meeting: the minutes keep the date agreed then.
        "moved_since": add_action(meeting, agencies["IDVA"], review_id=review, due_in_days=-1),
        # From the earlier meeting, overdue at this one, completed since: still a matter arising then.
        "arising_done_since": add_action(earlier, agencies["IDVA"], due_in_days=-20),
        # From the earlier meeting, completed before this one: not a matter arising.
        "done_before": add_action(earlier, agencies["IDVA"], due_in_days=-21, status="completed"),
    }
    change_later(app, ids["completed_since"], chair, complete=True)
    change_later(app, ids["moved_since"], chair, new_due_in=30)
    change_later(app, ids["arising_done_since"], chair, complete=True)
    with app.app_context():
        # Completed long before the meeting (its trail would say so too).
        done = db.session.get(Action, ids["done_before"])
        done.closed_at = done.created_at = done.created_at - timedelta(days=30)
        for action_id in ids.values():
            action = db.session.get(Action, action_id)
            action.created_at = action.created_at - timedelta(days=40)
        db.session.commit()
    refs = {name: f"A-{action_id:05d}" for name, action_id in ids.items()}
    return {"meeting": meeting, "ids": ids, "refs": refs}


def meeting_day(days_ago: int) -> str:
    day = london_today() - timedelta(days=days_ago)
    return f"{day.day} {day.strftime('%b %Y')}"


def test_minutes_show_each_action_as_it_stood_at_the_meeting(app, chair, held):
    client = client_for(app, chair)
    assert approve_minutes(client, held["meeting"]).status_code == 302
    text = text_of_pdf(client.get(f"/reports/minutes/{held['meeting']}.pdf").data)
    refs = held["refs"]
    assert "Status at the meeting" in text and "Status now" not in text
    assert "Overdue" not in row_of(text, refs["now_overdue"])  # overdue today, not at the meeting
    assert "Open" in row_of(text, refs["now_overdue"])
    assert "Open" in row_of(text, refs["completed_since"]) and "Completed" not in row_of(text, refs["completed_since"])
    original_due = london_today() - timedelta(days=1)
    assert f"{original_due.day} {original_due.strftime('%b %Y')}" in row_of(text, refs["moved_since"])
    # Matters arising as at the meeting: open then (and overdue then), though completed since.
    matters = text[text.index("Matters arising") : text.index("Cases reviewed")]
    assert refs["arising_done_since"] in matters and "Overdue" in row_of(matters, refs["arising_done_since"])
    assert refs["done_before"] not in matters
    assert f"open on {(london_today() - timedelta(days=14)).strftime('%-d %B %Y')}" in matters


def test_status_now_is_shown_only_when_asked_for(app, chair, held):
    client = client_for(app, chair)
    assert approve_minutes(client, held["meeting"]).status_code == 302
    page = get_page(client, f"/meetings/{held['meeting']}")
    link = page.select_one("[data-testid=minutes-status-now]")["href"]
    response = client.get(link)
    assert "-with-status-now.pdf" in response.headers["Content-Disposition"]
    text = text_of_pdf(response.data)
    assert "with each action's status now" in text and "Status now" in text
    row = row_of(text, held["refs"]["completed_since"])
    assert "Open" in row and "Completed" in row  # then and now, side by side
    # The stored approved record is untouched: the plain download is still the same bytes.
    stored = client.get(f"/reports/minutes/{held['meeting']}.pdf")
    assert "Status now" not in text_of_pdf(stored.data)


def test_redacted_minutes_are_as_at_the_meeting_too(app, agencies, held, make_user):
    partner = make_user("partner", agencies["IDVA"])
    text = text_of_pdf(client_for(app, partner).get(f"/reports/minutes/{held['meeting']}.pdf").data)
    assert "Overdue" not in row_of(text, held["refs"]["now_overdue"])
    assert "Completed" not in row_of(text, held["refs"]["completed_since"])


def test_a_meeting_not_yet_held_gives_an_agenda(app, agencies, chair, make_meeting, add_review, add_action):
    past = make_meeting(-7, chair=chair, attended_by=[agencies["IDVA"]])
    open_action = add_action(past, agencies["IDVA"], due_in_days=2, description="Bring the referral")
    coming = make_meeting(5, chair=chair, invited=list(agencies.values()))
    add_review(coming, "DA/2026/33333", agencies=[agencies["HOU"]])
    response = client_for(app, chair).get(f"/reports/minutes/{coming}.pdf")
    assert response.status_code == 200
    assert re.search(r'filename="agenda-\d{4}-\d{2}-\d{2}-r1-draft\.pdf"', response.headers["Content-Disposition"])
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title.startswith("Agenda for the scrutiny meeting on")
    text = text_of_pdf(response.data)
    assert "Cases to review" in text and "DA/2026/33333" in text
    assert f"A-{open_action:05d}" in text  # a matter arising to come
    assert "Minutes" not in text and "not represented" not in text and "Attendance" not in text
    assert "To be read at the start of the meeting." in text

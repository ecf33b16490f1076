"""The actions list, its CSV and the summary PDF show each action's latest update, its original due date
where it has moved, and how many times it was extended: from one query, however many actions."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import get_page, sign_in, text_of
from tests.test_documents import download, pages_text, read_pdf
from tracker.extensions import db
from tracker.models import Action, ActionStatus, ActionUpdate
from tracker.timeutil import format_date, london_today


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA")}


@pytest.fixture
def chair(login_as, agencies):
    return login_as("chair", agencies["POL"], name="Panel Chair")


def add_update(app, action_id, author_id, at, note="", **due_change):
    with app.app_context():
        action = db.session.get(Action, action_id)
        db.session.add(ActionUpdate(action=action, author_id=author_id, at=at, note=note, **due_change))
        if "due_to" in due_change:
            action.due_date = due_change["due_to"]
        db.session.commit()


@pytest.fixture
def actions(app, agencies, chair, make_meeting, add_action):
    """Three IDVA actions: one never updated; one with two notes; one extended twice (the second
    time with only a reason), its original date kept."""
    meeting_id = make_meeting(-30, chair=chair, attended_by=[agencies["IDVA"]])
    today = london_today()
    quiet = add_action(meeting_id, agencies["IDVA"], due_in_days=-1, description="Quiet action")
    noted = add_action(meeting_id, agencies["IDVA"], due_in_days=5, description="Noted action")
    extended = add_action(meeting_id, agencies["IDVA"], due_in_days=-10, description="Extended action")
    add_update(app, noted, chair.id, datetime(2026, 1, 5, 10, tzinfo=UTC), "Referral made")
    add_update(app, noted, chair.id, datetime(2026, 1, 9, 10, tzinfo=UTC), "Safety plan agreed with the victim " * 8)
    first_move, second_move = today + timedelta(days=5), today + timedelta(days=20)
    add_update(
        app, extended, chair.id, datetime(2026, 1, 6, 10, tzinfo=UTC), "Extension agreed",
        due_from=today - timedelta(days=10), due_to=first_move, due_change_reason="Court adjourned",
    )  # fmt: skip
    add_update(
        app, extended, chair.id, datetime(2026, 1, 12, 10, tzinfo=UTC), "",
        due_from=first_move, due_to=second_move, due_change_reason="Second adjournment",
    )  # fmt: skip
    return {"quiet": quiet, "noted": noted, "extended": extended, "meeting": meeting_id}


def rows_by_reference(page):
    rows = {}
    for row in page.select("[data-testid=actions-list] tbody tr"):
        rows[text_of(row.select_one("a"))] = row
    return rows


def ref(action_id):
    return f"A-{action_id:05d}"


def test_the_list_shows_latest_update_original_due_date_and_extensions(client, actions):
    rows = rows_by_reference(get_page(client, "/actions"))
    quiet, noted, extended = (rows[ref(actions[k])] for k in ("quiet", "noted", "extended"))
    assert text_of(quiet.select_one("[data-testid=latest-update]")) == "No updates yet"
    assert "Originally" not in text_of(quiet.select_one("[data-testid=due]"))
    latest = text_of(noted.select_one("[data-testid=latest-update]"))
    assert latest.startswith("9 January 2026: Safety plan agreed with the victim")
    assert len(latest) < 160 and "Referral made" not in latest  # the latest only, shortened
    due = text_of(extended.select_one("[data-testid=due]"))
    original = london_today() - timedelta(days=10)
    assert f"Originally {format_date(original)}" in due and "Extended 2 times" in due
    # An update without a note shows the reason for the due-date change.
    assert text_of(extended.select_one("[data-testid=latest-update]")) == "12 January 2026: Second adjournment"


def test_the_csv_has_the_same_columns(client, actions):
    response = client.get("/actions/export.csv")
    rows = {row["Action"]: row for row in csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")))}
    extended = rows[ref(actions["extended"])]
    assert extended["Original due date"] == (london_today() - timedelta(days=10)).isoformat()
    assert extended["Due date"] == (london_today() + timedelta(days=20)).isoformat()
    assert (extended["Extensions"], extended["Latest update"], extended["Latest update text"]) == (
        "2",
        "2026-01-12",
        "Second adjournment",
    )
    quiet = rows[ref(actions["quiet"])]
    assert (quiet["Extensions"], quiet["Latest update"], quiet["Latest update text"]) == ("0", "", "")
    assert quiet["Original due date"] == quiet["Due date"]


def test_the_summary_pdf_shows_them_and_counts_on_time_against_the_original_date(client, app, actions):
    # Completed after its original date but within the extension: late.
    with app.app_context():
        action = db.session.get(Action, actions["extended"])
        action.status, action.closed_at, action.completion_note = ActionStatus.COMPLETED, datetime.now(UTC), "Done"
        db.session.commit()
    text = " ".join(pages_text(read_pdf(download(client, "/reports/actions.pdf?status=").data)))
    assert "9 January 2026: Safety plan agreed" in text
    assert f"Originally {format_date(london_today() - timedelta(days=10))}" in text
    assert "Extended 2 times" in text
    assert "No updates yet" in text
    # IDVA: one completed, not on time by its original date.
    idva_row = text[text.index("IDVA agency") : text.index("IDVA agency") + 40]
    assert idva_row.split()[2:6] == ["2", "1", "1", "0%"], idva_row


def test_the_list_and_csv_take_the_same_number_of_queries_for_more_actions(
    client, app, actions, agencies, chair, add_action, query_counter
):
    with query_counter() as few:
        get_page(client, "/actions?status=")
    with query_counter() as few_csv:
        client.get("/actions/export.csv?status=")
    for n in range(15):
        action_id = add_action(actions["meeting"], agencies["IDVA"], due_in_days=n - 5)
        add_update(app, action_id, chair.id, datetime(2026, 2, 1, 10, tzinfo=UTC), f"Update {n}")
        add_update(app, action_id, chair.id, datetime(2026, 2, 2, 10, tzinfo=UTC), f"Later update {n}")
    with query_counter() as many:
        page = get_page(client, "/actions?status=")
    with query_counter() as many_csv:
        client.get("/actions/export.csv?status=")
    assert len(many) == len(few)
    assert len(many_csv) == len(few_csv)
    assert "Later update" in text_of(page.select_one("[data-testid=actions-list]"))


def test_the_partner_home_page_shows_them_too(client, app, agencies, actions, make_user):
    partner = make_user("partner", agencies["IDVA"])
    client.post("/sign-out")
    sign_in(client, partner.email, partner.password)
    page = get_page(client, "/")
    rows = {text_of(row.select_one("a")): row for row in page.select("[data-testid=my-actions] tbody tr")}
    latest = text_of(rows[ref(actions["noted"])].select_one("[data-testid=latest-update]"))
    assert latest.startswith("9 January 2026: Safety plan agreed")
    assert "Extended 2 times" in text_of(rows[ref(actions["extended"])])
    # Overdue first, then due soon: the order is the page's, not the follow-up's.
    assert list(rows) == [ref(actions["quiet"]), ref(actions["noted"]), ref(actions["extended"])]

"""Partner agencies keep their actions moving: home pages, list, action page, locking, CSV, calendar."""

import csv
import hashlib
import io
import re
from datetime import datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from tests.conftest import error_messages, get_page, parse, sign_in, text_of
from tracker.calendar_feed import token_digest
from tracker.extensions import db
from tracker.models import Action, ActionUpdate, Attendance, AttendanceStatus, AuditEvent, Meeting, User
from tracker.timeutil import LONDON, london_today


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def world(app, agencies, make_user, make_meeting, add_review, add_action):
    """A past meeting attended by IDVA and HOU, with a case and actions in every state."""
    chair = make_user("chair", agencies["POL"], name="Panel Chair")
    meeting_id = make_meeting(-10, chair=chair, attended_by=[agencies["IDVA"], agencies["HOU"]])
    review_id = add_review(meeting_id, "CR/ACT/1", agencies=[agencies["IDVA"], agencies["HOU"]])
    ids = {
        "in_progress": add_action(
            meeting_id,
            agencies["IDVA"],
            review_id=review_id,
            due_in_days=20,
            status="in_progress",
            description="Attend the court hearing",
        ),
        "later": add_action(meeting_id, agencies["IDVA"], due_in_days=30, description="Later work"),
        "due_soon": add_action(
            meeting_id, agencies["IDVA"], review_id=review_id, due_in_days=2, description="Complete the safety plan"
        ),
        "overdue": add_action(
            meeting_id,
            agencies["IDVA"],
            review_id=review_id,
            due_in_days=-4,
            description='=HYPERLINK("http://evil.example")',
        ),
        "done": add_action(
            meeting_id, agencies["IDVA"], due_in_days=-20, status="completed", description="Finished work"
        ),
        "housing": add_action(
            meeting_id, agencies["HOU"], review_id=review_id, due_in_days=-2, description="Assess for a management move"
        ),
    }
    return {"chair": chair, "meeting": meeting_id, "review": review_id, **ids}


@pytest.fixture
def idva(client, agencies, make_user):
    user = make_user("partner", agencies["IDVA"], name="IDVA Officer", is_spoc=True)
    sign_in(client, user.email, user.password)
    return user


def version_of(app, action_id):
    with app.app_context():
        return db.session.get(Action, action_id).version


def banners(page) -> str:
    return " ".join(text_of(b) for b in page.select(".govuk-notification-banner"))


# Home pages -------------------------------------------------------------------------------


def test_partner_home_lists_overdue_then_due_soon_then_in_progress(client, app, world, idva):
    with app.app_context():  # one action with a named owner; the rest are followed up by the SPOC
        db.session.get(Action, world["due_soon"]).owner_id = idva.id
        db.session.commit()
    page = get_page(client, "/")
    counts = {
        key: text_of(page.select_one(f"[data-testid=count-{key}]"))
        for key in ("overdue", "due-soon", "in-progress", "open")
    }
    assert counts == {"overdue": "1", "due-soon": "1", "in-progress": "1", "open": "4"}
    links = [text_of(a) for a in page.select("[data-testid=my-actions] tbody a")]
    assert links == [f"A-{world[k]:05d}" for k in ("overdue", "due_soon", "in_progress", "later")]
    owners = [text_of(row.select("td")[1]) for row in page.select("[data-testid=my-actions] tbody tr")]
    assert owners == ["Agency SPOC", "IDVA Officer", "Agency SPOC", "Agency SPOC"]
    assert "Assess for a management move" not in text_of(page)


def test_partner_home_with_more_than_a_page_due_shows_the_earliest_first(app, world, agencies, idva, add_action):
    """The overdue and due-within-the-week come straight from the index in due-date order, as many as
    the page holds (tracker/actions/queries.py: _PARTNER_PAGE_IDS); the rest only when there is room."""
    from tracker.actions.queries import partner_home
    from tracker.models import User

    overdue = [add_action(world["meeting"], agencies["IDVA"], due_in_days=-40 + n) for n in range(30)]
    in_progress_later = add_action(world["meeting"], agencies["IDVA"], due_in_days=30, status="in_progress")
    with app.app_context():
        user = db.session.get(User, idva.id)
        home = partner_home(user)
        assert [row.id for row in home.actions] == overdue[:25]
        assert home.counts == {"open": 35, "overdue": 31, "due_soon": 1, "in_progress": 2}
        assert home.more == 10
        # With room for all: overdue and due soon by date, then in progress, then the rest.
        roomy = partner_home(user, limit=50)
        assert [row.id for row in roomy.actions] == [
            *overdue,
            world["overdue"],
            world["due_soon"],
            world["in_progress"],
            in_progress_later,
            world["later"],
        ]
        assert roomy.more == 0


def test_chair_home_shows_counts_by_agency_and_next_meetings(client, app, world, agencies, login_as, make_meeting):
    login_as("chair", agencies["POL"])
    make_meeting(5, chair=world["chair"])
    page = get_page(client, "/")
    rows = {
        text_of(tr.th): [text_of(td) for td in tr.select("td")] for tr in page.select("[data-testid=workload] tbody tr")
    }
    assert rows["IDVA agency"][0].startswith("1") and rows["IDVA agency"][1:] == ["1", "4"]
    assert rows["HOU agency"][0].startswith("1") and rows["HOU agency"][1:] == ["0", "1"]
    assert len(page.select("[data-testid=next-meetings] li")) == 1


def test_home_lists_todays_meeting_all_day_and_minutes_waiting_for_approval(
    client, app, world, agencies, make_user, make_meeting
):
    """A meeting under way this morning is still the chair's next meeting (it was gone from the list
    once it had started), and earlier meetings whose minutes are not approved are listed to approve,
    latest first, for chairs only. A partner's meeting is a link only where the partner may open it."""
    chair = world["chair"]
    early_today = make_meeting(0, chair=chair, invited=[agencies["IDVA"]], status="in_progress")
    later = make_meeting(7, chair=chair, invited=[agencies["IDVA"]])
    last_week = make_meeting(-7, chair=chair, status="in_progress")
    two_weeks_ago = make_meeting(-14, chair=chair)  # scheduled, never started: its minutes are still to do
    approved = make_meeting(-21, chair=chair, status="approved")
    cancelled = make_meeting(-28, chair=chair, status="cancelled")
    with app.app_context():
        meeting = db.session.get(Meeting, early_today)
        meeting.starts_at = datetime.combine(london_today(), time(0, 1), tzinfo=LONDON)
        db.session.commit()
    sign_in(client, chair.email, chair.password)
    page = get_page(client, "/")
    listed = [a["href"] for a in page.select("[data-testid=next-meetings] a")]
    assert listed[:2] == [f"/meetings/{early_today}", f"/meetings/{later}"]
    assert "In progress" in text_of(page.select("[data-testid=next-meetings] li")[0])
    waiting = [a["href"] for a in page.select("[data-testid=awaiting-approval] a")]
    assert waiting == [f"/meetings/{m}" for m in (last_week, world["meeting"], two_weeks_ago)]  # 7, 10, 14 days ago
    assert f"/meetings/{approved}" not in waiting and f"/meetings/{cancelled}" not in waiting

    manager = make_user("manager", agencies["POL"])
    client.post("/sign-out")
    sign_in(client, manager.email, manager.password)
    page = get_page(client, "/")
    assert page.select_one("[data-testid=awaiting-approval]") is None
    assert [a["href"] for a in page.select("[data-testid=next-meetings] a")][:1] == [f"/meetings/{early_today}"]

    partner = make_user("partner", agencies["IDVA"])
    with app.app_context():
        db.session.add(Attendance(meeting_id=early_today, agency_id=agencies["IDVA"].id, person_name="IDVA",
                                  status=AttendanceStatus.PRESENT))  # fmt: skip
        db.session.commit()
    client.post("/sign-out")
    sign_in(client, partner.email, partner.password)
    items = get_page(client, "/").select("[data-testid=next-meetings] li")
    assert items[0].a["href"] == f"/meetings/{early_today}"  # attended: it may open it
    assert items[1].a is None  # invited, agenda not published: named, not linked
    assert client.get(f"/meetings/{later}").status_code == 404


def test_home_pages_query_count_does_not_grow(client, app, world, agencies, idva, add_action, query_counter):
    with query_counter() as few:
        get_page(client, "/")
    for n in range(30):
        add_action(world["meeting"], agencies["IDVA"], due_in_days=n - 10)
    with query_counter() as many:
        get_page(client, "/")
    assert len(many) == len(few)


# The list ---------------------------------------------------------------------------------


def listed(client, url):
    page = get_page(client, url)
    return [text_of(a) for a in page.select("[data-testid=actions-list] tbody a")]


def ref(world, key):
    return f"A-{world[key]:05d}"


def test_list_filters_for_a_chair(client, app, world, agencies, login_as):
    login_as("chair", agencies["POL"])
    assert listed(client, "/actions") == [
        ref(world, k) for k in ("overdue", "housing", "due_soon", "in_progress", "later")
    ]
    assert listed(client, f"/actions?agency={agencies['HOU'].id}") == [ref(world, "housing")]
    assert listed(client, "/actions?overdue=1") == [ref(world, "overdue"), ref(world, "housing")]
    assert listed(client, "/actions?status=completed") == [ref(world, "done")]
    assert listed(client, "/actions?status=in_progress") == [ref(world, "in_progress")]
    soon = (london_today() + timedelta(days=1)).isoformat()
    week = (london_today() + timedelta(days=25)).isoformat()
    assert listed(client, f"/actions?due_from={soon}&due_to={week}") == [
        ref(world, "due_soon"),
        ref(world, "in_progress"),
    ]
    assert listed(client, "/actions?case=cr/act") == [
        ref(world, k) for k in ("overdue", "housing", "due_soon", "in_progress")
    ]
    assert listed(client, "/actions?q=COURT") == [ref(world, "in_progress")]
    assert listed(client, "/actions?sort=-due")[0] == ref(world, "later")
    assert listed(client, f"/actions?meeting={world['meeting']}&status=") == [
        ref(world, k) for k in ("done", "overdue", "housing", "due_soon", "in_progress", "later")
    ]


def owner_options(client, url):
    page = get_page(client, url)
    return [(option["value"], text_of(option)) for option in page.select("select#owner option")], page


def test_the_owner_filter_offers_the_members_of_the_agency_chosen_not_every_account(
    client, app, world, agencies, login_as, make_user
):
    hou_owner = make_user("partner", agencies["HOU"], name="Housing Officer")
    make_user("partner", agencies["IDVA"], name="Gone Officer", active=False)
    chair = login_as("chair", agencies["POL"])
    options, page = owner_options(client, "/actions")
    assert options == [("", "Anyone")]  # every account would be hundreds: an agency is chosen first
    assert text_of(page.select_one("#owner-hint")).startswith("Choose an agency")
    assert page.select_one("select#owner")["aria-describedby"] == "owner-hint"
    options, page = owner_options(client, f"/actions?agency={agencies['HOU'].id}")
    assert options == [("", "Anyone"), (str(hou_owner.id), "Housing Officer")]
    assert page.select_one("#owner-hint") is None
    # An owner named in the address (a link, a download's filter) is offered and selected.
    options, page = owner_options(client, f"/actions?owner={hou_owner.id}")
    assert options == [("", "Anyone"), (str(hou_owner.id), "Housing Officer")]
    assert page.select_one("select#owner option[selected]")["value"] == str(hou_owner.id)
    assert str(chair.id) not in [value for value, _ in options]
    options, _page = owner_options(client, f"/actions?agency={agencies['IDVA'].id}")
    assert "Gone Officer" not in [name for _, name in options]  # active members only


def test_a_partners_owner_filter_offers_its_own_members_and_never_names_another_agencys(
    client, world, agencies, idva, make_user
):
    hou_owner = make_user("partner", agencies["HOU"], name="Housing Officer")
    options, page = owner_options(client, f"/actions?owner={hou_owner.id}")
    names = [name for _, name in options]
    assert "IDVA Officer" in names and "Housing Officer" not in names
    assert "Housing Officer" not in page.get_text() and page.select_one("#owner-hint") is None
    # A former member of the partner's own agency, named in the address, is offered and selected.
    gone = make_user("partner", agencies["IDVA"], name="Gone Officer", active=False)
    assert "Gone Officer" not in [name for _, name in owner_options(client, "/actions")[0]]
    _options, page = owner_options(client, f"/actions?owner={gone.id}")
    assert text_of(page.select_one("select#owner option[selected]")) == "Gone Officer"


def test_each_row_of_the_list_shows_the_action_its_case_agency_owner_due_date_status_and_latest_update(
    client, app, world, agencies, login_as, make_user
):
    from tracker.actions import operations

    owner = make_user("partner", agencies["IDVA"], name="Named <Owner>")
    with app.app_context():
        action = db.session.get(Action, world["in_progress"])
        by = db.session.get(User, owner.id)
        operations.record_progress(action, by=by, note="Met the <client>", new_status=None, seen_version=action.version)
        action.owner_id = owner.id
        db.session.commit()
    login_as("chair", agencies["POL"])
    page = get_page(client, "/actions")
    rows = {
        text_of(row.select_one("a")): row.select("td") for row in page.select("[data-testid=actions-list] tbody tr")
    }
    cells = rows[ref(world, "in_progress")]
    assert "Attend the court hearing" in text_of(cells[0]) and "Case CR/ACT/1" in text_of(cells[0])
    assert cells[1].abbr["title"] == agencies["IDVA"].name and text_of(cells[1]) == "IDVA"
    assert text_of(cells[2]) == "Named <Owner>"
    assert "Met the <client>" in text_of(cells[5])
    later = rows[ref(world, "later")]
    assert "Case" not in text_of(later[0]) and text_of(later[2]) == "Agency SPOC"
    assert text_of(later[5]) == "No updates yet"


def test_nonsense_filters_are_ignored_with_a_message(client, world, agencies, login_as):
    login_as("chair", agencies["POL"])
    page = get_page(client, "/actions?status=maybe&agency=abc&due_from=31/02/2026&sort=sideways&owner=me&meeting=x")
    message = banners(page).lower()
    for word in ("status", "agency", "due from", "sort", "owner", "meeting"):
        assert word in message
    assert len(page.select("[data-testid=actions-list] tbody tr")) == 5
    page = get_page(client, "/actions?due_from=2027-02-01&due_to=2027-01-01")
    assert "start is after the end" in banners(page)


def test_partner_list_is_their_agency_only_and_other_agencies_are_404(client, world, agencies, idva):
    assert ref(world, "housing") not in listed(client, "/actions?status=")
    assert client.get(f"/actions?agency={agencies['HOU'].id}").status_code == 404
    assert client.get(f"/actions/export.csv?agency={agencies['HOU'].id}").status_code == 404
    assert client.get(f"/actions/{world['housing']}").status_code == 404
    page = get_page(client, "/actions")
    assert page.select_one("select#agency") is None


def test_list_query_count_does_not_grow(client, world, agencies, add_action, idva, query_counter):
    with query_counter() as few:
        get_page(client, "/actions")
    for n in range(40):
        add_action(world["meeting"], agencies["IDVA"], review_id=world["review"], due_in_days=n)
    with query_counter() as many:
        page = get_page(client, "/actions")
    assert len(many) == len(few)
    assert len(page.select("[data-testid=actions-list] tbody tr")) == 25


# The action page --------------------------------------------------------------------------


def test_action_page_shows_details_links_and_trail(client, app, world, idva):
    with app.app_context():
        db.session.add(
            ActionUpdate(action_id=world["in_progress"], note="Hearing listed for next month", author_id=idva.id)
        )
        db.session.commit()
    page = get_page(client, f"/actions/{world['in_progress']}")
    assert "Attend the court hearing" in text_of(page)
    assert page.select_one(f"a[href='/meetings/{world['meeting']}']")
    assert page.select_one(f"a[href='/meetings/{world['meeting']}/reviews/{world['review']}']")
    assert "Hearing listed for next month" in text_of(page.select_one("[data-testid=trail]"))
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "action_viewed")) == 1


def test_manager_reads_an_action_but_cannot_change_it(client, world, agencies, login_as):
    login_as("manager", agencies["POL"])
    page = get_page(client, f"/actions/{world['overdue']}")
    assert page.select("form[method=post][action^='/actions/']") == []
    assert client.post(f"/actions/{world['overdue']}/progress", data={"progress-note": "x"}).status_code == 403


def progress(client, action_id, version, note, status=""):
    return client.post(
        f"/actions/{action_id}/progress",
        data={"progress-note": note, "progress-status": status, "progress-version": version},
    )


def test_partner_posts_a_note_starts_and_completes(client, app, world, idva):
    action_id = world["due_soon"]
    assert progress(client, action_id, version_of(app, action_id), "Called the victim").status_code == 302
    progress(client, action_id, version_of(app, action_id), "Meeting booked", "in_progress")
    response = progress(client, action_id, version_of(app, action_id), "Safety plan agreed", "completed")
    assert "Action completed." in banners(get_page(client, response.headers["Location"]))
    with app.app_context():
        action = db.session.get(Action, action_id)
        assert (action.status, action.completion_note) == ("completed", "Safety plan agreed")
        trail = [(u.note, u.status_from, u.status_to, u.author_id) for u in action.updates]
    assert trail == [
        ("Called the victim", None, None, idva.id),
        ("Meeting booked", "open", "in_progress", idva.id),
        ("Safety plan agreed", "in_progress", "completed", idva.id),
    ]


@pytest.mark.parametrize(
    "status, message",
    [
        ("completed", "Enter the outcome to complete the action"),
        ("", "Enter an update"),
        ("reopened", "Select a status from the list"),
    ],
)
def test_bad_progress_gets_a_field_message(client, app, world, idva, status, message):
    response = progress(
        client, world["due_soon"], version_of(app, world["due_soon"]), "" if status != "reopened" else "note", status
    )
    assert response.status_code == 200
    field = "progress-status" if status == "reopened" else "progress-note"
    assert error_messages(parse(response))[field] == message
    with app.app_context():
        assert db.session.get(Action, world["due_soon"]).status == "open"
        assert db.session.scalar(select(func.count(ActionUpdate.id))) == 0


def test_only_chairs_cancel_after_confirming_with_a_reason_and_can_reopen(
    client, app, world, agencies, idva, make_user
):
    later = world["later"]
    # A partner cannot cancel: not from the progress form, not from the cancel page.
    response = progress(client, later, version_of(app, later), "Not needed", "cancelled")
    assert error_messages(parse(response))["progress-status"] == "Select a status from the list"
    assert client.get(f"/actions/{later}/cancel").status_code == 403
    assert client.post(f"/actions/{later}/cancel", data={"reason": "x", "version": 1}).status_code == 403
    assert get_page(client, f"/actions/{later}").select("[data-testid=cancel-link]") == []

    chair_client = app.test_client()
    chair = make_user("chair", agencies["POL"])
    sign_in(chair_client, chair.email, chair.password)
    page = get_page(chair_client, f"/actions/{later}")
    confirm = get_page(chair_client, page.select_one("[data-testid=cancel-link]")["href"])
    assert text_of(confirm.h1) == f"Cancel action {ref(world, 'later')}?"
    with app.app_context():
        assert db.session.get(Action, later).status == "open"  # looking at the page changes nothing
    version = confirm.select_one("input[name=version]")["value"]
    response = chair_client.post(f"/actions/{later}/cancel", data={"reason": "", "version": version})
    assert error_messages(parse(response))["reason"] == "Enter the reason for cancelling the action"
    chair_client.post(f"/actions/{later}/cancel", data={"reason": "Duplicate of A-1", "version": version})
    with app.app_context():
        action = db.session.get(Action, later)
        assert (action.status, action.cancellation_reason) == ("cancelled", "Duplicate of A-1")

    # Not a dead end: a chair reopens it with a reason, and the trail keeps both.
    page = get_page(chair_client, f"/actions/{later}")
    reopen = get_page(chair_client, page.select_one("[data-testid=reopen-link]")["href"])
    version = reopen.select_one("input[name=version]")["value"]
    response = chair_client.post(f"/actions/{later}/reopen", data={"reason": "", "version": version})
    assert error_messages(parse(response))["reason"] == "Enter the reason for reopening the action"
    chair_client.post(f"/actions/{later}/reopen", data={"reason": "Not a duplicate after all", "version": version})
    with app.app_context():
        action = db.session.get(Action, later)
        assert (action.status, action.closed_at) == ("open", None)
        assert [(u.status_from, u.status_to, u.note) for u in action.updates] == [
            ("open", "cancelled", "Duplicate of A-1"),
            ("cancelled", "open", "Not a duplicate after all"),
        ]
    assert client.get(f"/actions/{later}/reopen").status_code == 403
    assert "action_reopened" in [e.action for e in _all_events(app)]


def _all_events(app):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent)))


def due_change(client, action_id, version, day, reason):
    return client.post(
        f"/actions/{action_id}/due-date",
        data={
            "due-due_date": [str(day.day), str(day.month), str(day.year)],
            "due-reason": reason,
            "due-version": version,
        },
    )


def test_partner_cannot_move_a_due_date_directly(client, app, world, idva):
    action_id = world["overdue"]
    page = get_page(client, f"/actions/{action_id}")
    assert page.select_one("form[action$='/due-date']") is None
    assert page.select_one("[data-testid=extension-form]") is not None
    response = due_change(client, action_id, version_of(app, action_id), london_today() + timedelta(days=10), "Late")
    assert response.status_code == 403
    with app.app_context():
        action = db.session.get(Action, action_id)
        assert action.due_date < london_today() and action.updates == []


def test_chair_due_date_change_needs_a_reason_and_a_future_date_and_is_kept(client, app, world):
    sign_in(client, world["chair"].email, world["chair"].password)
    action_id = world["overdue"]
    new_due = london_today() + timedelta(days=10)
    response = due_change(client, action_id, version_of(app, action_id), new_due, "")
    assert error_messages(parse(response))["due-reason"] == "Enter the reason for changing the due date"
    response = due_change(client, action_id, version_of(app, action_id), london_today() - timedelta(days=1), "Late")
    assert error_messages(parse(response))["due-due_date-day"] == "New due date must be today or in the future"
    with app.app_context():
        old_due = db.session.get(Action, action_id).due_date
    assert due_change(client, action_id, version_of(app, action_id), new_due, "Court adjourned").status_code == 302
    with app.app_context():
        action = db.session.get(Action, action_id)
        [update] = action.updates
        assert (action.due_date, update.due_from, update.due_to, update.due_change_reason) == (
            new_due,
            old_due,
            new_due,
            "Court adjourned",
        )
        assert action.original_due_date == old_due  # kept for ever
    page = get_page(client, f"/actions/{action_id}")
    assert "Court adjourned" in text_of(page.select_one("[data-testid=trail]"))
    assert "Overdue" not in text_of(page.h1)


def test_spoc_assigns_an_owner_within_the_agency_only(client, app, world, agencies, idva, make_user):
    colleague = make_user("partner", agencies["IDVA"], name="IDVA Colleague")
    outsider = make_user("partner", agencies["HOU"], name="Housing Officer")
    action_id = world["later"]
    response = client.post(
        f"/actions/{action_id}/owner", data={"owner-owner_id": outsider.id, "owner-version": version_of(app, action_id)}
    )
    assert error_messages(parse(response))["owner-owner_id"] == "Select the named owner from the list"
    client.post(
        f"/actions/{action_id}/owner",
        data={"owner-owner_id": colleague.id, "owner-version": version_of(app, action_id)},
    )
    with app.app_context():
        assert db.session.get(Action, action_id).owner_id == colleague.id


def test_a_partner_who_is_not_the_spoc_cannot_assign_owners(client, app, world, agencies, make_user):
    officer = make_user("partner", agencies["IDVA"])
    sign_in(client, officer.email, officer.password)
    response = client.post(
        f"/actions/{world['later']}/owner",
        data={"owner-owner_id": officer.id, "owner-version": version_of(app, world["later"])},
    )
    assert response.status_code == 403


def test_second_of_two_concurrent_saves_gets_the_conflict_page(client, app, world, idva):
    action_id = world["due_soon"]
    seen = version_of(app, action_id)
    other = app.test_client()
    sign_in(other, idva.email, idva.password)
    assert progress(other, action_id, seen, "Their update", "in_progress").status_code == 302
    response = progress(client, action_id, seen, "My careful update", "completed")
    assert response.status_code == 409
    page = parse(response)
    assert "Someone else changed this action" in text_of(page.select_one("[data-testid=conflict]"))
    assert page.select_one("textarea#progress-note").get_text().strip() == "My careful update"
    assert "Their update" in text_of(page.select_one("[data-testid=trail]"))
    assert int(page.select_one("input[name=progress-version]")["value"]) == version_of(app, action_id)
    with app.app_context():
        action = db.session.get(Action, action_id)
        assert action.status == "in_progress"
        assert [u.note for u in action.updates] == ["Their update"]


# CSV --------------------------------------------------------------------------------------


def test_csv_export_is_scoped_neutralised_audited_and_not_cached(client, app, world, idva):
    response = client.get("/actions/export.csv?status=")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="actions-')
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {row["Agency"] for row in rows} == {"IDVA agency"}
    assert len(rows) == 5
    dangerous = next(row for row in rows if "HYPERLINK" in row["Description"])
    assert dangerous["Description"].startswith("'=")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "actions_exported"))
        assert event.user_id == idva.id


def test_csv_follows_the_filters(client, world, agencies, login_as):
    login_as("chair", agencies["POL"])
    response = client.get("/actions/export.csv?overdue=1")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["Action"] for row in rows] == [ref(world, "overdue"), ref(world, "housing")]
    page = get_page(client, "/actions?overdue=1")
    assert (
        page.select_one("[data-testid=csv-link]")["href"] == "/actions/export.csv?status=still_open&overdue=1&sort=due"
    )


# Calendar ---------------------------------------------------------------------------------


def test_calendar_feed_lifecycle(client, app, world, agencies, idva, make_meeting):
    make_meeting(3, chair=world["chair"], invited=[agencies["IDVA"]])
    page = parse(client.post("/account/calendar", data={"create": "Create a calendar link"}))
    url = page.select_one("[data-testid=feed-url]")["value"]
    # Shown once: the service keeps only the secret's digest, so a later visit cannot show it again.
    later = get_page(client, "/account/calendar")
    assert later.select_one("[data-testid=feed-url]") is None and later.select_one("[data-testid=feed-exists]")
    with app.app_context():
        stored = db.session.get(User, idva.id).calendar_token_hash
    token = path_token(url)
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    path = url.split("localhost", 1)[1]
    anonymous = app.test_client()
    response = anonymous.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    summaries = [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    assert "Domestic abuse scrutiny meeting" in summaries
    assert f"Action {ref(world, 'overdue')} due (IDVA)" in summaries
    assert not any("HOU" in s for s in summaries)
    assert b"CR/ACT" not in response.data and b"safety plan" not in response.data.lower()
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar_feed_read"))
        assert event.user_id == idva.id

    renewed = parse(client.post("/account/calendar", data={"create": "Create a new calendar link"}))
    assert anonymous.get(path).status_code == 404  # the old address stops working
    new_path = renewed.select_one("[data-testid=feed-url]")["value"].split("localhost", 1)[1]
    with app.app_context():
        db.session.get(User, idva.id).active = False
        db.session.commit()
    admin_client = app.test_client()
    assert anonymous.get(new_path).status_code == 404
    assert anonymous.get("/calendar/not-a-real-token.ics").status_code == 404
    assert admin_client.get("/calendar/" + "x" * 100 + ".ics").status_code == 404


def path_token(url: str) -> str:
    return url.rsplit("/calendar/", 1)[1].removesuffix(".ics")


def test_deactivation_by_an_admin_revokes_the_calendar_link(client, app, world, agencies, make_user):
    partner = make_user("partner", agencies["IDVA"])
    with app.app_context():
        db.session.get(User, partner.id).calendar_token_hash = token_digest("known-token")
        db.session.commit()
    admin = make_user("admin", agencies["POL"])
    sign_in(client, admin.email, admin.password)
    client.post(f"/admin/users/{partner.id}/deactivate")
    client.post(f"/admin/users/{partner.id}/reactivate")
    assert app.test_client().get("/calendar/known-token.ics").status_code == 404


# One filter, three outputs ----------------------------------------------------------------


def _pdf_references(data: bytes) -> set[str]:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return set(re.findall(r"A-\d{5}", text))


def _all_listed(client, url) -> tuple[list[str], object]:
    """Every action on every page of the list, and the first page (for its links)."""
    first = page = get_page(client, url)
    references = []
    while True:
        references += [text_of(a) for a in page.select("[data-testid=actions-list] tbody a")]
        following = page.select_one(".govuk-pagination__next a")
        if following is None:
            return references, first
        page = get_page(client, following["href"])


@pytest.mark.parametrize(
    ("role", "query"),
    [
        ("chair", ""),
        ("chair", "status="),
        ("chair", "overdue=1"),
        ("chair", "status=completed"),
        ("chair", "status=&case=CR/ACT"),
        ("chair", "status=&due_from={soon}&sort=agency"),
        ("chair", "status=&meetings_from={past}&meetings_to={today}"),
        ("manager", "status=&q=work"),
        ("partner", "status="),
        ("partner", "overdue=1"),
    ],
)
def test_list_csv_and_pdf_give_the_same_actions_for_the_same_filter(
    client, app, world, agencies, login_as, make_meeting, add_action, role, query
):
    # A second, older meeting, so the meeting-date filter has something to leave out.
    older = make_meeting(-60, chair=world["chair"], attended_by=[agencies["IDVA"]])
    add_action(older, agencies["IDVA"], due_in_days=-30, description="Old work")
    app.config["ACTIONS_PER_PAGE"] = 2  # the list's pages are walked, not just the first
    today = london_today()
    query = query.format(
        soon=(today + timedelta(days=1)).isoformat(),
        past=(today - timedelta(days=20)).isoformat(),
        today=today.isoformat(),
    )
    login_as(role, agencies["IDVA"] if role == "partner" else agencies["POL"])
    listed_refs, first_page = _all_listed(client, f"/actions?{query}")
    csv_response = client.get(first_page.select_one("[data-testid=csv-link]")["href"])
    csv_refs = [row["Action"] for row in csv.DictReader(io.StringIO(csv_response.data.decode("utf-8-sig")))]
    pdf_response = client.get(first_page.select_one("[data-testid=pdf-link]")["href"])
    assert pdf_response.status_code == 200 and pdf_response.mimetype == "application/pdf"
    assert listed_refs, "each filter here matches something, or the comparison proves little"
    assert csv_refs == listed_refs  # the same actions in the same order
    assert _pdf_references(pdf_response.data) == set(listed_refs)  # the PDF groups them by agency


@pytest.mark.parametrize(
    "query",
    [
        "agency=%C2%B2",  # a superscript two: a digit to str.isdigit(), not a number
        "agency=99999999999999999999",
        "due_from=9999-12-31",
        "meetings_to=0001-01-01",
        "owner=-1",
        "meeting=1e3",
    ],
)
def test_out_of_range_filters_are_refused_with_a_message_not_an_error(client, world, agencies, login_as, query):
    login_as("chair", agencies["POL"])
    page = get_page(client, f"/actions?{query}")
    assert "Some filters were ignored" in banners(page)
    response = client.get(f"/reports/actions.pdf?{query}")
    assert response.status_code == 400
    assert parse(response).select_one(".govuk-error-summary")


def test_a_stale_cancellation_keeps_the_typed_reason_and_changes_nothing(client, app, world, agencies, make_user):
    chair = make_user("chair", agencies["POL"])
    sign_in(client, chair.email, chair.password)
    later = world["later"]
    version = get_page(client, f"/actions/{later}/cancel").select_one("input[name=version]")["value"]
    with app.app_context():
        db.session.get(Action, later).description = "Changed meanwhile"
        db.session.commit()
    response = client.post(f"/actions/{later}/cancel", data={"reason": "My typed reason", "version": version})
    assert response.status_code == 409
    page = parse(response)
    assert page.select_one("[data-testid=conflict]") and "Changed meanwhile" in text_of(page)
    assert page.select_one("textarea[name=reason]").text == "My typed reason"
    with app.app_context():
        assert db.session.get(Action, later).status == "open"


@pytest.mark.parametrize("role", ["chair", "partner"])
@pytest.mark.parametrize(
    "args",
    [
        {},
        {"status": ""},
        {"status": "completed"},
        {"overdue": "1"},
        {"status": "", "sort": "agency"},
        {"status": "", "q": "work"},
        {"status": "", "case": "CR/ACT"},
    ],
)
def test_the_actions_list_counts_what_it_lists(app, world, agencies, make_user, role, args):
    """The count is made from the selection's conditions without its join to agencies
    (tracker/actions/queries.py: _counted): it must still be the number of actions the list holds."""
    from tracker.actions.filters import ActionFilter
    from tracker.actions.queries import count_filtered, filtered_actions
    from tracker.models import User

    user_id = make_user(role, agencies["IDVA"]).id
    with app.app_context():
        user = db.session.get(User, user_id)
        f, problems = ActionFilter.parse(args, user)
        assert not problems
        listed_ids = [action.id for action in db.session.scalars(filtered_actions(user, f))]
        assert listed_ids, "the fixture has an action for every filter here"
        assert count_filtered(user, f) == len(listed_ids)


def test_home_page_counts_and_order_match_their_definition_at_every_boundary(
    app, agencies, make_user, make_meeting, add_action
):
    """The home pages count by difference and read the page in two parts (tracker/actions/queries.py:
    _WORKLOAD, _PARTNER_COUNTS, _PARTNER_PAGE_IDS): with due dates either side of today and of the
    week's end, in every status and in two agencies, the counts and the order must still be those of
    the definitions: overdue is due before today; due soon is today to seven days on; in progress is
    counted apart only when due later; the page lists overdue and due soon by date, then in progress,
    then the rest."""
    from tracker.actions.queries import DUE_SOON_DAYS, partner_home, workload_by_agency
    from tracker.models import User

    assert DUE_SOON_DAYS == 7
    chair = make_user("chair", agencies["POL"])
    partner = make_user("partner", agencies["IDVA"])
    meeting_id = make_meeting(-10, chair=chair)
    made = []  # (id, agency, due in days, status)
    for agency in ("IDVA", "HOU"):
        for due in (-1, 0, 7, 8):
            for status in ("in_progress", "open", "completed", "cancelled"):
                made.append(
                    (add_action(meeting_id, agencies[agency], due_in_days=due, status=status), agency, due, status)
                )

    def open_of(agency):
        return [(i, due, status) for i, a, due, status in made if a == agency and status in ("open", "in_progress")]

    with app.app_context():
        workload = {row.agency.code: (row.open, row.overdue, row.due_soon) for row in workload_by_agency()}
        for agency in ("IDVA", "HOU"):
            mine = open_of(agency)
            assert workload[agency] == (
                len(mine),
                sum(1 for _i, due, _s in mine if due < 0),
                sum(1 for _i, due, _s in mine if 0 <= due <= 7),
            )
        assert workload["POL"] == (0, 0, 0)

        home = partner_home(db.session.get(User, partner.id))
        mine = open_of("IDVA")
        assert home.counts == {
            "open": len(mine),
            "overdue": sum(1 for _i, due, _s in mine if due < 0),
            "due_soon": sum(1 for _i, due, _s in mine if 0 <= due <= 7),
            "in_progress": sum(1 for _i, due, status in mine if due > 7 and status == "in_progress"),
        }
        assert home.counts == {"open": 8, "overdue": 2, "due_soon": 4, "in_progress": 1}

        def place(action):
            i, due, status = action
            part = 0 if due <= 7 else (1 if status == "in_progress" else 2)
            return (part, due, i)

        assert [row.id for row in home.actions] == [i for i, _due, _status in sorted(mine, key=place)]


def test_an_action_page_links_to_its_meeting_and_case_only_where_the_reader_may_go(
    app, client, agencies, make_user, make_meeting, add_review, add_action, query_counter
):
    """Every link the action page gives to the action's meeting and case review leads to a page the
    reader may see, and a chair gets both. An IDVA action on a police-only case at a meeting IDVA did
    not attend: IDVA owns an action on the review, but sees neither the meeting nor (being within it)
    the review, so both are named, not linked. At a meeting IDVA attended, both are linked. A
    meeting-wide action has no case to link."""
    not_attended = make_meeting(-5, attended_by=[agencies["POL"]])
    attended = make_meeting(-12, attended_by=[agencies["POL"], agencies["IDVA"]])
    actions, expected = {}, {}
    for meeting_id, label in ((not_attended, "not attended"), (attended, "attended")):
        review_id = add_review(meeting_id, f"CR/LINKS/{meeting_id}", agencies=[agencies["POL"]])
        actions[label] = add_action(meeting_id, agencies["IDVA"], review_id=review_id, description="Share the plan")
        expected[label] = {f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/reviews/{review_id}"}
    actions["meeting-wide"] = add_action(attended, agencies["IDVA"], description="Meeting-wide work")
    expected["meeting-wide"] = {f"/meetings/{attended}"}

    def links(action_id: int, among: set[str]) -> set[str]:
        page = get_page(client, f"/actions/{action_id}")
        assert "the meeting on" in text_of(page.select_one("main"))
        return {a["href"] for a in page.select("main a")} & among

    partner = make_user("partner", agencies["IDVA"])
    sign_in(client, partner.email, partner.password)
    seen = {label: links(actions[label], expected[label]) for label in actions}
    assert seen == {"not attended": set(), "attended": expected["attended"], "meeting-wide": expected["meeting-wide"]}
    assert all(client.get(url).status_code == 200 for urls in seen.values() for url in urls)
    assert all(client.get(url).status_code == 404 for url in expected["not attended"])
    client.post("/sign-out")
    chair = make_user("chair", agencies["POL"])
    sign_in(client, chair.email, chair.password)
    assert {label: links(actions[label], expected[label]) for label in actions} == expected
    # Both questions are one statement; on the action's page they come with the action itself.
    from tracker.actions.queries import action_page, links_seen
    from tracker.models import CaseReview, User

    with app.test_request_context():
        reader = db.session.get(User, chair.id)
        review = db.session.scalars(select(CaseReview).where(CaseReview.meeting_id == attended)).one()
        with query_counter() as statements:
            assert links_seen(reader, attended, review.id) == (True, True)
            assert links_seen(reader, attended, None) == (True, False)
        assert len(statements) == 2
        partner_reader = db.session.get(User, partner.id)
        with query_counter() as statements:
            pages = {label: action_page(partner_reader, actions[label]) for label in actions}
        assert len(statements) == 3
        assert {label: (page.may_see_meeting, page.may_see_review) for label, page in pages.items()} == {
            "not attended": (False, False),
            "attended": (True, True),
            "meeting-wide": (True, False),
        }
        assert action_page(partner_reader, add_action(attended, agencies["HOU"])) is None  # another agency's


def test_an_administrator_is_never_offered_or_accepted_as_an_actions_owner(
    client, app, world, agencies, idva, make_user
):
    """Administrators read no case work (they may not open an action): never an action's named owner."""
    admin = make_user("admin", agencies["IDVA"], name="IDVA Administrator")
    action_id = world["later"]
    offered = get_page(client, f"/actions/{action_id}").select("#owner-owner_id option")
    assert "IDVA Officer" in [text_of(option) for option in offered]
    assert "IDVA Administrator" not in [text_of(option) for option in offered]
    response = client.post(
        f"/actions/{action_id}/owner", data={"owner-owner_id": admin.id, "owner-version": version_of(app, action_id)}
    )
    assert error_messages(parse(response))["owner-owner_id"] == "Select the named owner from the list"
    with app.app_context():
        assert db.session.get(Action, action_id).owner_id is None

    chair = make_user("chair", agencies["POL"], name="Another Chair")
    client.post("/sign-out")
    sign_in(client, chair.email, chair.password)
    with app.app_context():
        meeting_id = db.session.get(Action, action_id).meeting_id
    owners = [
        text_of(option)
        for option in get_page(client, f"/meetings/{meeting_id}/actions/new").select("#owner_id optgroup option")
    ]
    assert "IDVA Officer" in owners and "IDVA Administrator" not in owners


def test_an_actions_possible_owners_are_grouped_by_agency_for_the_chosen_agency_to_narrow(
    client, app, world, agencies, make_user
):
    """On both action forms (a new action, and one raised with a review), the possible owners are
    grouped by agency, in agency order, names in order within each; the select names the owning agency
    select it follows (app.js offers only that agency's group)."""
    make_user("partner", agencies["HOU"], name="Zoe Housing")
    make_user("partner", agencies["HOU"], name="Adam Housing")
    make_user("partner", agencies["IDVA"], name="IDVA Officer")
    make_user("manager", agencies["HOU"], name="Housing Manager")  # reads actions, cannot update them
    sign_in(client, world["chair"].email, world["chair"].password)
    pages = {
        "owner_id": f"/meetings/{world['meeting']}/actions/new",
        "action-owner_id": f"/meetings/{world['meeting']}/reviews/{world['review']}",
    }
    for select_id, url in pages.items():
        select = get_page(client, url).select_one(f"select#{select_id}")
        assert select["data-owners-of"] == select_id.replace("owner_id", "owning_agency_id")
        assert [text_of(option) for option in select.find_all("option", recursive=False)] == [
            "No named owner – the agency's SPOC follows it up"
        ]
        groups = {group["label"]: [text_of(option) for option in group("option")] for group in select("optgroup")}
        assert list(groups) == sorted(groups)
        assert groups[agencies["HOU"].name] == ["Adam Housing", "Zoe Housing"]
        assert "IDVA Officer" in groups[agencies["IDVA"].name]


def test_a_manager_who_cannot_update_actions_is_never_offered_or_accepted_as_an_owner(
    client, app, world, agencies, make_user
):
    """The named owner is the person reminded to act on the action: a manager reads actions but cannot
    update them, so is offered neither when an action is raised nor when its owner is changed."""
    manager = make_user("manager", agencies["IDVA"], name="IDVA Manager")
    colleague = make_user("partner", agencies["IDVA"], name="IDVA Colleague")
    sign_in(client, world["chair"].email, world["chair"].password)
    new_action = f"/meetings/{world['meeting']}/actions/new"
    due = london_today() + timedelta(days=7)
    offered = [text_of(option) for option in get_page(client, new_action).select("#owner_id option")]
    assert "IDVA Colleague" in offered and "IDVA Manager" not in offered
    response = client.post(
        new_action,
        data={
            "description": "Call the victim",
            "owning_agency_id": agencies["IDVA"].id,
            "owner_id": manager.id,
            "due_date": [str(due.day), str(due.month), str(due.year)],
        },
    )
    assert error_messages(parse(response))["owner_id"] == "Select the named owner from the list"

    action_id = world["later"]
    offered = [text_of(o) for o in get_page(client, f"/actions/{action_id}").select("#owner-owner_id option")]
    assert "IDVA Colleague" in offered and "IDVA Manager" not in offered
    response = client.post(
        f"/actions/{action_id}/owner", data={"owner-owner_id": manager.id, "owner-version": version_of(app, action_id)}
    )
    assert error_messages(parse(response))["owner-owner_id"] == "Select the named owner from the list"
    with app.app_context():
        assert db.session.get(Action, action_id).owner_id is None
    client.post(
        f"/actions/{action_id}/owner",
        data={"owner-owner_id": colleague.id, "owner-version": version_of(app, action_id)},
    )
    with app.app_context():
        assert db.session.get(Action, action_id).owner_id == colleague.id


def test_the_agency_filters_offer_a_partner_their_own_agency_without_a_statement(
    app, agencies, make_user, query_counter
):
    from tracker.actions.queries import visible_agencies
    from tracker.models import User

    partner, chair = make_user("partner", agencies["IDVA"]), make_user("chair", agencies["POL"])
    with app.test_request_context():
        partner_reader, chair_reader = db.session.get(User, partner.id), db.session.get(User, chair.id)
        with query_counter() as statements:
            offered = visible_agencies(partner_reader)
        assert [(choice.id, choice.name) for choice in offered] == [(agencies["IDVA"].id, agencies["IDVA"].name)]
        assert statements == []  # the agency came with the account
        every = visible_agencies(chair_reader)
        assert [choice.name for choice in every] == sorted(agency.name for agency in agencies.values())

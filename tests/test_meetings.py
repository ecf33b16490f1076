"""Scheduling, the meeting page, attendance, approval and reopening."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import ON_POSTGRES, approve_minutes, error_messages, get_page, parse, sign_in, text_of
from tracker.extensions import db
from tracker.forms import date_example
from tracker.models import (
    Action,
    ActionUpdate,
    Attendance,
    AuditEvent,
    CaseReview,
    Meeting,
    MeetingStatus,
    MinutesReopening,
    User,
)
from tracker.timeutil import LONDON, london_today


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def chair(login_as, agencies):
    return login_as("chair", agencies["POL"])


def schedule_form(agencies, *, day: date, chair_id, time="10:00", weeks="1", **overrides):
    data = {
        "date": [str(day.day), str(day.month), str(day.year)],
        "time": time,
        "location": "Room 4, Civic Centre",
        "chair_id": str(chair_id),
        "invited_agency_ids": [str(a.id) for a in agencies.values()],
        "weeks": weeks,
    }
    data.update(overrides)
    return data


def banners(page) -> str:
    return " ".join(text_of(banner) for banner in page.select(".govuk-notification-banner"))


def meetings_in_db(app):
    with app.app_context():
        return list(db.session.scalars(select(Meeting).order_by(Meeting.starts_at)))


def audit_actions(app):
    with app.app_context():
        return [event.action for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_schedule_one_meeting_stores_utc_and_shows_london_time(client, app, chair, agencies):
    response = client.post("/meetings/new", data=schedule_form(agencies, day=date(2027, 7, 6), chair_id=chair.id))
    assert response.status_code == 302
    [meeting] = meetings_in_db(app)
    assert meeting.starts_at == datetime(2027, 7, 6, 9, 0, tzinfo=UTC)  # 10:00 BST
    # Next comes the agenda, so the chair goes straight there.
    assert response.headers["Location"] == f"/meetings/{meeting.id}/agenda"
    assert "6 July 2027 at 10:00" in text_of(
        get_page(client, response.headers["Location"]).select_one(".govuk-caption-l")
    )
    assert "6 July 2027 at 10:00" in text_of(get_page(client, f"/meetings/{meeting.id}").h1)
    assert "meeting_scheduled" in audit_actions(app)


def test_weekly_series_keeps_local_time_across_the_clock_change(client, app, chair, agencies):
    # British Summer Time ends on Sunday 31 October 2027.
    response = client.post(
        "/meetings/new", data=schedule_form(agencies, day=date(2027, 10, 19), weeks="3", chair_id=chair.id)
    )
    assert response.status_code == 302
    with app.app_context():
        meetings = list(db.session.scalars(select(Meeting).order_by(Meeting.starts_at)))
        assert all(
            m.location == "Room 4, Civic Centre" and m.chair_id == chair.id and len(m.invited_agencies) == 3
            for m in meetings
        )
        starts = [m.starts_at for m in meetings]
    assert starts == [
        datetime(2027, 10, 19, 9, 0, tzinfo=UTC),
        datetime(2027, 10, 26, 9, 0, tzinfo=UTC),
        datetime(2027, 11, 2, 10, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"weeks": "0"}, "weeks", "Enter a number of weeks from 1 to 52"),
        ({"weeks": "53"}, "weeks", "Enter a number of weeks from 1 to 52"),
        ({"weeks": "four"}, "weeks", "Enter a number of weeks from 1 to 52"),
        ({"time": "25:00"}, "time", "Enter a time in 24-hour format, like 10:00 or 14:30"),
        ({"date": ["31", "2", "2027"]}, "date-day", "Date must be a real date, like {example}"),
        ({"date": ["", "", ""]}, "date-day", "Enter the date of the meeting"),
        ({"location": ""}, "location", "Enter where the meeting is held"),
        ({"invited_agency_ids": []}, "invited_agency_ids", "Select at least one invited agency"),
        ({"invited_agency_ids": ["99999"]}, "invited_agency_ids", "Select invited agencies from the list"),
        ({"chair_id": "99999"}, "chair_id", "Select the chair from the list"),
    ],
)
def test_bad_schedule_input_creates_nothing(client, app, chair, agencies, overrides, field, message):
    overrides.setdefault("chair_id", chair.id)
    response = client.post("/meetings/new", data=schedule_form(agencies, day=date(2027, 3, 2), **overrides))
    assert response.status_code == 200
    # The example date is worked out as the form is made (two weeks ahead), so here, not at collection.
    assert error_messages(parse(response))[field] == message.format(example=date_example())
    assert meetings_in_db(app) == []


def test_partner_cannot_be_chosen_as_chair(client, app, chair, agencies, make_user):
    partner = make_user("partner", agencies["IDVA"])
    response = client.post("/meetings/new", data=schedule_form(agencies, day=date(2027, 3, 2), chair_id=partner.id))
    assert error_messages(parse(response))["chair_id"] == "Select the chair from the list"


def test_meetings_list_upcoming_first_then_past_and_filters(client, app, chair, agencies, make_meeting):
    past_recent = make_meeting(-7, chair=chair)
    past_old = make_meeting(-70, chair=chair, status="approved")
    soon = make_meeting(3, chair=chair)
    later = make_meeting(10, chair=chair)

    def ids(url):
        page = get_page(client, url)
        return [int(a["href"].rsplit("/", 1)[1]) for a in page.select("[data-testid=meetings-table] tbody a")]

    assert ids("/meetings") == [soon, later, past_recent, past_old]
    assert ids("/meetings?status=approved") == [past_old]
    from_day = (london_today() - timedelta(days=8)).isoformat()
    to_day = (london_today() + timedelta(days=4)).isoformat()
    assert ids(f"/meetings?from={from_day}&to={to_day}") == [soon, past_recent]
    page = get_page(client, f"/meetings?from={to_day}&to={from_day}&status=nonsense")
    banner = banners(page)
    assert "status" in banner and "date range" in banner


def test_meetings_list_queries_do_not_grow_with_meetings(client, chair, make_meeting, query_counter):
    for n in range(3):
        make_meeting(n, chair=chair)
    with query_counter() as few:
        get_page(client, "/meetings")
    for n in range(30):
        make_meeting(-n - 1, chair=chair)
    with query_counter() as many:
        page = get_page(client, "/meetings")
    assert len(many) == len(few)
    assert len(page.select("[data-testid=meetings-table] tbody tr")) == 20
    assert page.select_one(".govuk-pagination")


def test_meetings_list_pages_follow_on_and_count_what_the_filters_keep(client, chair, make_meeting):
    made = [make_meeting(-n - 1, chair=chair, status="approved" if n % 2 else None) for n in range(25)]

    def listed(url):
        page = get_page(client, url)
        ids = [int(a["href"].rsplit("/", 1)[1]) for a in page.select("[data-testid=meetings-table] tbody a")]
        shown = [" ".join(p.get_text().split()) for p in page.select("p.govuk-body-s")]
        return ids, next(text for text in shown if text.startswith("Showing"))

    first, first_count = listed("/meetings")
    second, second_count = listed("/meetings?page=2")
    assert first + second == made  # most recent first, every one once
    assert (len(first), first_count, second_count) == (20, "Showing 1 to 20 of 25.", "Showing 21 to 25 of 25.")
    approved, approved_count = listed("/meetings?status=approved&page=1")
    assert approved == made[1::2] and approved_count == "Showing 1 to 12 of 12."


def test_meetings_list_pages_run_on_from_the_upcoming_meetings_into_the_past_ones(client, app, chair, make_meeting):
    upcoming = [make_meeting(n + 1, chair=chair) for n in range(22)]  # soonest first
    past = [make_meeting(-n - 1, chair=chair) for n in range(5)]  # most recent first

    def listed(url):
        page = get_page(client, url)
        return [int(a["href"].rsplit("/", 1)[1]) for a in page.select("[data-testid=meetings-table] tbody a")]

    assert listed("/meetings") == upcoming[:20]
    assert listed("/meetings?page=2") == upcoming[20:] + past
    app.config["MEETINGS_PER_PAGE"] = 11
    assert listed("/meetings?page=2") == upcoming[11:22]
    assert listed("/meetings?page=3") == past
    assert listed("/meetings?page=4") == []  # beyond the last page: nothing, not an error
    app.config["MEETINGS_PER_PAGE"] = 5
    assert listed("/meetings?page=5") == upcoming[20:] + past[:3]
    assert listed("/meetings?page=6") == past[3:]


def test_a_partners_meetings_list_pages_the_meetings_it_may_see_once_each(
    client, app, agencies, make_user, make_meeting, add_review
):
    from tracker.models import Meeting, MeetingStatus
    from tracker.timeutil import utcnow

    chair = make_user("chair", agencies["POL"])
    idva = agencies["IDVA"]
    attended = make_meeting(-7, chair=chair, attended_by=[idva])
    attended_and_on_agenda = make_meeting(-14, chair=chair, attended_by=[idva])
    on_agenda = make_meeting(-21, chair=chair)
    unpublished = make_meeting(-28, chair=chair)
    add_review(unpublished, "CR/UNPUB", agencies=[idva])
    neither = make_meeting(-35, chair=chair, attended_by=[agencies["HOU"]])
    upcoming = make_meeting(7, chair=chair)
    for meeting_id in (attended_and_on_agenda, on_agenda, upcoming):
        add_review(meeting_id, f"CR/M{meeting_id}", agencies=[idva])
    with app.app_context():
        for meeting_id in (attended_and_on_agenda, on_agenda, upcoming):
            db.session.get(Meeting, meeting_id).agenda_published_at = utcnow()
        db.session.get(Meeting, on_agenda).status = MeetingStatus.APPROVED
        db.session.commit()
    partner = make_user("partner", idva)
    sign_in(client, partner.email, partner.password)

    def listed(url):
        page = get_page(client, url)
        ids = [int(a["href"].rsplit("/", 1)[1]) for a in page.select("[data-testid=meetings-table] tbody a")]
        shown = [" ".join(p.get_text().split()) for p in page.select("p.govuk-body-s")]
        return ids, next((text for text in shown if text.startswith("Showing")), "")

    ids, _ = listed("/meetings")
    assert ids == [upcoming, attended, attended_and_on_agenda, on_agenda]
    assert unpublished not in ids and neither not in ids
    # A partner's list is not counted (each meeting's visibility is a question of its own): it pages by
    # previous and next links, reading one meeting more than the page to know whether there is a next.
    app.config["MEETINGS_PER_PAGE"] = 3
    first = get_page(client, "/meetings")
    assert listed("/meetings") == ([upcoming, attended, attended_and_on_agenda], "Showing 1 to 3.")
    assert first.select(".govuk-pagination__prev") == [] and first.select(".govuk-pagination__item") == []
    assert first.select_one(".govuk-pagination__next a")["href"].startswith("/meetings?page=2")
    second = get_page(client, "/meetings?page=2")
    assert listed("/meetings?page=2") == ([on_agenda], "Showing 4 to 4.")
    assert second.select(".govuk-pagination__next") == []
    assert second.select_one(".govuk-pagination__prev a")["href"].startswith("/meetings?page=1")
    beyond = get_page(client, "/meetings?page=9")  # past the end: back to the start, not to page 8
    assert listed("/meetings?page=9") == ([], "")
    assert beyond.select_one(".govuk-pagination__prev a")["href"].startswith("/meetings?page=1")
    assert listed("/meetings?status=approved") == ([on_agenda], "Showing 1 to 1.")
    from_day = (london_today() - timedelta(days=15)).isoformat()
    assert listed(f"/meetings?from={from_day}") == ([upcoming, attended, attended_and_on_agenda], "Showing 1 to 3.")
    assert get_page(client, f"/meetings?from={from_day}").select(".govuk-pagination") == []


def test_meeting_page_queries_do_not_grow_with_reviews(
    client, app, chair, agencies, make_meeting, add_review, add_action, query_counter
):
    earlier = make_meeting(-7, chair=chair)
    meeting_id = make_meeting(0, chair=chair, invited=list(agencies.values()), attended_by=[agencies["IDVA"]])
    add_action(earlier, agencies["IDVA"])
    for n in range(2):
        review = add_review(meeting_id, f"CR/{n}", agencies=[agencies["IDVA"]])
        add_action(meeting_id, agencies["HOU"], review_id=review)
    with query_counter() as few:
        get_page(client, f"/meetings/{meeting_id}")
    for n in range(2, 20):
        review = add_review(meeting_id, f"CR/{n}", agencies=list(agencies.values()))
        add_action(meeting_id, agencies["HOU"], review_id=review)
        add_action(earlier, agencies["POL"])
    with query_counter() as many:
        page = get_page(client, f"/meetings/{meeting_id}")
    assert len(page.select("[data-testid=case-review]")) == 20
    assert "19 open actions from earlier meetings" in text_of(page.select_one("[data-testid=tasks-during]"))
    assert len(many) == len(few), "\n".join(many)
    # The session, the meeting, its cases with their agencies, themes and returns, its actions,
    # attendance and invited agencies, the meetings either side with the cases to re-score, the matters
    # arising counts, the audit event: each a round trip on PostgreSQL, so merged where they can be.
    assert len(many) == 8, "\n".join(many)


def test_a_partners_meeting_page_reads_its_cases_details_and_returns_with_them(
    app, agencies, make_user, make_meeting, add_review, query_counter
):
    """The partner's part of the same statements (no matters arising counts): seven, whatever the
    number of cases; its agency's cases only, with their agencies by name, and only its own returns."""
    from tracker.models import AgencyReturn, CaseReview

    partner = make_user("partner", agencies["IDVA"])
    meeting_id = make_meeting(0, invited=list(agencies.values()), attended_by=[agencies["IDVA"]])
    theirs = add_review(meeting_id, "CR/P/1", agencies=[agencies["POL"], agencies["IDVA"], agencies["HOU"]])
    add_review(meeting_id, "CR/P/2", agencies=[agencies["HOU"]])  # not the IDVA's
    with app.app_context():
        for agency in (agencies["IDVA"], agencies["HOU"]):
            db.session.add(AgencyReturn(case_review_id=theirs, agency_id=agency.id, information="Known."))
        db.session.get(CaseReview, theirs).feedback_to_officer = "Police-internal feedback."
        db.session.commit()
    client = app.test_client()
    sign_in(client, partner.email, partner.password)
    with query_counter() as statements:
        page = get_page(client, f"/meetings/{meeting_id}")
    assert len(statements) == 7, "\n".join(statements)
    cases = page.select("[data-testid=case-review]")
    assert [text_of(case) for case in cases] == ["1. Case CR/P/1"]
    line = text_of(cases[0].find_parent("li"))
    assert "Information sent" in line  # its own agency's return
    codes = [agencies[code].code for code in sorted(("POL", "IDVA", "HOU"), key=lambda code: agencies[code].name)]
    assert ", ".join(codes) in line  # the agencies involved, by name
    assert "Police-internal feedback." not in text_of(page.select_one("main"))


def attendance_form(page) -> dict:
    """What the attendance page would post as it stands (each line's checked status)."""
    data: dict = {hidden["name"]: hidden["value"] for hidden in page.select("input[type=hidden][name^=seen-]")}
    for radio in page.select("input[type=radio][name^=status-]"):
        data.setdefault(radio["name"], "")
        if radio.has_attr("checked"):
            data[radio["name"]] = radio["value"]
    if in_full := [hidden["value"] for hidden in page.select("input[type=hidden][name=in_full]")]:
        data["in_full"] = in_full
    return data


def agencies_to_list(page) -> list[tuple[str, str]]:
    return [(option["value"], text_of(option)) for option in page.select("select#list_agency_id option")]


def test_attendance_lists_the_invited_agencies_members_and_saves_them_at_once(
    client, app, chair, agencies, make_meeting, make_user
):
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"], agencies["HOU"]])
    idva = make_user("partner", agencies["IDVA"], name="IDVA Officer")
    housing = make_user("partner", agencies["HOU"], name="Housing Officer")
    make_user("partner", agencies["POL"], name="Not invited")
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    assert [text_of(h) for h in page.select("[data-testid=attendance-agency]")] == ["HOU agency", "IDVA agency"]
    legends = [text_of(line.legend) for line in page.select("[data-testid=attendance-line]")]
    assert legends == ["Housing Officer", "IDVA Officer"]
    assert "Not invited" not in text_of(page)

    data = attendance_form(page)
    data[f"status-u{housing.id}"] = "apologies"
    data.update({"guest_name": "Deputy IDVA", "guest_agency_id": agencies["IDVA"].id, "guest_status": "present"})
    data["everyone_else_present"] = "y"
    response = client.post(f"/meetings/{meeting_id}/attendance", data=data)
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(Attendance).order_by(Attendance.id)).all()
        recorded = {(row.user_id, row.person_name, row.status.value) for row in rows}
    assert recorded == {(housing.id, "", "apologies"), (idva.id, "", "present"), (None, "Deputy IDVA", "present")}
    assert "attendance_recorded" in audit_actions(app)

    # Edit later: the form comes back as saved; changing one line changes only that line.
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    data = attendance_form(page)
    assert data[f"status-u{housing.id}"] == "apologies" and data[f"status-u{idva.id}"] == "present"
    data[f"status-u{idva.id}"] = "absent"
    client.post(f"/meetings/{meeting_id}/attendance", data={**data, "save": "y"})
    with app.app_context():
        assert db.session.scalar(select(Attendance.status).where(Attendance.user_id == idva.id)) == "absent"
        assert db.session.scalar(select(func.count(Attendance.id))) == 3
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    unrepresented = text_of(page.select_one("[data-testid=unrepresented]"))
    assert "HOU agency" in unrepresented and "IDVA agency" not in unrepresented


def test_attendance_lists_whom_each_agency_had_last_time_and_any_agency_in_full_on_request(
    client, app, chair, agencies, make_meeting, make_user, query_counter
):
    """A panel's members are few and steady: each invited agency's line-up is the people it had at its
    last meeting; an agency never recorded by name lists all its members; any invited agency's members
    can be listed in full, keeping what was chosen, to record someone else."""
    invited = [agencies["IDVA"], agencies["HOU"]]
    earlier, meeting_id = make_meeting(-7, chair=chair, invited=invited), make_meeting(0, chair=chair, invited=invited)
    regular = make_user("partner", agencies["IDVA"], name="IDVA Regular")
    colleague = make_user("partner", agencies["IDVA"], name="IDVA Colleague")
    housing = [make_user("partner", agencies["HOU"], name=f"Housing Officer {n}") for n in (1, 2)]
    client.post(f"/meetings/{earlier}/attendance", data={f"status-u{regular.id}": "apologies", "save": "y"})
    with query_counter() as few:
        page = get_page(client, f"/meetings/{meeting_id}/attendance")
    legends = [text_of(line.legend) for line in page.select("[data-testid=attendance-line]")]
    assert legends == ["Housing Officer 1", "Housing Officer 2", "IDVA Regular"]  # Housing: never recorded
    assert agencies_to_list(page) == [
        ("", "Select an agency"),
        (str(agencies["IDVA"].id), "IDVA agency (1 not listed)"),
    ]

    # Listing the IDVA's members saves nothing, and keeps the choice already made.
    data = {**attendance_form(page), f"status-u{housing[0].id}": "apologies"}
    response = client.post(
        f"/meetings/{meeting_id}/attendance",
        data={**data, "list_agency_id": agencies["IDVA"].id, "list_members": "y"},
    )
    page = parse(response)
    assert response.status_code == 200 and not error_messages(page)
    listed = page.select_one("[data-testid=listed]")
    assert "Every member of IDVA agency is listed now." in text_of(listed)
    assert page.select_one(listed.a["href"]).get_text() == "IDVA agency"  # it leads to the agency's list
    legends = [text_of(line.legend) for line in page.select("[data-testid=attendance-line]")]
    assert legends == ["Housing Officer 1", "Housing Officer 2", "IDVA Colleague", "IDVA Regular"]
    data = attendance_form(page)
    assert data[f"status-u{housing[0].id}"] == "apologies" and data[f"status-u{colleague.id}"] == ""
    assert data["in_full"] == [str(agencies["IDVA"].id)]
    assert not page.select("select#list_agency_id")  # nobody left to list
    with app.app_context():
        assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.meeting_id == meeting_id)) == 0

    data[f"status-u{colleague.id}"] = "present"
    response = client.post(f"/meetings/{meeting_id}/attendance", data={**data, "save": "y"})
    assert response.status_code == 302
    with app.app_context():
        recorded = db.session.execute(select(Attendance.user_id, Attendance.status).where(
            Attendance.meeting_id == meeting_id).order_by(Attendance.user_id)).all()  # fmt: skip
    assert recorded == sorted([(housing[0].id, "apologies"), (colleague.id, "present")])
    # Recorded, the colleague stays listed; nobody else of the IDVA's is left out.
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    legends = [text_of(line.legend) for line in page.select("[data-testid=attendance-line]")]
    assert legends == ["Housing Officer 1", "Housing Officer 2", "IDVA Colleague", "IDVA Regular"]

    # With many more members, the form lists the same people, in as many statements, and counts the rest.
    for n in range(12):
        make_user("partner", agencies["IDVA"], name=f"IDVA Member {n}")
    with query_counter() as many:
        page = get_page(client, f"/meetings/{meeting_id}/attendance")
    assert len(page.select("[data-testid=attendance-line]")) == 4
    assert agencies_to_list(page)[1:] == [(str(agencies["IDVA"].id), "IDVA agency (12 not listed)")]
    assert len(many) == len(few), "\n".join(many)


def test_an_agencys_line_up_is_its_own_even_when_its_regular_moves_on(
    client, app, chair, agencies, make_meeting, make_user
):
    invited = [agencies["IDVA"], agencies["HOU"]]
    earlier, meeting_id = make_meeting(-7, chair=chair, invited=invited), make_meeting(0, chair=chair, invited=invited)
    regular = make_user("partner", agencies["IDVA"], name="IDVA Regular")
    make_user("partner", agencies["IDVA"], name="IDVA Colleague")
    make_user("partner", agencies["HOU"], name="Housing Officer")
    client.post(f"/meetings/{earlier}/attendance", data={f"status-u{regular.id}": "present", "save": "y"})
    with app.app_context():  # the IDVA's regular moves to Housing
        db.session.get(User, regular.id).agency_id = agencies["HOU"].id
        db.session.commit()
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    # Housing has never had one of its members recorded: all of them are listed, the newcomer too. The
    # IDVA had someone last time, who has left it: nobody is listed for it, and its others can be listed.
    lines = [
        (text_of(line.find_previous("h3")), text_of(line.legend))
        for line in page.select("[data-testid=attendance-line]")
    ]
    assert lines == [("HOU agency", "Housing Officer"), ("HOU agency", "IDVA Regular")]
    assert agencies_to_list(page) == [
        ("", "Select an agency"),
        (str(agencies["IDVA"].id), "IDVA agency (1 not listed)"),
    ]


def test_attendance_comes_back_with_an_error_as_the_chair_left_it(
    client, app, chair, agencies, make_meeting, make_user
):
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"]])
    officer = make_user("partner", agencies["IDVA"], name="IDVA Officer")
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    data = {**attendance_form(page), f"status-u{officer.id}": "apologies", "guest_name": "Visitor", "save": "y"}
    response = client.post(f"/meetings/{meeting_id}/attendance", data=data)  # the guest has no agency
    page = parse(response)
    assert error_messages(page)["guest_agency_id"] == "Select the guest's agency"
    # The line shows the choice made, and still what it showed before: saving now changes that line.
    assert attendance_form(page)[f"status-u{officer.id}"] == "apologies"
    assert page.select_one(f"input[name=seen-status-u{officer.id}]")["value"] == ""
    client.post(f"/meetings/{meeting_id}/attendance", data={**attendance_form(page), "save": "y"})
    with app.app_context():
        assert db.session.scalar(select(Attendance.status).where(Attendance.user_id == officer.id)) == "apologies"


def test_marking_everyone_present_leaves_out_the_members_listed_on_request(
    client, app, chair, agencies, make_meeting, make_user
):
    """Listing an agency in full is for choosing one person: "everyone not yet recorded" means the
    agencies' usual line-ups, not every account of the agency listed. The listing survives an error."""
    invited = [agencies["IDVA"], agencies["HOU"]]
    earlier, meeting_id = make_meeting(-7, chair=chair, invited=invited), make_meeting(0, chair=chair, invited=invited)
    regular = make_user("partner", agencies["IDVA"], name="IDVA Regular")
    chosen, other = (make_user("partner", agencies["IDVA"], name=f"IDVA {n}") for n in ("Chosen", "Other"))
    housing = make_user("partner", agencies["HOU"], name="Housing Officer")  # never recorded: listed anyway
    client.post(f"/meetings/{earlier}/attendance", data={f"status-u{regular.id}": "apologies", "save": "y"})
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    listing = {**attendance_form(page), "list_agency_id": agencies["IDVA"].id, "list_members": "y"}
    data = attendance_form(parse(client.post(f"/meetings/{meeting_id}/attendance", data=listing)))
    data[f"status-u{chosen.id}"] = "apologies"

    # Back with an error (a guest with no agency): still listed in full, the choice kept.
    response = client.post(f"/meetings/{meeting_id}/attendance", data={**data, "guest_name": "Visitor", "save": "y"})
    page = parse(response)
    assert error_messages(page) == {"guest_agency_id": "Select the guest's agency"}
    assert attendance_form(page) == data

    response = client.post(f"/meetings/{meeting_id}/attendance", data={**data, "everyone_else_present": "y"})
    assert response.status_code == 302
    with app.app_context():
        recorded = dict(db.session.execute(select(Attendance.user_id, Attendance.status).where(
            Attendance.meeting_id == meeting_id)).all())  # fmt: skip
    assert recorded == {regular.id: "present", chosen.id: "apologies", housing.id: "present"}
    assert other.id not in recorded


@pytest.mark.parametrize("chosen", ["none", "not invited", "unknown", "not a number"])
def test_only_an_invited_agencys_members_can_be_listed_and_only_listed_lines_are_saved(
    client, app, chair, agencies, make_meeting, make_user, chosen
):
    earlier = make_meeting(-7, chair=chair, invited=[agencies["IDVA"]])
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"]])
    regular = make_user("partner", agencies["IDVA"], name="IDVA Regular")
    colleague = make_user("partner", agencies["IDVA"], name="IDVA Colleague")
    outsider = make_user("partner", agencies["POL"], name="Not invited")
    client.post(f"/meetings/{earlier}/attendance", data={f"status-u{regular.id}": "present", "save": "y"})
    agency_id = {"none": "", "not invited": agencies["POL"].id, "unknown": 987654, "not a number": "²"}[chosen]
    # Statuses posted for people not listed, and a listing asked for by hand, change nothing.
    data = {f"status-u{colleague.id}": "present", f"seen-status-u{colleague.id}": "", "in_full": agency_id}
    data |= {f"status-u{outsider.id}": "present", f"seen-status-u{outsider.id}": ""}
    # Listing saves nothing, so only the agency chosen is checked (not the guest half typed in).
    listing = {**data, "guest_name": "Visitor", "list_agency_id": agency_id, "list_members": "y"}
    page = parse(client.post(f"/meetings/{meeting_id}/attendance", data=listing))
    assert error_messages(page) == {"list_agency_id": "Select an invited agency whose members to list"}
    assert [text_of(line.legend) for line in page.select("[data-testid=attendance-line]")] == ["IDVA Regular"]
    assert "Not invited" not in text_of(page)
    assert client.post(f"/meetings/{meeting_id}/attendance", data={**data, "save": "y"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.meeting_id == meeting_id)) == 0


def test_attendance_can_be_left_unrecorded_and_a_guest_removed_after_confirming(
    client, app, chair, agencies, make_meeting, make_user
):
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"]])
    make_user("partner", agencies["IDVA"], name="IDVA Officer")
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    client.post(
        f"/meetings/{meeting_id}/attendance",
        data={**attendance_form(page), "guest_name": "Visitor", "guest_agency_id": agencies["IDVA"].id,
              "guest_status": "present", "save": "y"},
    )  # fmt: skip
    with app.app_context():
        [guest] = db.session.scalars(select(Attendance)).all()  # the member stays "not recorded"
    remove = f"/meetings/{meeting_id}/attendance/{guest.id}/remove"
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    assert page.select_one(f"a[href='{remove}']")
    confirm = get_page(client, remove)  # a confirmation page first; nothing removed by looking at it
    assert "Remove Visitor from the attendance list?" in text_of(confirm.h1)
    with app.app_context():
        assert db.session.scalar(select(func.count(Attendance.id))) == 1
    client.post(remove)
    with app.app_context():
        assert db.session.scalar(select(func.count(Attendance.id))) == 0


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"guest_name": "Visitor"}, "guest_agency_id", "Select the guest's agency"),
        ({"guest_name": "Visitor", "guest_agency_id": "IDVA", "guest_status": "late"}, "guest_status",
         "Select present, apologies or absent"),
        ({"guest_name": "X" * 121, "guest_agency_id": "IDVA"}, "guest_name", "Name must be 120 characters or fewer"),
    ],
)  # fmt: skip
def test_bad_attendance_input(client, app, chair, agencies, make_meeting, data, field, message):
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"]])
    if data.get("guest_agency_id") == "IDVA":
        data = {**data, "guest_agency_id": agencies["IDVA"].id}
    response = client.post(f"/meetings/{meeting_id}/attendance", data={**data, "save": "y"})
    assert error_messages(parse(response))[field] == message
    with app.app_context():
        assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_a_tampered_attendance_status_changes_nothing(client, app, chair, agencies, make_meeting, make_user):
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"]])
    officer = make_user("partner", agencies["IDVA"])
    response = client.post(f"/meetings/{meeting_id}/attendance", data={f"status-u{officer.id}": "late", "save": "y"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_statement_read_is_recorded(client, app, chair, make_meeting):
    meeting_id = make_meeting(0, chair=chair)
    page = get_page(client, f"/meetings/{meeting_id}/attendance")
    assert "The information discussed at this meeting is confidential" in text_of(
        page.select_one("[data-testid=statement]")
    )
    client.post(f"/meetings/{meeting_id}/attendance", data={"statement_read": "y", "save": "y"})
    page = get_page(client, f"/meetings/{meeting_id}")
    assert "Statement read." in text_of(page.select_one("[data-testid=tasks-during]"))
    assert (
        get_page(client, f"/meetings/{meeting_id}/attendance")
        .select_one("input[name=statement_read]")
        .has_attr("checked")
    )
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status == MeetingStatus.IN_PROGRESS
    assert "confidentiality_statement_read" in audit_actions(app)


def test_approval_locks_the_minutes_but_not_the_actions(
    client, app, chair, agencies, make_meeting, add_review, add_action
):
    earlier = make_meeting(-7, chair=chair)
    open_action = add_action(earlier, agencies["IDVA"])
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["IDVA"]])
    review_id = add_review(meeting_id, "CR/1", grade=2)
    assert approve_minutes(client, meeting_id).status_code == 302
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert (meeting.status, meeting.approved_by_id, meeting.minutes_revision) == ("approved", chair.id, 1)

    refused = [
        ("post", f"/meetings/{meeting_id}/agenda", {"rows-0-reference": "CR/2", "save": "y"}),
        ("get", f"/meetings/{meeting_id}/agenda", None),
        ("post", f"/meetings/{meeting_id}/reviews/{review_id}", {"summary": "changed"}),
        ("get", f"/meetings/{meeting_id}/reviews/{review_id}/remove", None),
        ("post", f"/meetings/{meeting_id}/reviews/{review_id}/remove", {}),
        ("post", f"/meetings/{meeting_id}/attendance", {"guest_name": "X", "guest_agency_id": agencies["POL"].id}),
        ("post", f"/meetings/{meeting_id}/notes", {"general_notes": "changed"}),
        ("get", f"/meetings/{meeting_id}/edit", None),
        ("post", f"/meetings/{meeting_id}/actions/new", {"description": "x"}),
        ("post", f"/meetings/{meeting_id}/approve", {}),
        ("get", f"/meetings/{meeting_id}/approve", None),
    ]
    for method, url, data in refused:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 302, url
        page = get_page(client, response.headers["Location"])
        assert "These minutes are approved, so they cannot be changed" in banners(page), url
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).general_notes == ""
        assert db.session.scalar(select(func.count(Attendance.id))) == 1

    # The actions stay live: a matter arising can still be updated from the approved meeting.
    with app.app_context():
        version = db.session.get(Action, open_action).version
    response = client.post(
        f"/actions/{open_action}/progress",
        data={
            f"a{open_action}-note": "Referral made",
            f"a{open_action}-status": "in_progress",
            f"a{open_action}-version": version,
            "next": f"/meetings/{meeting_id}",
        },
    )
    assert response.headers["Location"] == f"/meetings/{meeting_id}?updated={open_action}#action-{open_action}"
    with app.app_context():
        assert db.session.get(Action, open_action).status == "in_progress"


def test_reopening_needs_a_reason_bumps_the_revision_and_is_audited(client, app, chair, agencies, make_meeting):
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["POL"]])
    assert approve_minutes(client, meeting_id).status_code == 302
    response = client.post(f"/meetings/{meeting_id}/reopen", data={"reason": ""})
    assert error_messages(parse(response))["reason"] == "Enter the reason"
    response = client.post(f"/meetings/{meeting_id}/reopen", data={"reason": "Attendance was wrong"})
    assert response.status_code == 302
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert (meeting.status, meeting.minutes_revision, meeting.approved_at) == ("in_progress", 2, None)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "minutes_reopened"))
        # The reason stays with the meeting: the audit log, which administrators read, names the revision.
        assert event.detail == "now revision 2" and "Attendance" not in event.detail
        (reopening,) = db.session.scalars(select(MinutesReopening)).all()
        assert (reopening.meeting_id, reopening.revision, reopening.reason) == (meeting_id, 2, "Attendance was wrong")
        assert reopening.reopened_by_id == chair.id
    client.post(f"/meetings/{meeting_id}/notes", data={"general_notes": "Corrected", "any_other_business": ""})
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).general_notes == "Corrected"


def test_cancelling_needs_a_reason_and_locks(client, app, chair, make_meeting):
    meeting_id = make_meeting(3, chair=chair)
    assert (
        error_messages(parse(client.post(f"/meetings/{meeting_id}/cancel", data={"reason": ""})))["reason"]
        == "Enter the reason"
    )
    client.post(f"/meetings/{meeting_id}/cancel", data={"reason": "Bank holiday"})
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert (meeting.status, meeting.cancellation_reason) == ("cancelled", "Bank holiday")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "meeting_cancelled"))
        assert event.detail == ""  # the reason is on the meeting, not in the log administrators read
    response = client.post(f"/meetings/{meeting_id}/agenda", data={"rows-0-reference": "CR/1", "save": "y"})
    assert "This meeting is cancelled" in banners(get_page(client, response.headers["Location"]))


def test_edit_meeting_moves_it(client, app, chair, agencies, make_meeting):
    meeting_id = make_meeting(3, chair=chair, invited=[agencies["POL"]])
    page = get_page(client, f"/meetings/{meeting_id}/edit")
    assert page.select_one("input#time")["value"] == "10:00"
    day = london_today() + timedelta(days=4)
    response = client.post(
        f"/meetings/{meeting_id}/edit",
        data=schedule_form({"IDVA": agencies["IDVA"]}, day=day, time="14:30", chair_id=chair.id),
    )
    assert response.status_code == 302
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.starts_at.astimezone(LONDON).strftime("%H:%M") == "14:30"
        assert [a.code for a in meeting.invited_agencies] == ["IDVA"]


def test_matters_arising_are_bounded_grouped_by_agency_and_filterable(
    client, app, chair, agencies, make_meeting, add_action
):
    earlier = make_meeting(-14, chair=chair)
    housing_soon = add_action(earlier, agencies["HOU"], due_in_days=10, description="Housing, due before next")
    add_action(earlier, agencies["HOU"], due_in_days=40, description="Housing, due much later")
    overdue = add_action(earlier, agencies["IDVA"], due_in_days=-3, description="Overdue one")
    idva_soon = add_action(earlier, agencies["IDVA"], due_in_days=5, description="IDVA, due before next")
    add_action(earlier, agencies["POL"], status="completed", description="Closed one")
    with app.app_context():
        db.session.add(ActionUpdate(action_id=housing_soon, note="Waiting for a reply"))
        db.session.commit()
    meeting_id = make_meeting(0, chair=chair)
    make_meeting(14, chair=chair)  # the next meeting: matters arising are those due by then
    page = get_page(client, f"/meetings/{meeting_id}/matters-arising")
    assert [text_of(h) for h in page.select("[data-testid=matters-agency]")] == ["HOU agency", "IDVA agency"]
    items = page.select("[data-testid=matter-arising]")
    assert [item["id"] for item in items] == [f"action-{i}" for i in (housing_soon, overdue, idva_soon)]
    assert "Overdue" in text_of(items[1].h3)
    assert "Waiting for a reply" in text_of(items[0].select_one("[data-testid=latest-update]"))
    assert "1 more open action is due later" in text_of(page.select_one("[data-testid=matters-later]"))
    assert "3 open actions from earlier meetings are overdue or due by" in text_of(
        page.select_one("[data-testid=matters-counts]")
    )

    def listed(query):
        found = get_page(client, f"/meetings/{meeting_id}/matters-arising?{query}")
        return [item["id"] for item in found.select("[data-testid=matter-arising]")]

    assert listed("overdue=1") == [f"action-{overdue}"]
    assert listed(f"agency={agencies['HOU'].id}") == [f"action-{housing_soon}"]
    assert listed("status=in_progress") == []
    assert listed("agency=%C2%B2&status=nonsense&page=-1") == [
        f"action-{i}" for i in (housing_soon, overdue, idva_soon)
    ]
    app.config["MATTERS_ARISING_PER_PAGE"] = 2
    assert len(listed("")) == 2 and listed("page=2") == [f"action-{idva_soon}"]
    # The meeting page only counts them.
    meeting_page = get_page(client, f"/meetings/{meeting_id}")
    assert meeting_page.select("[data-testid=matter-arising]") == []
    assert "3 open actions" in text_of(meeting_page.select_one("[data-testid=tasks-during]"))


def test_every_page_of_matters_arising_follows_on_from_the_last_without_gaps_or_repeats(
    client, app, chair, agencies, make_meeting, add_action
):
    """Each agency's matters are read a page's worth at a time (on PostgreSQL by a LATERAL subquery that
    takes each agency's first offset + page size): the pages together are every matter, in agency
    order, then due date, then number, whatever the page size."""
    earlier = make_meeting(-21, chair=chair)
    expected = []
    for code, count in (("HOU", 7), ("IDVA", 2), ("POL", 9)):
        ids = [add_action(earlier, agencies[code], due_in_days=days) for days in range(-count, 0)]
        ids += [add_action(earlier, agencies[code], due_in_days=-count)]  # a tie on the due date: by number
        by_due = sorted(zip([*range(-count, 0), -count], ids, strict=True))
        expected += [f"action-{action_id}" for _days, action_id in by_due]
    meeting_id = make_meeting(0, chair=chair)
    for per_page in (1, 4, 7, 25):
        app.config["MATTERS_ARISING_PER_PAGE"] = per_page
        seen = []
        for number in range(1, len(expected) // per_page + 2):
            page = get_page(client, f"/meetings/{meeting_id}/matters-arising?page={number}")
            seen += [item["id"] for item in page.select("[data-testid=matter-arising]")]
        assert seen == expected, per_page


def test_on_postgresql_every_agencys_matters_arising_are_read_a_page_per_agency(app, make_user):
    """The statement PostgreSQL is given (compiled here, so the SQLite run checks it too): each agency's
    first offset + page size, by a LATERAL subquery correlated on the agency, then the page."""
    from sqlalchemy.dialects import postgresql, sqlite

    from tracker.meetings.queries import _matters_page_rows
    from tracker.models import User

    chair = make_user("chair")
    every_agency = (False, False, False)
    with app.app_context():
        reader = db.session.get(User, chair.id)
        on_postgresql = _matters_page_rows(reader, every_agency, "postgresql")
        sql = " ".join(str(on_postgresql.compile(dialect=postgresql.dialect())).split())
        on_sqlite = " ".join(str(_matters_page_rows(reader, every_agency).compile(dialect=sqlite.dialect())).split())
        one_agency = _matters_page_rows(reader, (True, False, False), "postgresql")
        one_agency_sql = str(one_agency.compile(dialect=postgresql.dialect()))
    assert "JOIN LATERAL (SELECT actions.id AS id, actions.due_date AS due_date FROM actions" in sql
    assert "WHERE actions.owning_agency_id = agencies.id" in sql
    assert "LIMIT %(page_limit)s::INTEGER + %(page_offset)s::INTEGER) AS per_agency ON true" in sql
    assert "ORDER BY agencies.name, per_agency.due_date, per_agency.id LIMIT %(page_limit)s::INTEGER OFFSET" in sql
    assert "LATERAL" not in on_sqlite and "CROSS JOIN actions ON actions.owning_agency_id = agencies.id" in on_sqlite
    assert "LATERAL" not in one_agency_sql  # one agency's page is read from its own index directly


def test_a_partner_sees_only_their_agencys_matters_arising_and_their_updates(
    client, app, agencies, make_user, make_meeting, add_action
):
    chair = make_user("chair", agencies["POL"])
    earlier = make_meeting(-14, chair=chair, attended_by=[agencies["IDVA"], agencies["HOU"]])
    own = add_action(earlier, agencies["IDVA"], due_in_days=-2, description="IDVA safety plan")
    other = add_action(earlier, agencies["HOU"], due_in_days=-2, description="Housing transfer")
    with app.app_context():
        db.session.add_all(
            [
                ActionUpdate(action_id=own, note="Plan agreed with the client"),
                ActionUpdate(action_id=other, note="Transfer panel on Friday"),
            ]
        )
        db.session.commit()
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["IDVA"], agencies["HOU"]])
    partner = make_user("partner", agencies["IDVA"])
    sign_in(client, partner.email, partner.password)
    page = get_page(client, f"/meetings/{meeting_id}/matters-arising")
    assert [item["id"] for item in page.select("[data-testid=matter-arising]")] == [f"action-{own}"]
    text = text_of(page.select_one("main"))
    assert "Plan agreed with the client" in text
    assert "Housing transfer" not in text and "Transfer panel on Friday" not in text
    assert page.select_one(f"#action-{own} form")["action"] == f"/actions/{own}/progress"
    # Asking for the other agency's matters by the filter shows nothing of them.
    filtered = get_page(client, f"/meetings/{meeting_id}/matters-arising?agency={agencies['HOU'].id}")
    assert "Housing transfer" not in text_of(filtered.select_one("main"))


def test_matters_arising_lead_on_to_the_first_case_the_reader_may_see(
    client, app, agencies, make_user, make_meeting, add_review
):
    chair = make_user("chair", agencies["POL"])
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["IDVA"], agencies["HOU"]])
    add_review(meeting_id, "CR/FIRST/1", agencies=[agencies["HOU"]])
    idva_review = add_review(meeting_id, "CR/FIRST/2", agencies=[agencies["IDVA"]])
    sign_in(client, chair.email, chair.password)
    link = get_page(client, f"/meetings/{meeting_id}/matters-arising").select_one("[data-testid=first-case]")
    assert text_of(link) == "Go to the first case, CR/FIRST/1"
    partner = make_user("partner", agencies["IDVA"])
    partner_client = app.test_client()
    sign_in(partner_client, partner.email, partner.password)
    link = get_page(partner_client, f"/meetings/{meeting_id}/matters-arising").select_one("[data-testid=first-case]")
    assert text_of(link) == "Go to the first case, CR/FIRST/2"
    assert link["href"] == f"/meetings/{meeting_id}/reviews/{idva_review}"
    # No case on the agenda: no link.
    empty = make_meeting(7, chair=chair)
    assert get_page(client, f"/meetings/{empty}/matters-arising").select_one("[data-testid=first-case]") is None


def test_matters_arising_page_queries_do_not_grow(client, chair, agencies, make_meeting, add_action, query_counter):
    earlier = make_meeting(-14, chair=chair)
    meeting_id = make_meeting(0, chair=chair)
    add_action(earlier, agencies["IDVA"], due_in_days=-1)
    with query_counter() as few:
        get_page(client, f"/meetings/{meeting_id}/matters-arising")
    for n in range(30):
        add_action(earlier, agencies["HOU" if n % 2 else "POL"], due_in_days=-n)
    with query_counter() as many:
        page = get_page(client, f"/meetings/{meeting_id}/matters-arising")
    assert len(page.select("[data-testid=matter-arising]")) == 25  # one page
    assert len(many) == len(few), "\n".join(many)
    # The session, the meeting with the next one's start and its first case, the counts, the page, the
    # filter's agencies, the audit event.
    assert len(many) == 6, "\n".join(many)


def test_matter_arising_update_with_a_stale_version_changes_nothing(
    client, app, chair, agencies, make_meeting, add_action
):
    earlier = make_meeting(-14, chair=chair)
    action_id = add_action(earlier, agencies["IDVA"])
    meeting_id = make_meeting(0, chair=chair)
    with app.app_context():
        version = db.session.get(Action, action_id).version
        action = db.session.get(Action, action_id)
        action.description = "Changed by someone else"
        db.session.commit()
    response = client.post(
        f"/actions/{action_id}/progress",
        data={
            f"a{action_id}-note": "My update <b>bold</b>",
            f"a{action_id}-status": "completed",
            f"a{action_id}-version": version,
            "next": f"/meetings/{meeting_id}",
        },
    )
    # The conflict page: what the action is now, and the user's own text kept in the form (escaped),
    # never copied into a flash message in the session cookie.
    assert response.status_code == 409
    page = parse(response)
    assert "Changed by someone else" in text_of(page)
    assert page.select_one("[data-testid=conflict]")
    assert page.select_one(f"textarea[name=a{action_id}-note]").text == "My update <b>bold</b>"
    assert page.select_one("b") is None or "bold" not in text_of(page.select_one("b"))
    with client.session_transaction() as session:
        assert "My update" not in str(session.get("_flashes", []))
    with app.app_context():
        assert db.session.get(Action, action_id).status == "open"
        assert db.session.scalar(select(func.count(ActionUpdate.id))) == 0


def test_matter_arising_completion_records_the_outcome(client, app, chair, agencies, make_meeting, add_action):
    earlier = make_meeting(-14, chair=chair)
    action_id = add_action(earlier, agencies["IDVA"])
    meeting_id = make_meeting(0, chair=chair)
    response = client.post(
        f"/actions/{action_id}/progress",
        data={
            f"a{action_id}-note": "Safety plan in place",
            f"a{action_id}-status": "completed",
            f"a{action_id}-version": 1,
            "next": f"/meetings/{meeting_id}",
        },
    )
    assert f"A-{action_id:05d}: Action completed." in banners(get_page(client, response.headers["Location"]))
    with app.app_context():
        action = db.session.get(Action, action_id)
        assert (action.status, action.completion_note) == ("completed", "Safety plan in place")
        assert action.closed_at is not None
        [update] = action.updates
        assert (update.status_from, update.status_to, update.author_id) == ("open", "completed", chair.id)
    page = get_page(client, f"/meetings/{meeting_id}")
    assert page.select("[data-testid=matter-arising]") == []


def test_matter_arising_needs_a_note(client, app, chair, agencies, make_meeting, add_action):
    earlier = make_meeting(-14, chair=chair)
    action_id = add_action(earlier, agencies["IDVA"])
    meeting_id = make_meeting(0, chair=chair)
    response = client.post(
        f"/actions/{action_id}/progress",
        data={
            f"a{action_id}-note": "",
            f"a{action_id}-status": "completed",
            f"a{action_id}-version": 1,
            "next": f"/meetings/{meeting_id}",
        },
    )
    # A field-level message on the action page, not a banner built from the form's errors.
    assert error_messages(parse(response))[f"a{action_id}-note"] == "Enter the outcome to complete the action"
    with app.app_context():
        assert db.session.get(Action, action_id).status == "open"


def test_a_matter_arising_update_corrected_on_the_action_page_goes_back_to_matters_arising(
    client, app, chair, agencies, make_meeting, add_action
):
    """An update from matters arising that needs correcting is corrected on the action page, whose back
    link and form lead back to matters arising, at the row; a page not ours is never gone back to."""
    earlier = make_meeting(-14, chair=chair)
    action_id = add_action(earlier, agencies["IDVA"])
    meeting_id = make_meeting(0, chair=chair)
    matters = f"/meetings/{meeting_id}/matters-arising?agency={agencies['IDVA'].id}"
    fields = {f"a{action_id}-status": "in_progress", f"a{action_id}-version": 1, "next": matters}
    page = parse(client.post(f"/actions/{action_id}/progress", data={**fields, f"a{action_id}-note": ""}))
    assert error_messages(page)[f"a{action_id}-note"]
    back = page.select_one(".govuk-back-link")
    assert (back["href"], text_of(back)) == (matters, "Back to matters arising")
    form = page.select_one(f"form[action='/actions/{action_id}/progress']")
    assert form.select_one("input[name=next]")["value"] == matters
    response = client.post(f"/actions/{action_id}/progress", data={**fields, f"a{action_id}-note": "Called today"})
    assert response.headers["Location"] == f"{matters}&updated={action_id}#action-{action_id}"

    elsewhere = {**fields, f"a{action_id}-version": 2, "next": "https://evil.example/", f"a{action_id}-note": ""}
    page = parse(client.post(f"/actions/{action_id}/progress", data=elsewhere))
    assert text_of(page.select_one(".govuk-back-link")) == "Back to actions"
    assert page.select_one("input[name=next]") is None


def test_grade_4_cases_are_listed_for_re_scoring_at_the_next_meeting(client, chair, make_meeting, add_review):
    previous = make_meeting(-7, chair=chair)
    add_review(previous, "CR/UNSURE", grade=4)
    add_review(previous, "CR/FINE", grade=1)
    add_review(previous, "CR/UNSURE/2", grade=4)
    meeting_id = make_meeting(0, chair=chair)
    again = add_review(meeting_id, "CR/UNSURE/2")
    page = get_page(client, f"/meetings/{meeting_id}")
    regrade = page.select_one("[data-testid=regrade]")
    # On this agenda: its review here. Not on it yet: last time's review, said so, and a way to add it.
    links = {text_of(a): a["href"] for a in regrade.select("a") if a.get("data-testid") != "regrade-add"}
    assert set(links) == {"CR/UNSURE", "CR/UNSURE/2"}
    assert links["CR/UNSURE/2"] == f"/meetings/{meeting_id}/reviews/{again}"
    assert links["CR/UNSURE"].startswith(f"/meetings/{previous}/reviews/")
    assert "CR/UNSURE (not on this agenda yet)" in text_of(regrade)
    assert "CR/UNSURE/2 (not on" not in text_of(regrade)
    add = regrade.select_one("form:has([data-testid=regrade-add])")
    assert add["action"] == f"/meetings/{meeting_id}/agenda/regrade"
    assert text_of(add.button) == "Add CR/UNSURE to this agenda"


def test_the_cases_to_re_score_are_added_to_the_agenda_in_one_click_with_their_agencies(
    app, client, chair, agencies, make_meeting, add_review, login_as
):
    previous = make_meeting(-7, chair=chair)
    add_review(previous, "CR/UNSURE", grade=4, agencies=[agencies["IDVA"], agencies["HOU"]])
    add_review(previous, "CR/FINE", grade=1)
    add_review(previous, "CR/UNSURE/2", grade=4, agencies=[agencies["POL"]])
    add_review(previous, "CR/UNSURE/3", grade=4)
    meeting_id = make_meeting(0, chair=chair)
    add_review(meeting_id, "CR/UNSURE/3", agencies=[agencies["HOU"]])  # on it already, as the chair set it
    page = get_page(client, f"/meetings/{meeting_id}")
    button = page.select_one("[data-testid=regrade] button")
    assert text_of(button) == "Add these 2 cases to this agenda"
    token = page.select_one("[data-testid=regrade] input[name=csrf_token]")["value"]

    response = client.post(f"/meetings/{meeting_id}/agenda/regrade", data={"csrf_token": token})
    assert response.headers["Location"] == f"/meetings/{meeting_id}#agenda"
    page = get_page(client, f"/meetings/{meeting_id}")
    assert "Added to the agenda, to be scored again: CR/UNSURE, CR/UNSURE/2." in text_of(page)
    assert page.select_one("[data-testid=regrade] button") is None  # nothing left to add

    def agenda() -> dict[str, set[str]]:
        with app.app_context():
            reviews = db.session.scalars(select(CaseReview).where(CaseReview.meeting_id == meeting_id)).all()
            return {review.case.reference: {agency.code for agency in review.agencies} for review in reviews}

    expected = {"CR/UNSURE/3": {"HOU"}, "CR/UNSURE": {"HOU", "IDVA"}, "CR/UNSURE/2": {"POL"}}
    assert agenda() == expected
    with app.app_context():
        added = db.session.scalar(
            select(func.count()).where(
                AuditEvent.action == "case_review_added", AuditEvent.detail.like(f"meeting {meeting_id} case %")
            )
        )
    assert added == 3  # the one the test put on this agenda, and these two

    client.post(f"/meetings/{meeting_id}/agenda/regrade", data={"csrf_token": token})  # again
    assert agenda() == expected
    assert "Those cases are already on this agenda." in text_of(get_page(client, f"/meetings/{meeting_id}"))


def test_only_a_chair_adds_the_cases_to_re_score_and_not_to_locked_minutes(
    app, client, chair, agencies, make_meeting, add_review, make_user
):
    previous = make_meeting(-14, chair=chair)
    add_review(previous, "CR/UNSURE", grade=4)
    approved = make_meeting(-7, chair=chair, status="approved")
    page = get_page(client, f"/meetings/{approved}")
    assert page.select_one("[data-testid=regrade] button") is None
    token = page.select_one("input[name=csrf_token]")["value"]
    response = client.post(f"/meetings/{approved}/agenda/regrade", data={"csrf_token": token})
    assert response.status_code == 302
    assert "approved and locked" in text_of(get_page(client, f"/meetings/{approved}")).lower()

    current = make_meeting(0, chair=chair)
    manager = make_user("manager", agencies["POL"])
    client.post("/sign-out", data={"csrf_token": token})
    sign_in(client, manager.email, manager.password)
    token = get_page(client, "/").select_one("input[name=csrf_token]")["value"]
    assert client.post(f"/meetings/{current}/agenda/regrade", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        on_agendas = db.session.scalar(select(func.count()).where(CaseReview.meeting_id.in_([approved, current])))
    assert on_agendas == 0


def test_a_partners_record_holds_its_own_agencys_returns_and_cases_to_re_score_only(
    app, chair, agencies, make_meeting, add_review, make_user
):
    """The meeting page reads the returns and the cases to re-score in statements shared with other
    rows (UNION ALL): each part keeps the reader's scope."""
    from tracker.meetings.queries import meeting_record
    from tracker.models import AgencyReturn, Meeting

    idva, housing = agencies["IDVA"], agencies["HOU"]
    previous = make_meeting(-7, chair=chair, attended_by=[idva, housing])
    add_review(previous, "CR/IDVA-UNSURE", agencies=[idva], grade=4)
    add_review(previous, "CR/HOU-UNSURE", agencies=[housing], grade=4)
    meeting_id = make_meeting(0, chair=chair, attended_by=[idva, housing])
    shared = add_review(meeting_id, "CR/SHARED", agencies=[idva, housing])
    partner = make_user("partner", idva)
    with app.app_context():
        db.session.add_all([AgencyReturn(case_review_id=shared, agency_id=agency.id) for agency in (idva, housing)])
        db.session.commit()
        meeting = db.session.get(Meeting, meeting_id)
        seen = {}
        for reader_id in (partner.id, chair.id):
            record = meeting_record(db.session.get(User, reader_id), meeting)
            returned = {review_id: sorted(by_agency) for review_id, by_agency in record.returns.items()}
            seen[reader_id] = (returned, [line.case_reference for line in record.to_regrade])
    assert seen[partner.id] == ({shared: [idva.id]}, ["CR/IDVA-UNSURE"])
    assert seen[chair.id] == ({shared: sorted([idva.id, housing.id])}, ["CR/IDVA-UNSURE", "CR/HOU-UNSURE"])


def test_meeting_view_is_audited(client, app, chair, make_meeting):
    meeting_id = make_meeting(0, chair=chair)
    get_page(client, f"/meetings/{meeting_id}")
    assert "meeting_viewed" in audit_actions(app)


@pytest.mark.parametrize("next_path", ["//evil.example/x", "https://evil.example/", "/\\evil", "javascript:alert(1)"])
def test_matter_arising_update_never_follows_an_unsafe_return_address(
    client, app, chair, agencies, make_meeting, add_action, next_path
):
    earlier = make_meeting(-14, chair=chair)
    action_id = add_action(earlier, agencies["IDVA"])
    response = client.post(
        f"/actions/{action_id}/progress",
        data={f"a{action_id}-note": "Called", f"a{action_id}-version": 1, "next": next_path},
    )
    assert response.headers["Location"] == f"/actions/{action_id}"


def test_matter_arising_update_is_marked_on_its_row(client, app, chair, agencies, make_meeting, add_action):
    earlier = make_meeting(-14, chair=chair)
    action_id = add_action(earlier, agencies["IDVA"])
    other = add_action(earlier, agencies["HOU"])
    meeting_id = make_meeting(0, chair=chair)
    page = get_page(client, f"/meetings/{meeting_id}/matters-arising?overdue=")
    form = page.select_one(f"#action-{action_id} form")
    assert form["action"] == f"/actions/{action_id}/progress"
    response = client.post(
        form["action"],
        data={
            f"a{action_id}-note": "Called the victim",
            f"a{action_id}-version": 1,
            "next": form.select_one("input[name=next]")["value"],
        },
    )
    assert response.headers["Location"].startswith(f"/meetings/{meeting_id}/matters-arising?")
    page = get_page(client, response.headers["Location"])
    assert [
        row.find_parent(attrs={"data-testid": "matter-arising"})["id"] for row in page.select("[data-testid=row-saved]")
    ] == [f"action-{action_id}"]
    assert "Called the victim" in text_of(page.select_one(f"#action-{action_id}"))
    assert page.select_one(f"#action-{other} [data-testid=row-saved]") is None


def test_a_matter_arisings_row_form_is_a_whole_labelled_form_that_posts_as_it_stands(
    client, app, chair, agencies, make_meeting, add_action
):
    """The row form is written in Python (tracker/actions/forms.py): every field labelled, its hint
    announced, the statuses offered those it may move to, and the form posts as the browser sends it."""
    earlier = make_meeting(-14, chair=chair)
    action_id = add_action(earlier, agencies["IDVA"])
    meeting_id = make_meeting(0, chair=chair)
    filtered = f"/meetings/{meeting_id}/matters-arising?agency={agencies['IDVA'].id}&status=open"
    form = get_page(client, filtered).select_one(f"#action-{action_id} form")
    prefix = f"a{action_id}"
    for field in form.select("textarea, select"):
        assert form.select_one(f"label[for='{field['id']}']") is not None, field["id"]
    note = form.select_one("textarea")
    assert note["name"] == f"{prefix}-note" and form.select_one(f"#{note['aria-describedby']}") is not None
    assert [option["value"] for option in form.select(f"select[name={prefix}-status] option")] == [
        "",
        "in_progress",
        "completed",
    ]
    assert form.select_one("input[name=next]")["value"] == filtered  # "&" escaped in the markup, not in the value
    posted = {field["name"]: field.get("value", "") for field in form.select("input")}
    posted.update({f"{prefix}-note": "Spoke to the housing officer", f"{prefix}-status": "in_progress"})
    response = client.post(form["action"], data=posted)
    assert response.status_code == 302 and response.headers["Location"].startswith(filtered)
    assert "Spoke to the housing officer" in text_of(get_page(client, f"/actions/{action_id}"))


def test_agenda_page_queries_do_not_grow_with_cases(client, chair, agencies, make_meeting, add_review, query_counter):
    meeting_id = make_meeting(0, chair=chair, invited=list(agencies.values()))
    add_review(meeting_id, "CR/A/0", agencies=[agencies["IDVA"]])
    with query_counter() as few:
        get_page(client, f"/meetings/{meeting_id}/agenda")
    for n in range(1, 15):
        add_review(meeting_id, f"CR/A/{n}", agencies=[agencies["IDVA"], agencies["HOU"]])
    with query_counter() as many:
        page = get_page(client, f"/meetings/{meeting_id}/agenda")
    assert len(page.select("[data-testid=agenda-table] tbody tr")) == 15
    assert len(many) == len(few), "\n".join(many)


def test_an_old_attendance_form_does_not_undo_what_a_colleague_recorded(
    client, app, chair, agencies, make_meeting, make_user
):
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"]])
    alice = make_user("partner", agencies["IDVA"], name="Alice")
    bob = make_user("partner", agencies["IDVA"], name="Bob")
    stale = attendance_form(get_page(client, f"/meetings/{meeting_id}/attendance"))  # both "not recorded"
    colleague = app.test_client()
    other_chair = make_user("chair", agencies["POL"])
    sign_in(colleague, other_chair.email, other_chair.password)
    colleague_form = attendance_form(get_page(colleague, f"/meetings/{meeting_id}/attendance"))
    colleague_form.update({f"status-u{alice.id}": "present", "save": "y"})
    colleague.post(f"/meetings/{meeting_id}/attendance", data=colleague_form)
    # The first chair saves the page they loaded earlier, marking only Bob.
    client.post(f"/meetings/{meeting_id}/attendance", data={**stale, f"status-u{bob.id}": "apologies", "save": "y"})
    with app.app_context():
        recorded = dict(db.session.execute(select(Attendance.user_id, Attendance.status)).all())
    assert recorded == {alice.id: "present", bob.id: "apologies"}
    details = [e.detail for e in db_events(app, "attendance_recorded")]
    assert details == [f"user {alice.id} present", f"user {bob.id} apologies"]


def db_events(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_previous_and_next_meeting_links_skip_cancelled_and_out_of_scope_meetings(
    client, app, chair, agencies, make_meeting, make_user
):
    before = make_meeting(-14, chair=chair, attended_by=[agencies["IDVA"]])
    make_meeting(-7, chair=chair, status="cancelled", attended_by=[agencies["IDVA"]])
    middle = make_meeting(0, chair=chair, attended_by=[agencies["IDVA"]])
    not_attended = make_meeting(7, chair=chair)
    page = get_page(client, f"/meetings/{middle}")
    links = {text_of(a).split(" (")[0]: a["href"] for a in page.select("main a") if "meeting (" in text_of(a)}
    assert links == {"Previous meeting": f"/meetings/{before}", "Next meeting": f"/meetings/{not_attended}"}
    partner = make_user("partner", agencies["IDVA"])
    partner_client = app.test_client()
    sign_in(partner_client, partner.email, partner.password)
    page = get_page(partner_client, f"/meetings/{middle}")
    links = {text_of(a).split(" (")[0]: a["href"] for a in page.select("main a") if "meeting (" in text_of(a)}
    assert links == {"Previous meeting": f"/meetings/{before}"}  # IDVA has not attended the next one


def test_only_the_full_meeting_page_counts_the_matters_arising(
    client, app, agencies, make_user, make_meeting, add_action, query_counter
):
    """Counting open actions reads all of history: the chair's meeting page shows the counts (due by
    the panel's next meeting, as the matters arising page counts them); the approval check and a
    partner's meeting page do not show them, and do not count them."""
    chair = make_user("chair", agencies["POL"])
    earlier = make_meeting(-14, chair=chair, attended_by=[agencies["IDVA"]])
    add_action(earlier, agencies["IDVA"], due_in_days=3, description="Due before the next meeting")
    add_action(earlier, agencies["IDVA"], due_in_days=10, description="Due after it")
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["IDVA"]])
    make_meeting(7, chair=chair)  # the panel's next meeting
    sign_in(client, chair.email, chair.password)
    matters = get_page(client, f"/meetings/{meeting_id}/matters-arising").select_one("[data-testid=matters-counts]")
    assert text_of(matters).startswith("1 open action from earlier meetings is overdue or due by")
    counting = "FROM actions WHERE actions.status IN"

    def counted(url: str) -> bool:
        with query_counter() as statements:
            get_page(client, url)
        return any(counting in " ".join(statement.split()) for statement in statements)

    assert counted(f"/meetings/{meeting_id}")
    chairs_page = text_of(get_page(client, f"/meetings/{meeting_id}"))
    assert "1 open action from earlier meetings overdue or due by" in chairs_page
    assert not counted(f"/meetings/{meeting_id}/approve")
    client.post("/sign-out")
    partner = make_user("partner", agencies["IDVA"])
    sign_in(client, partner.email, partner.password)
    assert not counted(f"/meetings/{meeting_id}")


def test_matters_arising_are_due_by_the_next_meeting_going_ahead_even_one_a_partner_may_not_see(
    client, app, chair, agencies, make_meeting, add_action, make_user
):
    """The page reads the next meeting's start with the meeting itself: a cancelled meeting is passed
    over, and the date is the panel's whoever reads it (the partner has attended neither meeting ahead)."""
    from tracker.timeutil import format_date

    earlier = make_meeting(-7, chair=chair, attended_by=[agencies["IDVA"]])
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["IDVA"]])
    make_meeting(7, chair=chair, status="cancelled")
    make_meeting(14, chair=chair)
    for due_in_days in (-1, 10, 20):
        add_action(earlier, agencies["IDVA"], due_in_days=due_in_days)
    partner = make_user("partner", agencies["IDVA"])
    reader = app.test_client()
    sign_in(reader, partner.email, partner.password)
    due_by = format_date(london_today() + timedelta(days=14))
    for who in (client, reader):
        page = get_page(who, f"/meetings/{meeting_id}/matters-arising")
        counts = text_of(page.select_one("[data-testid=matters-counts]"))
        assert counts.startswith(f"2 open actions from earlier meetings are overdue or due by {due_by} (1 overdue)")
        assert "1 more open action is due later" in text_of(page.select_one("[data-testid=matters-later]"))


def test_matters_arising_counts_match_their_definition(app, agencies, make_user, make_meeting, add_action):
    """The counts are worked out by difference (tracker/meetings/queries.py: _matters_counted) so that
    they stay small with history: they must still be, for the chair and for a partner, the open actions
    from earlier meetings only (not the meeting's own, nor later ones; not closed ones), split into
    overdue, due by the next meeting, and due later."""
    from tracker.meetings.queries import matters_arising_counts
    from tracker.models import User

    chair = make_user("chair", agencies["POL"])
    partner = make_user("partner", agencies["IDVA"])
    raised_at = {
        "earlier": make_meeting(-21, chair=chair),
        "previous": make_meeting(-7, chair=chair),
        "this": make_meeting(0, chair=chair),
        "next": make_meeting(7, chair=chair),  # the panel's next meeting: due by is its date
    }
    made = []
    for when, meeting_id in raised_at.items():
        for agency in ("IDVA", "POL"):
            for due_in_days in (-30, -1, 0, 3, 7, 8, 40):
                for status in ("open", "in_progress", "completed", "cancelled"):
                    add_action(meeting_id, agencies[agency], due_in_days=due_in_days, status=status)
                    made.append((when, agency, due_in_days, status))

    def expected(agency_only: str | None) -> tuple[int, int, int]:
        counted = [
            due
            for when, agency, due, status in made
            if when in ("earlier", "previous") and status in ("open", "in_progress") and agency_only in (None, agency)
        ]
        return (
            sum(1 for due in counted if due <= 7),
            sum(1 for due in counted if due < 0),
            sum(1 for due in counted if due > 7),
        )

    with app.app_context():
        meeting = db.session.get(Meeting, raised_at["this"])
        for user, agency_only in ((chair, None), (partner, "IDVA")):
            counts = matters_arising_counts(db.session.get(User, user.id), meeting)
            assert counts.due_by == london_today() + timedelta(days=7)
            assert (counts.to_review, counts.overdue, counts.later) == expected(agency_only)
    assert expected(None) == (40, 16, 16) and expected("IDVA") == (20, 8, 8)  # the fixture is what it says


def test_the_attendance_page_reads_the_active_and_the_invited_agencies_in_one_statement(
    app, agencies, make_agency, make_meeting, query_counter
):
    """An agency deactivated since it was invited is still on the sheet (its members came), but is not
    offered for a guest; an active agency not invited is offered for a guest only."""
    from tracker.meetings.queries import active_and_invited_agencies
    from tracker.models import Agency

    gone = make_agency(name="Closed service", code="GONE")
    meeting_id = make_meeting(3, invited=[agencies["IDVA"], gone])
    with app.app_context():
        db.session.get(Agency, gone.id).active = False
        db.session.commit()
        meeting = db.session.get(Meeting, meeting_id)
        with query_counter() as statements:
            active, invited = active_and_invited_agencies(meeting)
        assert len(statements) == 1
    assert [agency.code for agency in invited] == ["GONE", "IDVA"]  # by name: "Closed service", "IDVA agency"
    assert {"HOU", "IDVA", "POL"} <= {agency.code for agency in active} and "GONE" not in {a.code for a in active}
    assert [agency.name for agency in active] == sorted(agency.name for agency in active)


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's plan")
def test_matters_arisings_first_case_is_found_among_the_meetings_own_reviews(app, agencies, make_user, make_meeting):
    """The first case the reader may see is joined by its id, worked out by a subquery: without the
    meeting's own reviews named in the join, PostgreSQL read every review in history to find it for a
    partner (12 ms with 50,000 reviews)."""
    from sqlalchemy import text

    from tracker.meetings.queries import _matters_meeting_statement

    partner = make_user("partner", agencies["IDVA"])
    meeting_id = make_meeting(0)
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        statement = _matters_meeting_statement(db.session.get(User, partner.id)).params(meeting_id=meeting_id)
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {compiled}")))
    # Read by an index condition (the meeting's), not a scan of every review (sequential, or a whole
    # index in its place when sequential scans are priced out).
    first_review_read = plan.split("on case_reviews first_review", 1)[1].split("->", 1)[0]
    assert "Index Cond: (meeting_id =" in first_review_read, plan


def test_an_approved_meetings_task_list_shows_no_work_to_do(client, app, chair, agencies, make_meeting, add_action):
    """Once the minutes are approved (locked), nothing on the meeting page is a to-do: an agenda never
    published is "Not published", open matters arising a count, not "to review" tags."""
    earlier = make_meeting(-21, chair=chair)
    add_action(earlier, agencies["IDVA"], due_in_days=-3)
    meeting_id = make_meeting(-7, chair=chair, attended_by=[agencies["POL"]], status="approved")
    page = get_page(client, f"/meetings/{meeting_id}")
    tags = [text_of(tag) for tag in page.select(".govuk-task-list__status .govuk-tag")]
    assert tags == []
    statuses = {
        text_of(item.select_one(".govuk-task-list__name-and-hint")).split(" ")[0]: text_of(
            item.select_one(".govuk-task-list__status")
        )
        for item in page.select(".govuk-task-list__item")
    }
    assert statuses["Publish"] == "Not published"
    assert statuses["Matters"] == "1 open"

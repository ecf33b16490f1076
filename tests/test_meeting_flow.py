"""A meeting from published agenda to approved minutes: publishing, agency information returns,
complete and draft reviews, the approval check, and feedback that never reaches a partner."""

import csv
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import approve_minutes, error_messages, get_page, parse, sign_in, text_of
from tracker.extensions import db
from tracker.models import (
    Action,
    AgencyReturn,
    Attendance,
    AttendanceStatus,
    AuditEvent,
    CaseReview,
    Meeting,
    RiskLevel,
)


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def chair(login_as, agencies):
    return login_as("chair", agencies["POL"], name="Panel Chair")


@pytest.fixture
def idva(app, agencies, make_user):
    user = make_user("partner", agencies["IDVA"], name="IDVA Officer")
    client = app.test_client()
    sign_in(client, user.email, user.password)
    return client


def audit_details(app, action):
    with app.app_context():
        return [e.detail for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def publish(client, meeting_id, *rows):
    data = {"publish": "y"}
    for index, (reference, agency_ids) in enumerate(rows):
        data[f"rows-{index}-reference"] = reference
        data[f"rows-{index}-agency_ids"] = [str(agency_id) for agency_id in agency_ids]
    return client.post(f"/meetings/{meeting_id}/agenda", data=data)


# Publishing the agenda and the agencies' information ------------------------------------------


def test_publishing_tells_each_involved_agency_its_case_references_only(
    client, app, chair, agencies, make_meeting, make_user, smtp_server
):
    meeting_id = make_meeting(3, chair=chair, invited=list(agencies.values()))
    idva_officer = make_user("partner", agencies["IDVA"], name="IDVA Officer")
    housing_officer = make_user("partner", agencies["HOU"], name="Housing Officer")
    response = publish(
        client,
        meeting_id,
        ("CR/PUB/1", [agencies["IDVA"].id, agencies["HOU"].id]),
        ("CR/PUB/2", [agencies["IDVA"].id]),
    )
    assert response.headers["Location"] == f"/meetings/{meeting_id}"
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).agenda_published_at is not None
    by_recipient = {message["to"][0]: message for message in smtp_server}
    assert set(by_recipient) == {idva_officer.email, housing_officer.email}
    idva_mail, housing_mail = by_recipient[idva_officer.email], by_recipient[housing_officer.email]
    assert "CR/PUB/1" in idva_mail["body"] and "CR/PUB/2" in idva_mail["body"]
    assert "CR/PUB/1" in housing_mail["body"] and "CR/PUB/2" not in housing_mail["body"]
    assert "no personal details" in housing_mail["body"]
    assert audit_details(app, "agenda_published") == ["2 cases, 2 agencies, 2 people told"]


def test_nothing_is_sent_when_the_publishing_request_fails(client, app, chair, agencies, make_meeting, smtp_server):
    meeting_id = make_meeting(3, chair=chair, invited=list(agencies.values()))
    response = publish(client, meeting_id, ("", [agencies["IDVA"].id]))  # a row with agencies but no reference
    assert response.status_code == 200
    assert smtp_server == []
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).agenda_published_at is None


def test_an_involved_partner_sees_its_agenda_cases_and_returns_its_information(
    client, app, chair, agencies, make_meeting, idva, make_user, smtp_server
):
    meeting_id = make_meeting(3, chair=chair, invited=list(agencies.values()))
    # Before publication the partner's agency has not attended: the meeting does not exist for it.
    assert idva.get(f"/meetings/{meeting_id}").status_code == 404
    publish(client, meeting_id, ("CR/RET/1", [agencies["IDVA"].id]), ("CR/RET/2", [agencies["HOU"].id]))
    page = get_page(idva, f"/meetings/{meeting_id}")
    assert [text_of(span) for span in page.select("[data-testid=case-review]")] == ["1. Case CR/RET/1"]
    assert "Information needed" in text_of(page.select_one("[data-testid=case-review]").find_parent("li"))
    with app.app_context():
        mine, theirs = (
            db.session.scalar(select(CaseReview.id).join(CaseReview.case).where(CaseReview.position == n))
            for n in (1, 2)
        )
    assert idva.get(f"/meetings/{meeting_id}/reviews/{theirs}").status_code == 404
    assert idva.get(f"/meetings/{meeting_id}/reviews/{theirs}/return").status_code == 404

    form = get_page(idva, f"/meetings/{meeting_id}/reviews/{mine}/return")
    assert form.select_one("textarea[name=information]") is not None
    response = idva.post(f"/meetings/{meeting_id}/reviews/{mine}/return", data={"information": ""})
    assert error_messages(parse(response))["information"] == (
        "Enter what your agency holds, or tick that it holds no information"
    )
    # Information with "no information held" ticked is refused, not quietly dropped for the tick.
    both = {"information": "Known to IDVA since March; safety plan in place", "no_information_held": "y"}
    response = idva.post(f"/meetings/{meeting_id}/reviews/{mine}/return", data=both)
    assert error_messages(parse(response))["information"].startswith("You ticked that your agency holds no information")
    assert "Known to IDVA since March" in text_of(parse(response).select_one("textarea[name=information]"))
    with app.app_context():
        assert db.session.scalars(select(AgencyReturn)).all() == []
    idva.post(
        f"/meetings/{meeting_id}/reviews/{mine}/return",
        data={"information": "Known to IDVA since March; safety plan in place", "contact_made": "y"},
    )
    with app.app_context():
        [agency_return] = db.session.scalars(select(AgencyReturn)).all()
        assert (agency_return.agency_id, agency_return.contact_made) == (agencies["IDVA"].id, True)
    assert "Information sent" in text_of(
        get_page(idva, f"/meetings/{meeting_id}").select_one("[data-testid=case-review]").find_parent("li")
    )

    # The chair sees each case's returns and which agencies have not returned (agencies with
    # officers to send it: an agency with no partner officer is not waited for).
    chair_page = get_page(client, f"/meetings/{meeting_id}")
    assert "No information yet" not in text_of(chair_page.select("[data-testid=case-review]")[1].find_parent("li"))
    housing = make_user("partner", agencies["HOU"])
    chair_page = get_page(client, f"/meetings/{meeting_id}")
    second = chair_page.select("[data-testid=case-review]")[1].find_parent("li")
    assert "No information yet from HOU" in text_of(second)
    review_page = get_page(client, f"/meetings/{meeting_id}/reviews/{mine}")
    returns = [text_of(r) for r in review_page.select("[data-testid=agency-return]")]
    assert any("IDVA agency" in r and "safety plan in place" in r for r in returns)

    # Another agency never sees IDVA's return, even on a case they share.
    housing_client = app.test_client()
    sign_in(housing_client, housing.email, housing.password)
    assert housing_client.get(f"/meetings/{meeting_id}/reviews/{mine}").status_code == 404
    page = get_page(housing_client, f"/meetings/{meeting_id}/reviews/{theirs}")
    assert "safety plan in place" not in text_of(page)


def test_the_meeting_page_names_who_attended_and_counts_the_information_received(
    client, app, chair, agencies, make_meeting, make_user, smtp_server
):
    from tracker.meetings import operations
    from tracker.models import Agency, User

    meeting_id = make_meeting(3, chair=chair, invited=list(agencies.values()))
    make_user("partner", agencies["IDVA"])
    make_user("partner", agencies["HOU"])
    publish(client, meeting_id, ("CR/ATT/1", [agencies["IDVA"].id, agencies["HOU"].id]))
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        review_id = meeting.reviews[0].id
        operations.add_attendance(meeting, agency=db.session.get(Agency, agencies["POL"].id),
                                  user=db.session.get(User, chair.id), person_name="", status="present",
                                  role="chair", deputy_for="")  # fmt: skip
        operations.add_attendance(meeting, agency=db.session.get(Agency, agencies["HOU"].id), user=None,
                                  person_name="Guest <Name>", status="apologies", role="member",
                                  deputy_for="Housing lead")  # fmt: skip
        db.session.add(AgencyReturn(case_review_id=review_id, agency_id=agencies["IDVA"].id, information="Known"))
        db.session.commit()

    page = get_page(client, f"/meetings/{meeting_id}")
    rows = [
        [text_of(cell) for cell in row.select("td")] for row in page.select("[data-testid=attendance-table] tbody tr")
    ]
    assert rows == [
        ["POL agency", "Panel Chair", "Present", "Chair", ""],
        ["HOU agency", "Guest <Name>", "Apologies", "Member", "Housing lead"],
    ]
    during = text_of(page.select_one("[data-testid=tasks-during]"))
    assert "1 present, 1 apology" in during  # one apology; two apologies
    before = text_of(page.select_one("[data-testid=tasks-before]"))
    assert "Information received: 1 of 2" in before
    case = text_of(page.select_one("[data-testid=case-review]").find_parent("li"))
    assert "No information yet from HOU" in case and "Agencies: HOU, IDVA." in case


def test_a_chair_cannot_return_information_for_an_agency(client, app, chair, agencies, make_meeting, smtp_server):
    meeting_id = make_meeting(3, chair=chair, invited=list(agencies.values()))
    publish(client, meeting_id, ("CR/C/1", [agencies["POL"].id]))
    with app.app_context():
        review_id = db.session.scalar(select(CaseReview.id))
    assert client.get(f"/meetings/{meeting_id}/reviews/{review_id}/return").status_code == 404


# Recording reviews ----------------------------------------------------------------------------


def test_a_complete_review_needs_risk_grade_and_findings_but_a_draft_does_not(
    client, app, chair, make_meeting, add_review
):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/DRAFT")
    url = f"/meetings/{meeting_id}/reviews/{review_id}"
    response = client.post(url, data={"summary": "Notes so far", "save": "y"})
    errors = error_messages(parse(response))
    assert "Enter the DASH score" in errors["dash_score"]
    assert "Select a scrutiny grade" in errors["scrutiny_grade"]
    assert "Enter the findings" in errors["findings"]
    with app.app_context():
        assert db.session.get(CaseReview, review_id).summary == ""
    client.post(url, data={"summary": "Notes so far", "save_draft": "y"})
    with app.app_context():
        review = db.session.get(CaseReview, review_id)
        assert (review.summary, review.progress.value) == ("Notes so far", "in_progress")
    page = get_page(client, f"/meetings/{meeting_id}")
    assert "In progress" in text_of(page.select_one("[data-testid=case-review]").find_parent("li"))


def test_save_and_go_to_the_next_case_with_an_action_raised_alongside(
    client, app, chair, agencies, make_meeting, add_review
):
    from datetime import timedelta

    from tracker.timeutil import london_today

    meeting_id = make_meeting(0, chair=chair, invited=list(agencies.values()))
    first = add_review(meeting_id, "CR/N/1")
    second = add_review(meeting_id, "CR/N/2")
    due = london_today() + timedelta(days=14)
    response = client.post(
        f"/meetings/{meeting_id}/reviews/{first}",
        data={
            "dash_score": "15", "scrutiny_grade": "1", "findings": "Sound response", "save_and_next": "y",
            "action-description": "Safety plan within 48 hours", "action-owning_agency_id": agencies["IDVA"].id,
            "action-due_date": [str(due.day), str(due.month), str(due.year)],
        },
    )  # fmt: skip
    assert response.headers["Location"] == f"/meetings/{meeting_id}/reviews/{second}"
    with app.app_context():
        [action] = db.session.scalars(select(Action)).all()
        assert (action.case_review_id, action.owning_agency_id, action.due_date) == (first, agencies["IDVA"].id, due)
    # The last case: on to the approval check.
    response = client.post(
        f"/meetings/{meeting_id}/reviews/{second}",
        data={"dash_score": "4", "scrutiny_grade": "2", "findings": "Fine", "save_and_next": "y"},
    )
    assert response.headers["Location"] == f"/meetings/{meeting_id}/approve"
    # "Save and raise an action" goes to the action form for this case.
    response = client.post(
        f"/meetings/{meeting_id}/reviews/{second}",
        data={"dash_score": "4", "scrutiny_grade": "2", "findings": "Fine", "save_and_action": "y"},
    )
    assert response.headers["Location"] == f"/meetings/{meeting_id}/actions/new?review={second}"


def test_a_bad_action_alongside_a_review_saves_neither(client, app, chair, agencies, make_meeting, add_review):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/BAD")
    response = client.post(
        f"/meetings/{meeting_id}/reviews/{review_id}",
        data={"dash_score": "4", "scrutiny_grade": "2", "findings": "Fine", "save": "y",
              "action-description": "Something", "action-owning_agency_id": ""},
    )  # fmt: skip
    assert error_messages(parse(response))["action-owning_agency_id"] == "Select the owning agency from the list"
    with app.app_context():
        assert db.session.get(CaseReview, review_id).findings == ""
        assert db.session.scalars(select(Action)).all() == []


# The approval check ---------------------------------------------------------------------------


def test_blocking_gaps_are_refused_on_the_server(client, app, chair, agencies, make_meeting, add_review):
    meeting_id = make_meeting(0, chair=chair)  # nobody recorded as present
    add_review(meeting_id, "CR/EMPTY")  # nothing recorded
    add_review(meeting_id, "CR/EMPTY/2")
    with app.app_context():  # apologies are not presence
        meeting = db.session.get(Meeting, meeting_id)
        db.session.add(Attendance(meeting=meeting, agency_id=agencies["IDVA"].id, person_name="Sent apologies",
                                  status=AttendanceStatus.APOLOGIES))  # fmt: skip
        db.session.commit()
    page = get_page(client, f"/meetings/{meeting_id}/approve")
    assert "2 cases on the agenda, none fully recorded; 0 people present." in text_of(page.select_one("main"))
    blocking = text_of(page.select_one("[data-testid=blocking-gaps]"))
    assert "Attendance has not been taken" in blocking and "CR/EMPTY: nothing has been recorded" in blocking
    assert page.select("main form[method=post]") == []  # no approve button while gaps block
    # The gap to accept later is named too: the page lists every gap the meeting page counts.
    assert text_of(page.select_one("[data-testid=acceptable-later]")) == (
        "The confidentiality statement is not recorded as read"
    )
    # Posting anyway, even claiming to accept everything, is refused by the server.
    response = client.post(
        f"/meetings/{meeting_id}/approve", data={"accepted": ["attendance", "statement", "review-1"]}
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status != "approved"


def test_other_gaps_must_each_be_accepted_and_are_audited(client, app, chair, agencies, make_meeting, add_review):
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["POL"]])
    review_id = add_review(meeting_id, "CR/PART", grade=2)  # graded, but no risk and no findings
    page = get_page(client, f"/meetings/{meeting_id}/approve")
    assert "1 case on the agenda, none fully recorded; 1 person present." in text_of(page.select_one("main"))
    complete_id = add_review(meeting_id, "CR/FULL", grade=1)
    with app.app_context():
        complete = db.session.get(CaseReview, complete_id)
        complete.risk_level, complete.findings = RiskLevel.STANDARD, "Attendance within target time."
        db.session.commit()
    page = get_page(client, f"/meetings/{meeting_id}/approve")
    assert "2 cases on the agenda, 1 fully recorded; 1 person present." in text_of(page.select_one("main"))
    with app.app_context():
        db.session.delete(db.session.get(CaseReview, complete_id))
        db.session.commit()
    page = get_page(client, f"/meetings/{meeting_id}/approve")
    offered = {box["value"]: text_of(box.find_next("label")) for box in page.select("input[name=accepted]")}
    assert offered.keys() == {"statement", f"review-{review_id}"}
    assert "no risk level or findings" in offered[f"review-{review_id}"]
    response = client.post(f"/meetings/{meeting_id}/approve", data={"accepted": ["statement"]})
    assert "Tick each gap you accept" in text_of(parse(response).select_one(".govuk-error-summary"))
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status != "approved"
    assert approve_minutes(client, meeting_id).headers["Location"] == f"/meetings/{meeting_id}"
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status == "approved"
    [detail] = audit_details(app, "minutes_approved")
    assert detail == f"revision 1; gaps accepted: review-{review_id}, statement"


# Feedback to the officer is police-internal ------------------------------------------------------


def test_feedback_never_reaches_a_partner(client, app, chair, agencies, make_meeting, add_review, idva, smtp_server):
    meeting_id = make_meeting(
        0, chair=chair, invited=list(agencies.values()), attended_by=[agencies["IDVA"]], status="in_progress"
    )
    review_id = add_review(meeting_id, "CR/FB", agencies=[agencies["IDVA"]])
    client.post(
        f"/meetings/{meeting_id}/reviews/{review_id}",
        data={"dash_score": "12", "scrutiny_grade": "3", "findings": "Late arrest", "summary": "Assault at home",
              "feedback_to_officer": "FEEDBACK-SECRET: arrest sooner", "save": "y",
              "agency_ids": [str(agencies["IDVA"].id)]},
    )  # fmt: skip
    client.post(f"/meetings/{meeting_id}/agenda", data={"publish": "y"})  # e-mails IDVA its references
    # The chair sees it on the meeting page and in the full minutes.
    assert "FEEDBACK-SECRET" in text_of(get_page(client, f"/meetings/{meeting_id}"))
    full = client.get(f"/reports/minutes/{meeting_id}.pdf").data
    assert "FEEDBACK-SECRET" in " ".join(page.extract_text() for page in PdfReader(io.BytesIO(full)).pages)

    # The partner never does: meeting page, review page, redacted PDF, actions CSV, e-mail.
    for url in (f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/reviews/{review_id}"):
        page = get_page(idva, url)
        assert "FEEDBACK-SECRET" not in text_of(page) and "Feedback to the officer" not in text_of(page), url
        assert "Assault at home" in text_of(page) or url.endswith(f"/{meeting_id}")
    redacted = idva.get(f"/reports/minutes/{meeting_id}.pdf").data
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(redacted)).pages)
    assert "CR/FB" in text and "FEEDBACK-SECRET" not in text and "Feedback to the officer" not in text
    rows = list(csv.reader(io.StringIO(idva.get("/actions/export.csv?status=").get_data(as_text=True))))
    assert not any("FEEDBACK-SECRET" in cell for row in rows for cell in row)
    assert smtp_server and not any("FEEDBACK-SECRET" in message["body"] for message in smtp_server)
    assert not any(re.search("Late arrest|Assault at home", message["body"]) for message in smtp_server)

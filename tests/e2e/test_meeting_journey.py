"""The chair records a meeting end to end; a partner then sees only what concerns their agency."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.e2e.conftest import sign_in
from tracker.extensions import db
from tracker.timeutil import london_today

IDVA = "Independent Domestic Violence Advisor (IDVA) service"
HOUSING = "Housing – council housing options"


@pytest.fixture
def demo_with_repeat(app):
    """The demo service, plus the reference of a case reviewed a few weeks ago (to come back as a repeat)."""
    from tracker.demo import seed_demo
    from tracker.models import Case, CaseReview, Meeting

    with app.app_context():
        seed_demo()
        db.session.commit()
        recent = db.session.scalar(
            select(Case.reference)
            .join(CaseReview)
            .join(Meeting)
            .where(Meeting.status == "approved")
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        )
    return {"repeat_reference": recent}


def fill_date(page, prefix, day):
    page.locator(f"#{prefix}-day").fill(str(day.day))
    page.locator(f"#{prefix}-month").fill(str(day.month))
    page.locator(f"#{prefix}-year").fill(str(day.year))


def add_case(page, reference):
    page.get_by_label("Case reference").fill(reference)
    page.get_by_role("button", name="Add case to the agenda").click()


def record_review(page, *, dash, grade_label, agency):
    page.get_by_label("DASH risk score").fill(str(dash))
    page.get_by_role("group", name="Agencies involved").get_by_label(agency, exact=True).check()
    page.get_by_label("Findings and discussion").fill("Prompt attendance; DASH completed at the scene.")
    page.get_by_label(grade_label).check()
    page.get_by_role("button", name="Save case review").click()


def raise_action(page, link_name, *, description, agency, due):
    page.get_by_role("link", name=link_name).first.click()
    page.get_by_label("What needs to happen").fill(description)
    page.get_by_label("Owning agency").select_option(label=agency)
    fill_date(page, "due_date", due)
    page.get_by_role("button", name="Raise action").click()


def test_chair_records_a_meeting_and_a_partner_sees_their_part(
    live_server, page, demo_with_repeat, check_accessibility
):
    meeting_day = london_today() + timedelta(days=1)
    due = london_today() + timedelta(days=14)

    sign_in(page, live_server, "chair@example.org")
    page.get_by_role("link", name="Meetings").first.click()
    check_accessibility(page, "journey-meetings-list")
    page.get_by_role("button", name="Schedule a meeting").click()
    fill_date(page, "date", meeting_day)
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("Location or call link").fill("Committee Room 2")
    check_accessibility(page, "journey-schedule")
    page.get_by_role("button", name="Schedule").click()
    assert "Meeting scheduled." in page.locator(".govuk-notification-banner").inner_text()
    meeting_url = page.url
    check_accessibility(page, "journey-meeting-new")

    # Attendance and apologies.
    page.get_by_role("link", name="Record attendance and apologies").click()
    page.get_by_label("Agency", exact=True).select_option(label=IDVA)
    page.get_by_label("Or their name").fill("IDVA duty worker")
    page.get_by_label("Present", exact=True).check()
    page.get_by_role("button", name="Add to attendance").click()
    page.get_by_label("Agency", exact=True).select_option(label=HOUSING)
    page.get_by_label("Or their name").fill("Housing officer")
    page.get_by_label("Apologies", exact=True).check()
    page.get_by_role("button", name="Add to attendance").click()
    assert page.locator("[data-testid=attendance-table] tbody tr").count() == 2
    check_accessibility(page, "journey-attendance")
    page.get_by_role("link", name="Done – back to the meeting").click()

    # The confidentiality statement, then two cases: one new, one a repeat.
    page.get_by_role("button", name="Record that the statement was read").click()
    add_case(page, "CR/E2E/0001")
    check_accessibility(page, "journey-review-new-case")
    record_review(page, dash=15, grade_label="2 – Appropriate, with observations", agency=IDVA)
    add_case(page, demo_with_repeat["repeat_reference"])
    assert "Repeat" in page.locator("h1").inner_text()
    assert "Earlier reviews of this case" in page.locator("[data-testid=case-history]").inner_text()
    check_accessibility(page, "journey-review-repeat")
    record_review(page, dash=8, grade_label="3 – Inappropriate or inconsistent with policy", agency=HOUSING)

    # Three actions for two agencies.
    raise_action(
        page,
        "Raise an action for case CR/E2E/0001",
        description="Complete a safety plan within 48 hours",
        agency=IDVA,
        due=due,
    )
    raise_action(
        page,
        "Raise an action for case CR/E2E/0001",
        description="Attend the court hearing with the victim",
        agency=IDVA,
        due=due,
    )
    raise_action(
        page,
        f"Raise an action for case {demo_with_repeat['repeat_reference']}",
        description="Assess for a management move",
        agency=HOUSING,
        due=due,
    )
    page.goto(meeting_url)
    reviews = page.locator("[data-testid=case-review]")
    assert reviews.count() == 2
    assert "Repeat" in reviews.nth(1).inner_text()
    assert reviews.nth(0).locator("[data-testid=actions-table] tbody tr").count() == 2
    assert reviews.nth(1).locator("[data-testid=actions-table] tbody tr").count() == 1
    check_accessibility(page, "journey-meeting-recorded")

    page.get_by_role("button", name="Approve the minutes").click()
    assert "Minutes approved" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("[data-testid=locked]").is_visible()
    check_accessibility(page, "journey-meeting-approved")
    page.get_by_role("button", name="Sign out").click()

    # The IDVA partner attended: they see the meeting, their case and their actions only.
    sign_in(page, live_server, "idva@example.org")
    page.goto(meeting_url)
    partner_reviews = page.locator("[data-testid=case-review]")
    assert partner_reviews.count() == 1
    assert "CR/E2E/0001" in partner_reviews.nth(0).inner_text()
    assert "Assess for a management move" not in page.locator("main").inner_text()
    hidden = page.locator("[data-testid=hidden-actions-other-cases]").inner_text()
    assert "1 action on cases your agency is not involved in" in hidden
    check_accessibility(page, "journey-partner-meeting")
    page.get_by_role("link", name="Cases").first.click()
    page.get_by_label("Case reference").fill("CR/E2E")
    page.get_by_role("button", name="Search").click()
    assert page.locator("[data-testid=cases-table] tbody tr").count() == 1
    check_accessibility(page, "journey-partner-cases")
    page.get_by_role("link", name="CR/E2E/0001").click()
    assert page.locator("h1").inner_text() == "CR/E2E/0001"
    check_accessibility(page, "journey-partner-case")
    page.get_by_role("button", name="Sign out").click()

    # Housing sent apologies: the meeting does not exist for them.
    sign_in(page, live_server, "housing@example.org")
    response = page.goto(meeting_url)
    assert response.status == 404

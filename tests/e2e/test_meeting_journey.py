"""The chair records a meeting end to end; a partner then sees only what concerns their agency."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
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


def fill_date(scope, prefix, day):
    scope.locator(f"#{prefix}-day").fill(str(day.day))
    scope.locator(f"#{prefix}-month").fill(str(day.month))
    scope.locator(f"#{prefix}-year").fill(str(day.year))


class PageLoads:
    """Counts the pages the chair loads: every navigation (a link followed, a form posted) that ends in
    a page, counted as its document arrives. (Not at the "load" event: a click made as soon as the next
    button shows, before the page's scripts and styles have loaded, leaves a page that never fires it.
    CI's busy browser missed one that way.) A redirect is not a page; the page it leads to is."""

    def __init__(self, page):
        self.count = 0
        self._main_frame = page.main_frame
        page.on("response", self._arrived)

    def _arrived(self, response):
        request = response.request
        if request.is_navigation_request() and request.frame == self._main_frame and not 300 <= response.status < 400:
            self.count += 1


def agenda_row(page, index, reference, agency_codes):
    page.locator(f"#rows-{index}-reference").fill(reference)
    row = page.locator(f"#rows-{index}-reference").locator("xpath=ancestor::fieldset[1]")
    for code in agency_codes:
        row.get_by_label(code, exact=True).check()


def record_review(page, *, dash, grade_label, findings, action=None, due=None):
    page.get_by_label("DASH risk score").fill(str(dash))
    page.get_by_label("Findings and discussion").fill(findings)
    page.get_by_label(grade_label).check()
    if action:
        description, agency = action
        page.get_by_text("Raise an action with this review").click()
        page.locator("#action-description").fill(description)
        page.locator("#action-owning_agency_id").select_option(label=agency)
        # Only the owning agency's members are offered as the named owner (app.js).
        offered = page.locator("#action-owner_id optgroup:not([disabled])")
        assert offered.evaluate_all("groups => groups.map(group => group.label)") == [agency]
        fill_date(page, "action-due_date", due)
    page.get_by_role("button", name="Save and go to the next case").click()


def test_chair_runs_a_meeting_from_agenda_to_approved_minutes_in_twelve_page_loads(
    live_server, page, browser, demo_with_repeat, check_accessibility, smtp_server
):
    meeting_day = london_today() + timedelta(days=1)
    due = london_today() + timedelta(days=14)
    repeat = demo_with_repeat["repeat_reference"]
    sign_in(page, live_server, "chair@example.org")
    page.wait_for_url(f"{live_server}/")  # the home page after signing in is not part of the count
    page.wait_for_load_state("load")
    loads = PageLoads(page)

    # 1–2. Create the meeting; it lands on its agenda.
    page.goto(f"{live_server}/meetings/new")
    check_accessibility(page, "journey-schedule")
    fill_date(page, "date", meeting_day)
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("Location or call link").fill("Committee Room 2")
    page.get_by_role("button", name="Schedule").click()
    assert page.locator("h1").inner_text() == "Agenda"
    check_accessibility(page, "journey-agenda")

    # 3. Three cases with their agencies, published in one go.
    agenda_row(page, 0, "CR/E2E/0001", ["IDVA"])
    agenda_row(page, 1, repeat, ["HOU"])
    agenda_row(page, 2, "CR/E2E/0003", ["IDVA", "NHS"])
    page.get_by_role("button", name="Save and publish the agenda").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Agenda published")
    meeting_url = page.url
    check_accessibility(page, "journey-meeting-published")

    # A partner returns its information before the meeting (in its own browser).
    partner_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    partner = partner_context.new_page()
    sign_in(partner, live_server, "idva@example.org")
    partner.goto(meeting_url)
    cases = partner.locator("[data-testid=case-review]")
    expect(cases).to_have_count(2)
    expect(cases.nth(0)).to_contain_text("CR/E2E/0001")
    check_accessibility(partner, "journey-partner-agenda")
    cases.nth(0).click()
    check_accessibility(partner, "journey-partner-review-before")
    partner.locator("[data-testid=return-link]").click()
    partner.get_by_label("What your agency holds and has done").fill("Known to IDVA since March. Safety plan done.")
    partner.get_by_label("We have been in contact with the people involved").check()
    check_accessibility(partner, "journey-partner-return")
    partner.get_by_role("button", name="Send your agency's information").click()
    assert (
        "Information sent"
        in partner.locator("[data-testid=case-review]").nth(0).locator("xpath=ancestor::li[1]").inner_text()
    )
    partner_context.close()

    # 4–5. Attendance and the confidentiality statement on one form.
    page.get_by_role("link", name="Attendance and the confidentiality statement").click()
    check_accessibility(page, "journey-attendance")
    page.get_by_label("The confidentiality statement was read at the start of the meeting").check()
    housing_line = page.get_by_role("group", name="Demo Housing Officer")
    housing_line.get_by_label("Apologies", exact=True).check()
    page.get_by_role("button", name="Save, marking everyone not yet recorded as present").click()
    # Listed: the people each agency had at its last meeting (for the police, the chair; the demo's
    # other police accounts can be listed on request), or all its members if it never had one.
    expect(page.locator("[data-testid=tasks-during]")).to_contain_text("2 present, 1 apology")

    # 6–7. Matters arising: progress marked in place.
    page.get_by_role("link", name="Matters arising").click()
    check_accessibility(page, "journey-matters-arising")
    first = page.locator("[data-testid=matter-arising]").first
    first.locator("summary").click()
    first.get_by_label("Update").fill("Chased at the meeting: referral made yesterday.")
    first.get_by_role("button", name="Save update").click()
    saved = page.locator("[data-testid=row-saved]")
    expect(saved).to_have_count(1)
    row = saved.locator("xpath=ancestor::*[@data-testid='matter-arising']")
    expect(row).to_contain_text("referral made yesterday")

    # 8–11. Three reviews, each with an action, saved one after another; the chair sees the return.
    page.locator("[data-testid=first-case]").click()
    expect(page.locator("#returns ~ [data-testid=agency-return]").first).to_contain_text("Safety plan done.")
    check_accessibility(page, "journey-review-1")
    record_review(page, dash=15, grade_label="2 – Appropriate, with observations", findings="Prompt attendance.",
                  action=("Complete a safety plan within 48 hours", IDVA), due=due)  # fmt: skip
    expect(page.locator("h1")).to_contain_text("Repeat")
    check_accessibility(page, "journey-review-repeat")
    housing_action = ("Assess for a management move", HOUSING)
    record_review(page, dash=8, grade_label="3 – Inappropriate or inconsistent with policy",
                  findings="No DASH at the scene.", action=housing_action, due=due)  # fmt: skip
    record_review(page, dash=11, grade_label="1 – Consistent with policy", findings="Good joint working.",
                  action=("Attend the court hearing with the victim", IDVA), due=due)  # fmt: skip

    # 12. The approval check has nothing missing; approve.
    expect(page.locator("h1")).to_have_text("Check and approve the minutes")
    expect(page.locator("[data-testid=no-gaps]")).to_be_visible()
    check_accessibility(page, "journey-approval-check")
    page.get_by_role("button", name="Approve the minutes").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Minutes approved")
    expect(page.locator("[data-testid=locked]")).to_be_visible()
    check_accessibility(page, "journey-meeting-approved")
    assert loads.count <= 12, f"the chair's part took {loads.count} page loads"
    assert loads.count == 12  # exactly: every step above is one page load (a stricter check, to notice changes)

    with page.expect_download() as download:
        page.get_by_role("link", name="Approved minutes, revision 1").click()
    assert download.value.suggested_filename.endswith("-r1.pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    page.get_by_role("button", name="Sign out").click()

    # The IDVA partner attended: they see the meeting, their cases and their actions only.
    sign_in(page, live_server, "idva@example.org")
    page.goto(meeting_url)
    partner_reviews = page.locator("[data-testid=case-review]")
    expect(partner_reviews).to_have_count(2)
    assert "Assess for a management move" not in page.locator("main").inner_text()
    hidden = page.locator("[data-testid=hidden-actions-other-cases]").inner_text()
    assert "1 action on cases your agency is not involved in" in hidden
    check_accessibility(page, "journey-partner-meeting")
    page.get_by_role("link", name="Cases").first.click()
    page.get_by_label("Case reference").fill("CR/E2E")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-testid=cases-table] tbody tr")).to_have_count(2)
    check_accessibility(page, "journey-partner-cases")
    page.get_by_role("link", name="CR/E2E/0001").click()
    assert page.locator("h1").inner_text() == "CR/E2E/0001"
    check_accessibility(page, "journey-partner-case")
    page.get_by_role("button", name="Sign out").click()

    # Housing sent apologies, and its case is a repeat it was asked about: it sees that case only.
    sign_in(page, live_server, "housing@example.org")
    page.goto(meeting_url)
    expect(page.locator("[data-testid=case-review]")).to_have_count(1)


def test_the_chair_lists_an_agency_in_full_to_record_someone_not_listed(
    live_server, page, demo, app, check_accessibility
):
    """The attendance form lists each agency's usual line-up; anyone else of an invited agency is listed
    on request, without losing what was chosen, and the page leads to them."""
    from tracker.models import Agency, Meeting, MeetingStatus

    with app.app_context():
        meeting_id = db.session.scalar(
            select(Meeting.id).where(Meeting.status == MeetingStatus.SCHEDULED).order_by(Meeting.starts_at).limit(1)
        )
        police_id = db.session.scalar(select(Agency.id).where(Agency.code == "POL"))
    sign_in(page, live_server, "chair@example.org")
    page.goto(f"{live_server}/meetings/{meeting_id}/attendance")
    page.get_by_label("The confidentiality statement was read at the start of the meeting").check()
    assert page.get_by_role("group", name="Demo Manager").count() == 0  # not the police's usual line-up
    page.get_by_label("Agency whose members to list").select_option(str(police_id))
    page.get_by_role("button", name="List all members of the chosen agency").click()

    listed = page.locator("[data-testid=listed]")
    expect(listed).to_contain_text("is listed now")
    check_accessibility(page, "attendance-listed-in-full")
    assert page.get_by_label("The confidentiality statement was read at the start of the meeting").is_checked()
    listed.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == f"agency-{police_id}"
    page.get_by_role("group", name="Demo Manager").get_by_label("Apologies", exact=True).check()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Attendance saved.")
    expect(page.locator("[data-testid=tasks-during]")).to_contain_text("1 apology")

"""A partner works through overdue actions and asks for more time on one; a chair agrees; the counts change."""

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import sign_in
from tracker.extensions import db
from tracker.models import Meeting, MeetingStatus
from tracker.timeutil import london_today

IDVA = "Independent Domestic Violence Advisor (IDVA) service"


def idva_overdue_on_chair_home(page, base, check_accessibility=None) -> int:
    sign_in(page, base, "chair@example.org")
    row = page.locator("[data-testid=workload] tbody tr", has_text=IDVA)
    overdue = int(row.locator("td").nth(0).inner_text().split()[0])
    if check_accessibility is not None:
        check_accessibility(page, "actions-chair-home")
        page.goto(f"{base}/reports")
        check_accessibility(page, "reports-chair")
    page.get_by_role("button", name="Sign out").click()
    return overdue


def test_partner_updates_asks_for_time_and_completes_overdue_actions(
    live_server, page, demo, check_accessibility, smtp_server
):
    before = idva_overdue_on_chair_home(page, live_server, check_accessibility)
    assert before >= 2

    sign_in(page, live_server, "idva@example.org")
    assert int(page.locator("[data-testid=count-overdue]").inner_text()) == before
    check_accessibility(page, "actions-partner-home")

    page.get_by_role("link", name="overdue").first.click()
    assert page.locator("#overdue").is_checked()
    rows = page.locator("[data-testid=actions-list] tbody tr")
    expect(rows).to_have_count(before)
    check_accessibility(page, "actions-overdue-list")

    # First overdue action: a progress note, then a request for more time, which a chair decides.
    rows.first.locator("a").click()
    reference = page.locator("h1").inner_text().split()[1]
    page.get_by_label("Update").fill("Spoke to the victim; safety plan meeting booked.")
    page.get_by_role("button", name="Save update").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Update saved.")
    assert page.locator("#due-due_date-day").count() == 0  # partners cannot move the date themselves
    new_due = london_today() + timedelta(days=14)
    page.locator("#extension-requested_due_date-day").fill(str(new_due.day))
    page.locator("#extension-requested_due_date-month").fill(str(new_due.month))
    page.locator("#extension-requested_due_date-year").fill(str(new_due.year))
    page.get_by_label("Why is more time needed?").fill("Court hearing adjourned to next month")
    page.get_by_role("button", name="Ask for more time").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Extension requested")
    assert "Overdue" in page.locator("h1").inner_text()  # until a chair agrees
    expect(page.locator("[data-testid=extensions]")).to_contain_text("Court hearing adjourned to next month")
    check_accessibility(page, "actions-action-page")

    # Completing without an outcome is refused with a clear message; then with one it completes.
    page.goto(f"{live_server}/actions?overdue=1")
    expect(page.locator("[data-testid=actions-list] tbody tr a", has_text=reference)).to_have_count(1)
    page.locator("[data-testid=actions-list] tbody tr a").filter(has_not_text=reference).first.click()
    assert page.locator("h1").inner_text().split()[1] != reference
    page.get_by_label("Status").select_option(label="Completed")
    page.get_by_role("button", name="Save update").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the outcome to complete the action")
    check_accessibility(page, "actions-complete-error")
    page.get_by_label("Update").fill("Safety plan agreed and shared with the police.")
    page.get_by_label("Status").select_option(label="Completed")
    page.get_by_role("button", name="Save update").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action completed.")

    page.goto(f"{live_server}/account/calendar")
    page.get_by_role("button", name="Create a calendar link").click()
    assert page.locator("[data-testid=feed-url]").input_value().endswith(".ics")
    check_accessibility(page, "actions-calendar")
    page.get_by_role("link", name="Reports").first.click()
    # The whole page first: reading the charts' titles is not a wait, and a page still arriving had
    # only its first charts.
    page.wait_for_url(f"{live_server}/reports")
    page.wait_for_load_state("load")
    # The period report's charts, each titled for a screen reader, and the agency's overdue actions.
    titles = page.locator(".app-chart svg[role=img] > title").all_text_contents()
    assert "Actions completed on time, by agency" in titles
    expect(page.locator("#overdue")).to_be_visible()
    check_accessibility(page, "reports-partner")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the action summary (PDF)").click()
    assert download.value.suggested_filename.startswith("action-summary-")
    page.get_by_role("button", name="Sign out").click()

    assert idva_overdue_on_chair_home(page, live_server) == before - 1

    # The chair is told, finds the request on the home page and agrees: the action is no longer overdue.
    assert any(reference in message["subject"] for message in smtp_server)
    sign_in(page, live_server, "chair@example.org")
    page.locator("[data-testid=extension-requests] a", has_text=reference).click()
    check_accessibility(page, "actions-extension-decision")
    page.get_by_label("Agree: move the due date").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Extension agreed")
    assert "Overdue" not in page.locator("h1").inner_text()
    # Case search by words and a flag, from the Cases page.
    page.get_by_role("link", name="Cases").first.click()
    page.get_by_label("Words in the summary or findings").fill("referral")
    page.get_by_label("Children in household").check()
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-testid=cases-table], [data-testid=no-cases]")).to_have_count(1)
    check_accessibility(page, "cases-search")
    page.get_by_role("button", name="Sign out").click()
    assert idva_overdue_on_chair_home(page, live_server) == before - 2


def test_the_owner_list_follows_the_owning_agency(live_server, page, app, demo, check_accessibility):
    """A chair raising an action is offered, as its named owner, only the owning agency's members; an
    owner chosen before the agency changed is cleared (app.js). The server refuses any other either way."""
    with app.app_context():
        meeting_id = db.session.scalar(select(Meeting.id).where(Meeting.status == MeetingStatus.IN_PROGRESS))
    sign_in(page, live_server, "chair@example.org")
    page.goto(f"{live_server}/meetings/{meeting_id}/actions/new")
    owners, agency = page.locator("#owner_id"), page.locator("#owning_agency_id")
    groups = "groups => groups.map(group => group.label)"
    everyone = owners.locator("optgroup").evaluate_all(groups)
    assert IDVA in everyone and len(everyone) > 1  # nothing chosen yet: every agency's members

    owners.select_option(label="Demo IDVA Officer")
    agency.select_option(label=IDVA)
    assert owners.locator("optgroup:not([disabled])").evaluate_all(groups) == [IDVA]
    assert owners.input_value() != ""  # the IDVA officer still belongs to the chosen agency
    check_accessibility(page, "raise-action-owner-narrowed")

    police = next(label for label in everyone if label.startswith("Police"))
    agency.select_option(label=police)
    assert owners.locator("optgroup:not([disabled])").evaluate_all(groups) == [police]
    assert owners.input_value() == ""  # the IDVA officer was cleared

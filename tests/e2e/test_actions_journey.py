"""A partner works through overdue actions; the chair sees the counts change."""

from datetime import timedelta

from tests.e2e.conftest import sign_in
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


def test_partner_updates_moves_and_completes_overdue_actions(live_server, page, demo, check_accessibility):
    before = idva_overdue_on_chair_home(page, live_server, check_accessibility)
    assert before >= 2

    sign_in(page, live_server, "idva@example.org")
    assert int(page.locator("[data-testid=count-overdue]").inner_text()) == before
    check_accessibility(page, "actions-partner-home")

    page.get_by_role("link", name="overdue").first.click()
    assert page.locator("#overdue").is_checked()
    rows = page.locator("[data-testid=actions-list] tbody tr")
    assert rows.count() == before
    check_accessibility(page, "actions-overdue-list")

    # First overdue action: a progress note, then a new due date with a reason.
    rows.first.locator("a").click()
    reference = page.locator("h1").inner_text().split()[1]
    page.get_by_label("Update").fill("Spoke to the victim; safety plan meeting booked.")
    page.get_by_role("button", name="Save update").click()
    assert "Update saved." in page.locator(".govuk-notification-banner").inner_text()
    new_due = london_today() + timedelta(days=14)
    page.locator("#due-due_date-day").fill(str(new_due.day))
    page.locator("#due-due_date-month").fill(str(new_due.month))
    page.locator("#due-due_date-year").fill(str(new_due.year))
    page.get_by_label("Reason for the new date").fill("Court hearing adjourned to next month")
    page.get_by_role("button", name="Change due date").click()
    assert "Due date changed" in page.locator(".govuk-notification-banner").inner_text()
    trail = page.locator("[data-testid=trail]").inner_text()
    assert "Court hearing adjourned to next month" in trail and "Spoke to the victim" in trail
    assert "Overdue" not in page.locator("h1").inner_text()
    check_accessibility(page, "actions-action-page")

    # Completing without an outcome is refused with a clear message; then with one it completes.
    page.goto(f"{live_server}/actions?overdue=1")
    page.locator("[data-testid=actions-list] tbody tr").first.locator("a").click()
    assert page.locator("h1").inner_text().split()[1] != reference
    page.get_by_label("Status").select_option(label="Completed")
    page.get_by_role("button", name="Save update").click()
    assert "Enter the outcome to complete the action" in page.locator(".govuk-error-summary").inner_text()
    check_accessibility(page, "actions-complete-error")
    page.get_by_label("Update").fill("Safety plan agreed and shared with the police.")
    page.get_by_label("Status").select_option(label="Completed")
    page.get_by_role("button", name="Save update").click()
    assert "Action completed." in page.locator(".govuk-notification-banner").inner_text()

    page.goto(f"{live_server}/account/calendar")
    page.get_by_role("button", name="Create a calendar link").click()
    assert page.locator("[data-testid=feed-url]").input_value().endswith(".ics")
    check_accessibility(page, "actions-calendar")
    page.get_by_role("link", name="Reports").first.click()
    assert page.locator("svg[role=img] title").text_content() == "Overdue actions by agency"
    check_accessibility(page, "reports-partner")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the action summary (PDF)").click()
    assert download.value.suggested_filename.startswith("action-summary-")
    page.get_by_role("button", name="Sign out").click()

    assert idva_overdue_on_chair_home(page, live_server) == before - 2

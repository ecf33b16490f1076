"""Each demo user signs in, sees their home page and signs out; axe checks every page on the way."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in


@pytest.mark.parametrize(
    "email, heading_caption, nav",
    [
        (
            "admin@example.org",
            "Police – Protecting Vulnerable People unit",
            ["Home", "Users", "Agencies", "Settings", "Legal holds", "Audit log"],  # no case work
        ),
        (
            "chair@example.org",
            "Police – Protecting Vulnerable People unit",
            ["Home", "Meetings", "Actions", "Cases", "Reports"],
        ),
        (
            "manager@example.org",
            "Police – Protecting Vulnerable People unit",
            ["Home", "Meetings", "Actions", "Cases", "Reports"],
        ),
        (
            "idva@example.org",
            "Independent Domestic Violence Advisor (IDVA) service",
            ["Home", "Meetings", "Actions", "Cases", "Reports"],
        ),
        (
            "housing@example.org",
            "Housing – council housing options",
            ["Home", "Meetings", "Actions", "Cases", "Reports"],
        ),
    ],
)
def test_demo_user_signs_in_and_out(live_server, page, demo, check_accessibility, email, heading_caption, nav):
    name = email.split("@")[0]
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile("^" + re.escape(f"{live_server}/sign-in")))
    check_accessibility(page, "sign-in")

    sign_in(page, live_server, email)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("h1")).to_contain_text(heading_caption)
    assert page.locator(".govuk-service-navigation__item").all_inner_texts() == nav
    expect(page.locator(".app-marking")).to_contain_text("OFFICIAL-SENSITIVE")
    check_accessibility(page, f"home-{name}")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server}/sign-in")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile("^" + re.escape(f"{live_server}/sign-in")))


def test_admin_pages_and_error_pages_are_accessible(live_server, page, demo, check_accessibility):
    sign_in(page, live_server, "admin@example.org")
    page.goto(f"{live_server}/admin/users")
    expect(page.locator("[data-testid=users-table] tbody tr")).to_have_count(5)
    page.goto(f"{live_server}/admin/settings")
    check_accessibility(page, "admin-settings")
    page.goto(f"{live_server}/admin/themes")
    check_accessibility(page, "admin-themes")
    page.locator("[data-testid=themes-table] tbody a", has_text="Merge").first.click()
    page.get_by_role("button", name="Merge themes").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the theme to merge it into")
    check_accessibility(page, "admin-merge-theme-errors")
    page.goto(f"{live_server}/admin/users")
    check_accessibility(page, "admin-users")

    page.goto(f"{live_server}/admin/users/new")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_accessibility(page, "admin-new-user-errors")

    page.goto(f"{live_server}/admin/agencies")
    check_accessibility(page, "admin-agencies")

    page.goto(f"{live_server}/admin/audit")
    check_accessibility(page, "admin-audit")
    page.goto(f"{live_server}/admin/audit?case=NO/SUCH/REF")
    check_accessibility(page, "admin-audit-case")
    page.goto(f"{live_server}/admin/retention")
    check_accessibility(page, "admin-legal-holds")

    response = page.goto(f"{live_server}/no-such-page")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    check_accessibility(page, "error-404")


def test_sign_in_error_page_is_accessible(live_server, page, demo, check_accessibility):
    page.goto(f"{live_server}/sign-in")
    page.get_by_label("Email address").fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill("not the right password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Email address or password is wrong")
    check_accessibility(page, "sign-in-error")


def test_a_table_that_scrolls_sideways_can_be_reached_and_scrolled_by_keyboard(
    live_server, page, demo, check_accessibility
):
    """On a phone the meetings table is wider than the screen and scrolls inside its container, which
    then takes focus, named by the table's caption, and scrolls with the arrow keys. On a wide screen it
    does not scroll, and is left out of the tab order."""
    sign_in(page, live_server, "chair@example.org")
    page.goto(f"{live_server}/meetings")
    container = page.locator(".app-table-scroll").first
    expect(container).not_to_have_attribute("tabindex", "0")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(container).to_have_attribute("tabindex", "0")
    region = page.get_by_role("region", name="Upcoming meetings first, then past meetings")
    expect(region).to_have_count(1)
    check_accessibility(page, "meetings-phone")  # axe: a scrolling region must be focusable
    region.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("element => element.scrollLeft > 0", arg=container.element_handle())

    page.set_viewport_size({"width": 1280, "height": 900})
    expect(container).not_to_have_attribute("tabindex", "0")


@pytest.mark.parametrize("email", ["chair@example.org", "idva@example.org"])
def test_pages_reflow_at_320_pixels_wide_without_scrolling_sideways(live_server, page, demo, email):
    """WCAG 1.4.10: at 320 CSS pixels the page itself never scrolls sideways (a wide table scrolls inside
    its own container). The account bar's links wrap."""
    page.set_viewport_size({"width": 320, "height": 700})
    sign_in(page, live_server, email)
    for path in ("/", "/actions", "/meetings", "/reports"):
        page.goto(f"{live_server}{path}")
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], (path, widths)

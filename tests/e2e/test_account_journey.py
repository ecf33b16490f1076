"""Two-step verification and password links in the browser, with axe on every page."""

import re
import time

import pyotp
from playwright.sync_api import expect

from tests.e2e.conftest import demo_code, sign_in


def test_second_step_and_moving_to_a_new_app(live_server, page, demo, check_accessibility):
    from tracker.demo import DEMO_PASSWORD

    page.goto(f"{live_server}/sign-in")
    page.get_by_label("Email address").fill("chair@example.org")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/sign-in/code")
    check_accessibility(page, "sign-in-code")
    from tracker.demo import DEMO_TOTP_SECRET

    totp = pyotp.TOTP(DEMO_TOTP_SECRET)
    valid_now = {totp.at(time.time(), counter_offset=offset) for offset in (-1, 0, 1)}
    page.get_by_label("Code").fill(
        next(code for code in ("000000", "111111", "222222", "333333") if code not in valid_now)
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is wrong")
    check_accessibility(page, "sign-in-code-error")
    page.get_by_label("Code").fill(demo_code(live_server, "chair@example.org"))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{live_server}/")

    page.get_by_role("link", name="Two-step verification").click()
    check_accessibility(page, "two-step")
    page.get_by_role("button", name="Move to a new authenticator app").click()
    expect(page).to_have_url(re.compile("^" + re.escape(f"{live_server}/account/confirm-password")))
    check_accessibility(page, "confirm-password")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{live_server}/account/two-step/set-up")
    page.get_by_text("I cannot scan the QR code").click()
    check_accessibility(page, "two-step-set-up")
    secret = re.sub(r"\s", "", page.get_by_test_id("secret-key").inner_text())
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Check the code and finish setting up").click()
    expect(page.get_by_test_id("recovery-codes").locator("code")).to_have_count(10)
    check_accessibility(page, "recovery-codes")
    page.get_by_role("button", name="I have saved my recovery codes – continue").click()
    expect(page).to_have_url(f"{live_server}/account/two-step")


def test_forgotten_password_by_email(live_server, page, demo, smtp_server, check_accessibility):
    page.goto(f"{live_server}/sign-in")
    page.get_by_role("link", name="Forgotten your password?").click()
    check_accessibility(page, "forgot-password")
    page.get_by_label("Email address").fill("housing@example.org")
    page.get_by_role("button", name="Send me a link").click()
    expect(page).to_have_url(f"{live_server}/sign-in")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("If there is an account with that email address")

    [mail] = smtp_server
    path = re.search(r"/set-password/\S+", mail["body"]).group(0)
    page.goto(f"{live_server}{path}")
    check_accessibility(page, "set-password")
    page.get_by_label("New password", exact=True).fill("amber orchard lantern ridge")
    page.get_by_label("Confirm new password").fill("amber orchard lantern ridge")
    page.get_by_role("button", name="Save password").click()
    expect(page).to_have_url(f"{live_server}/sign-in")
    page.goto(f"{live_server}{path}")
    assert page.locator("h1").inner_text() == "This link does not work"
    check_accessibility(page, "link-not-valid")


def test_admin_resets_a_chairs_app_and_the_chair_sets_up_a_new_one_at_sign_in(
    live_server, page, demo, check_accessibility
):
    from tracker.demo import DEMO_PASSWORD

    sign_in(page, live_server, "admin@example.org")
    page.goto(f"{live_server}/admin/users?q=chair")
    page.get_by_role("link", name="Demo Chair").click()
    check_accessibility(page, "admin-user")
    page.get_by_role("button", name="Reset two-step verification").click()
    check_accessibility(page, "admin-reset-second-factor")
    page.get_by_role("button", name="Reset two-step verification").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Two-step verification reset")
    page.get_by_role("button", name="Sign out").click()

    page.get_by_label("Email address").fill("chair@example.org")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/sign-in/set-up")
    assert page.locator("h1").inner_text() == "Set up two-step verification"
    check_accessibility(page, "sign-in-set-up")
    page.get_by_role("button", name="Check the code and finish setting up").click()
    check_accessibility(page, "sign-in-set-up-error")
    page.get_by_text("I cannot scan the QR code").click()
    secret = re.sub(r"\s", "", page.get_by_test_id("secret-key").inner_text())
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Check the code and finish setting up").click()
    page.get_by_role("button", name="I have saved my recovery codes – continue").click()
    expect(page).to_have_url(f"{live_server}/")

"""Two-step verification: TOTP codes (single use, throttled), recovery codes, set-up at first sign-in,
a fresh sign-in before any change, and the administrator's reset."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from tests.conftest import (
    PASSWORD,
    current_code,
    enter_code,
    error_messages,
    get_page,
    parse,
    sign_in,
    text_of,
)
from tracker.demo import DEMO_TOTP_SECRET
from tracker.extensions import db
from tracker.models import AuditEvent, LoginFailure, RecoveryCode, SecondFactor, UserSession
from tracker.timeutil import utcnow


def audit(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def factor_of(app, user):
    with app.app_context():
        factor = db.session.get(SecondFactor, user.id)
        if factor is not None:
            db.session.expunge(factor)
        return factor


def password_step(client, user):
    return client.post("/sign-in", data={"email": user.email, "password": user.password})


def set_up_at_sign_in(client, app, user) -> list[str]:
    """Sign in as a user with no second factor, set up the app, and return the recovery codes shown."""
    assert password_step(client, user).headers["Location"] == "/sign-in/set-up"
    get_page(client, "/sign-in/set-up")
    secret = factor_of(app, user).pending_secret
    page = parse(client.post("/sign-in/set-up", data={"code": pyotp.TOTP(secret).now()}))
    return [text_of(code) for code in page.select("[data-testid=recovery-codes] code")]


@pytest.mark.parametrize("role", ["admin", "chair", "manager"])
def test_required_roles_set_up_an_app_at_first_sign_in_before_anything_else(client, app, make_user, role):
    user = make_user(role, second_factor=None)
    response = password_step(client, user)
    assert response.headers["Location"] == "/sign-in/set-up"
    # The password alone opens nothing: no session exists yet.
    assert client.get("/").headers["Location"].startswith("/sign-in")
    with app.app_context():
        assert db.session.scalar(select(func.count(UserSession.id))) == 0

    page = get_page(client, "/sign-in/set-up")
    assert text_of(page.h1) == "Set up two-step verification"
    assert "Your role needs two-step verification" in text_of(page.main)
    assert page.select_one("button[name=skip]") is None  # not optional for this role
    # The QR code is an SVG drawn on the server, shown as an image with a text alternative.
    image = page.select_one("img.app-qr-code")
    assert image["alt"].startswith("QR code") and image["src"].startswith("data:image/svg+xml")
    svg = BeautifulSoup(unquote(image["src"].split(",", 1)[1]), "xml")
    assert svg.find("svg") is not None and svg.find("path") is not None
    secret = factor_of(app, user).pending_secret
    assert text_of(page.select_one("[data-testid=secret-key]")).replace(" ", "") == secret

    # Putting it off is not possible: the button is ignored and the code is asked for.
    refused = client.post("/sign-in/set-up", data={"skip": "Not now", "code": ""})
    assert error_messages(parse(refused)) == {"code": "Enter the 6-digit code from your authenticator app"}
    wrong = client.post("/sign-in/set-up", data={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "1"})
    assert "code" in error_messages(parse(wrong))
    assert factor_of(app, user).secret is None

    done = client.post("/sign-in/set-up", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    page = parse(done)
    codes = [text_of(code) for code in page.select("[data-testid=recovery-codes] code")]
    assert len(codes) == len(set(codes)) == 10
    assert page.select_one("a.govuk-button")["href"] == "/"
    assert get_page(client, "/").select_one("h1")  # signed in now

    factor = factor_of(app, user)
    assert factor.secret == secret and factor.pending_secret is None and factor.confirmed_at is not None
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)
    assert len(audit(app, "second_factor_set_up")) == 1
    [signed_in] = audit(app, "sign_in")
    assert signed_in.user_id == user.id and "authenticator app" in signed_in.detail
    # The key never reaches the audit log.
    with app.app_context():
        assert not any(secret in (e.detail or "") for e in db.session.scalars(select(AuditEvent)))


def test_partners_are_offered_it_once_and_may_say_not_now(client, app, make_user):
    partner = make_user("partner", second_factor=None)
    assert password_step(client, partner).headers["Location"] == "/sign-in/set-up"
    page = get_page(client, "/sign-in/set-up")
    assert text_of(page.select_one("button[name=skip]")) == "Not now"
    response = client.post("/sign-in/set-up", data={"skip": "Not now"})
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert len(audit(app, "second_factor_declined")) == 1
    client.post("/sign-out")
    # Not asked again.
    assert sign_in(client, partner.email, partner.password).headers["Location"] == "/"


def test_a_partner_can_set_it_up_when_offered_and_then_always_needs_a_code(client, app, make_user):
    partner = make_user("partner", second_factor=None)
    assert len(set_up_at_sign_in(client, app, partner)) == 10
    client.post("/sign-out")
    assert password_step(client, partner).headers["Location"] == "/sign-in/code"


def test_a_wrong_code_signs_nobody_in_and_counts_as_a_failure(client, app, make_user):
    chair = make_user("chair")
    assert password_step(client, chair).headers["Location"] == "/sign-in/code"
    right = current_code(app, chair.email)
    wrong = "123456" if right != "123456" else "654321"
    page = parse(client.post("/sign-in/code", data={"code": wrong}))
    assert error_messages(page) == {"code": "The code is wrong or has expired. Enter the code your app shows now"}
    assert client.get("/").headers["Location"].startswith("/sign-in")
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginFailure.id))) == 1
    [failed] = audit(app, "second_factor_failed")
    assert failed.user_id == chair.id and wrong not in failed.detail
    assert enter_code(client, chair.email).headers["Location"] == "/"


def test_a_code_is_accepted_only_once(client, app, make_user):
    chair = make_user("chair")
    password_step(client, chair)
    code = current_code(app, chair.email)
    assert client.post("/sign-in/code", data={"code": code}).headers["Location"] == "/"
    client.post("/sign-out")

    # Someone who saw the code (and knows the password) cannot use it again, even within its 30 seconds.
    other = app.test_client()
    password_step(other, chair)
    page = parse(other.post("/sign-in/code", data={"code": code}))
    assert error_messages(page) == {
        "code": "That code has already been used. Wait for your app to show a new code, then enter it"
    }
    assert other.get("/").headers["Location"].startswith("/sign-in")
    assert "code already used" in audit(app, "second_factor_failed")[0].detail


def test_codes_from_earlier_steps_are_refused_after_a_later_one_was_used(app, make_user):
    from tracker.auth.two_step import matching_step

    now = utcnow()
    totp = pyotp.TOTP(DEMO_TOTP_SECRET)
    step = totp.timecode(now)
    previous = totp.generate_otp(step - 1)
    assert matching_step(DEMO_TOTP_SECRET, previous, after_step=None, now=now) == step - 1
    assert matching_step(DEMO_TOTP_SECRET, previous, after_step=step, now=now) is None
    # Outside one step either side of now, a code is refused.
    assert matching_step(DEMO_TOTP_SECRET, totp.generate_otp(step - 2), after_step=None, now=now) is None
    assert matching_step(DEMO_TOTP_SECRET, totp.generate_otp(step + 2), after_step=None, now=now) is None
    for nonsense in ("", "12345", "1234567", "abcdef", "１２３４５６"):
        assert matching_step(DEMO_TOTP_SECRET, nonsense, after_step=None, now=now) is None


def test_wrong_codes_are_throttled_like_passwords(client, app, make_user):
    chair = make_user("chair")
    password_step(client, chair)
    right = current_code(app, chair.email)
    wrong = "111111" if right != "111111" else "222222"
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert client.post("/sign-in/code", data={"code": wrong}).status_code == 200
    # Even the right code is not checked while throttled, and starting again does not help.
    assert client.post("/sign-in/code", data={"code": right}).status_code == 429
    assert password_step(app.test_client(), chair).status_code == 429
    assert audit(app, "sign_in_throttled")


def test_a_recovery_code_works_once_instead_of_the_app(client, app, make_user):
    chair = make_user("chair", second_factor=None)
    codes = set_up_at_sign_in(client, app, chair)
    client.post("/sign-out")

    password_step(client, chair)
    typed = codes[3].upper().replace("-", " ")  # spaces, dashes and capitals do not matter
    assert client.post("/sign-in/code", data={"code": typed}).headers["Location"] == "/"
    [used] = audit(app, "recovery_code_used")
    assert used.user_id == chair.id and used.detail == "9 left"
    assert "recovery code" in audit(app, "sign_in")[-1].detail
    client.post("/sign-out")

    password_step(client, chair)
    assert "code" in error_messages(parse(client.post("/sign-in/code", data={"code": codes[3]})))
    assert client.get("/").headers["Location"].startswith("/sign-in")


def test_the_second_step_needs_a_password_checked_in_the_last_ten_minutes(client, app, make_user):
    assert client.get("/sign-in/code").headers["Location"] == "/sign-in"
    assert client.get("/sign-in/set-up").headers["Location"] == "/sign-in"
    chair = make_user("chair")
    password_step(client, chair)
    with client.session_transaction() as session:
        state = session["pending_sign_in"]
        session["pending_sign_in"] = {**state, "at": state["at"] - timedelta(minutes=11).total_seconds()}
    response = client.post("/sign-in/code", data={"code": current_code(app, chair.email)})
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/").headers["Location"].startswith("/sign-in")


# From the account: a fresh sign-in before any change -----------------------------------------


def confirm_password(client, password=PASSWORD):
    return client.post("/account/confirm-password", data={"password": password})


def test_changing_the_app_needs_the_password_again_and_keeps_the_old_app_until_the_new_one_works(client, app, login_as):
    chair = login_as("chair")
    page = get_page(client, "/account/two-step")
    assert text_of(page.select_one(".govuk-summary-list__value")) == "On"
    assert page.find("a", string=lambda s: s and "Turn off" in s) is None  # required for a chair

    response = client.get("/account/two-step/set-up")
    assert response.headers["Location"] == "/account/confirm-password?next=/account/two-step/set-up"
    wrong = client.post("/account/confirm-password?next=/account/two-step/set-up", data={"password": "not it at all"})
    assert error_messages(parse(wrong)) == {"password": "Your password is wrong"}
    assert len(audit(app, "password_confirmation_failed")) == 1
    assert client.get("/account/two-step/set-up").status_code == 302
    right = client.post("/account/confirm-password?next=/account/two-step/set-up", data={"password": PASSWORD})
    assert right.headers["Location"] == "/account/two-step/set-up"

    page = get_page(client, "/account/two-step/set-up")
    assert text_of(page.h1) == "Move to a new authenticator app"
    new_secret = factor_of(app, chair).pending_secret
    assert new_secret != DEMO_TOTP_SECRET and factor_of(app, chair).secret == DEMO_TOTP_SECRET
    done = parse(client.post("/account/two-step/set-up", data={"code": pyotp.TOTP(new_secret).now()}))
    assert len(done.select("[data-testid=recovery-codes] code")) == 10
    assert factor_of(app, chair).secret == new_secret
    assert len(audit(app, "second_factor_changed")) == 1


def test_the_password_confirmation_lapses_after_ten_minutes(client, login_as):
    login_as("chair")
    confirm_password(client)
    assert client.get("/account/two-step/set-up").status_code == 200
    with client.session_transaction() as session:
        session["reauthenticated_at"] -= timedelta(minutes=11).total_seconds()
    assert client.get("/account/two-step/set-up").headers["Location"].startswith("/account/confirm-password")


def test_wrong_password_confirmations_are_throttled(client, app, login_as):
    login_as("chair")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        confirm_password(client, "not the password")
    assert confirm_password(client).status_code == 429


def test_new_recovery_codes_replace_the_old_ones(client, app, login_as):
    chair = login_as("chair")
    assert client.get("/account/two-step/recovery-codes").headers["Location"].startswith("/account/confirm-password")
    confirm_password(client)
    first = parse(client.post("/account/two-step/recovery-codes"))
    second = parse(client.post("/account/two-step/recovery-codes"))
    old = [text_of(c) for c in first.select("[data-testid=recovery-codes] code")]
    new = [text_of(c) for c in second.select("[data-testid=recovery-codes] code")]
    assert len(new) == 10 and not set(old) & set(new)
    client.post("/sign-out")
    password_step(client, chair)
    assert "code" in error_messages(parse(client.post("/sign-in/code", data={"code": old[0]})))
    assert client.post("/sign-in/code", data={"code": new[0]}).headers["Location"] == "/"
    assert len(audit(app, "recovery_codes_replaced")) == 2


def test_a_partner_may_turn_it_off_after_confirming_their_password_and_a_chair_may_not(client, app, make_user):
    partner = make_user("partner", second_factor="app")
    sign_in(client, partner.email, partner.password)
    assert client.get("/account/two-step/turn-off").headers["Location"].startswith("/account/confirm-password")
    assert client.post("/account/two-step/turn-off").headers["Location"].startswith("/account/confirm-password")
    assert factor_of(app, partner).secret is not None
    confirm_password(client)
    page = get_page(client, "/account/two-step/turn-off")
    assert text_of(page.h1) == "Are you sure you want to turn off two-step verification?"
    assert client.post("/account/two-step/turn-off").headers["Location"] == "/account/two-step"
    assert factor_of(app, partner).secret is None
    assert len(audit(app, "second_factor_turned_off")) == 1
    client.post("/sign-out")
    assert sign_in(client, partner.email, partner.password).headers["Location"] == "/"

    chair_client = app.test_client()
    chair = make_user("chair")
    sign_in(chair_client, chair.email, chair.password)
    confirm_password(chair_client)
    assert chair_client.get("/account/two-step/turn-off").status_code == 404
    assert chair_client.post("/account/two-step/turn-off").status_code == 404
    assert factor_of(app, chair).secret == DEMO_TOTP_SECRET


# The administrator's reset ------------------------------------------------------------------


def test_an_admin_resets_a_users_second_factor_which_is_audited_and_signs_them_out(client, app, login_as, make_user):
    admin = login_as("admin")
    chair = make_user("chair", name="Lost Phone")
    device = app.test_client()
    sign_in(device, chair.email, chair.password)
    assert device.get("/").status_code == 200

    page = get_page(client, f"/admin/users/{chair.id}")
    assert "authenticator app" in text_of(page.select_one("[data-testid=second-factor-status]"))
    confirm = get_page(client, f"/admin/users/{chair.id}/second-factor/reset")
    assert "Reset two-step verification?" in text_of(confirm.h1)
    assert client.post(f"/admin/users/{chair.id}/second-factor/reset").headers["Location"] == f"/admin/users/{chair.id}"

    assert factor_of(app, chair) is None
    with app.app_context():
        assert db.session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == chair.id)) == 0
    assert device.get("/").headers["Location"].startswith("/sign-in")
    [event] = audit(app, "second_factor_reset")
    assert (event.user_id, event.object_type, event.object_id) == (admin.id, "users", str(chair.id))
    page = get_page(client, f"/admin/users/{chair.id}")
    assert "they will set it up when they next sign in" in text_of(
        page.select_one("[data-testid=second-factor-status]")
    )
    # At the next sign-in the user sets up a new app.
    assert password_step(app.test_client(), chair).headers["Location"] == "/sign-in/set-up"


# The demo -----------------------------------------------------------------------------------


def test_demo_code_prints_the_code_for_demo_accounts_only(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["demo-code", "chair@example.org"])
    assert result.exit_code == 0, result.output
    code = result.stdout.strip()
    assert len(code) == 6 and code.isdigit()
    assert code in {pyotp.TOTP(DEMO_TOTP_SECRET).at(utcnow(), counter_offset=offset) for offset in (0, 1)}
    assert runner.invoke(args=["demo-code", "nobody@example.org"]).exit_code != 0


def test_demo_code_gives_the_next_code_once_the_current_one_is_used(client, app):
    app.test_cli_runner().invoke(args=["seed-demo"])
    first = app.test_cli_runner().invoke(args=["demo-code", "manager@example.org"]).stdout.strip()
    client.post("/sign-in", data={"email": "manager@example.org", "password": "demo-password-2026"})
    assert client.post("/sign-in/code", data={"code": first}).headers["Location"] == "/"
    second = app.test_cli_runner().invoke(args=["demo-code", "manager@example.org"]).stdout.strip()
    assert second != first
    other = app.test_client()
    other.post("/sign-in", data={"email": "manager@example.org", "password": "demo-password-2026"})
    assert other.post("/sign-in/code", data={"code": second}).headers["Location"] == "/"


def test_demo_code_refuses_in_production(database_uri):
    from tests.production_settings import SAFE_PRODUCTION
    from tracker import create_app

    app = create_app(
        "production",
        SAFE_PRODUCTION | {"SQLALCHEMY_DATABASE_URI": database_uri, "ALLOW_SQLITE_IN_PRODUCTION": True},
    )
    result = app.test_cli_runner().invoke(args=["demo-code", "chair@example.org"])
    assert result.exit_code != 0 and "refuses to run in production" in result.output


def test_the_demo_key_is_nowhere_in_the_configuration():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assert DEMO_TOTP_SECRET not in (root / "config.py").read_text()
    holders = [p for p in (root / "tracker").rglob("*.py") if DEMO_TOTP_SECRET in p.read_text()]
    assert [p.name for p in holders] == ["demo.py"]


def test_totp_secrets_are_random_and_160_bits(app):
    from tracker.auth.two_step import new_secret

    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(len(pyotp.TOTP(s).byte_secret()) == 20 for s in secrets)


def test_a_code_used_by_another_request_meanwhile_is_refused(app, make_user):
    """Two requests with the same code at once: the one that reads before the other commits must still
    lose, so the step is claimed in one conditional UPDATE rather than read, compared and written."""
    from sqlalchemy import update

    from tracker.auth import operations
    from tracker.models import User

    chair = make_user("chair")
    code = current_code(app, chair.email)
    step = pyotp.TOTP(DEMO_TOTP_SECRET).timecode(utcnow())
    with app.test_request_context():
        user = db.session.get(User, chair.id)
        already_loaded = db.session.get(SecondFactor, chair.id)  # this request read it before the other wrote
        assert already_loaded.last_used_step is None
        with db.engine.begin() as other_request:
            other_request.execute(
                update(SecondFactor).where(SecondFactor.user_id == chair.id).values(last_used_step=step + 1)
            )
        result = operations.check_second_factor(user, code, "192.0.2.1")
        assert result.method is None and result.replayed

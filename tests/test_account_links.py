"""Invitations and password resets by e-mail: one-time links, stored hashed, that expire; an admin
never sets or sees a password; "forgotten your password" never says whether an account exists."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import error_messages, get_page, parse, sign_in, text_of
from tracker.extensions import db
from tracker.models import AccountToken, AuditEvent, User
from tracker.timeutil import utcnow

NEW_PASSWORD = "amber orchard lantern ridge"


def audit(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def link_in(mail) -> str:
    """The path of the one link in an e-mail (the service address is http://127.0.0.1:5000 in tests)."""
    [url] = re.findall(r"https?://\S+/set-password/\S+", mail["body"])
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def tokens(app):
    with app.app_context():
        rows = list(db.session.scalars(select(AccountToken).order_by(AccountToken.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def choose(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"new_password": password, "confirm_password": confirm or password})


@pytest.fixture
def admin(login_as):
    return login_as("admin")


def test_an_invited_user_chooses_their_password_from_the_email_once(client, app, admin, make_agency, smtp_server):
    agency = make_agency(code="IDVA")
    client.post(
        "/admin/users/new",
        data={"email": "invited@example.org", "display_name": "Invited Person", "role": "partner",
              "agency_id": str(agency.id)},
    )  # fmt: skip
    [mail] = smtp_server
    assert mail["to"] == ["invited@example.org"]
    assert mail["subject"] == "Your account on the Domestic abuse scrutiny tracker"
    assert "expires in 72 hours" in mail["body"]
    path = link_in(mail)
    token = path.rsplit("/", 1)[1]

    # Only the SHA-256 of the token is stored, and it expires 72 hours after it was made.
    [record] = tokens(app)
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in record.token_hash
    assert record.purpose == "invitation" and record.expires_at - record.created_at == timedelta(hours=72)
    with app.app_context():
        assert not any(token in (e.detail or "") for e in db.session.scalars(select(AuditEvent)))

    newcomer = app.test_client()
    page = get_page(newcomer, path)
    assert text_of(page.h1) == "Choose your password"
    assert "invited@example.org" in text_of(page.main)
    weak = choose(newcomer, path, "password1234")
    assert "new_password" in error_messages(parse(weak))
    mismatched = choose(newcomer, path, NEW_PASSWORD, "amber orchard lantern")
    assert error_messages(parse(mismatched)) == {"confirm_password": "The passwords do not match"}
    assert choose(newcomer, path).headers["Location"] == "/sign-in"
    assert tokens(app)[0].used_at is not None
    assert len(audit(app, "invitation_accepted")) == 1

    # The link works once.
    again = newcomer.get(path)
    assert again.status_code == 404 and text_of(parse(again).h1) == "This link does not work"
    assert choose(app.test_client(), path, "another long passphrase here").status_code == 404
    # The partner signs in with their own password (and is offered two-step verification).
    assert sign_in(app.test_client(), "invited@example.org", NEW_PASSWORD).headers["Location"] == "/sign-in/set-up"


def test_an_admin_sends_a_reset_link_which_ends_sessions_once_used(client, app, admin, make_user, smtp_server):
    target = make_user("partner")
    device = app.test_client()
    sign_in(device, target.email, target.password)
    page = get_page(client, f"/admin/users/{target.id}")
    assert page.select("input[type=password]") == []
    response = client.post(f"/admin/users/{target.id}/password-reset")
    assert response.headers["Location"] == f"/admin/users/{target.id}"
    [mail] = smtp_server
    assert mail["to"] == [target.email] and "expires in 1 hour" in mail["body"]
    [record] = tokens(app)
    assert record.purpose == "password_reset" and record.expires_at - record.created_at == timedelta(hours=1)
    [sent] = audit(app, "password_reset_sent")
    assert sent.user_id == admin.id and sent.object_id == str(target.id)

    # Sending it changed nothing yet: the old password still works until the link is used.
    assert device.get("/").status_code == 200
    path = link_in(mail)
    assert text_of(get_page(app.test_client(), path).h1) == "Choose a new password"
    assert choose(app.test_client(), path).headers["Location"] == "/sign-in"
    assert device.get("/").headers["Location"].startswith("/sign-in")
    assert sign_in(app.test_client(), target.email, target.password).status_code == 200  # the old one: refused
    assert sign_in(app.test_client(), target.email, NEW_PASSWORD).headers["Location"] == "/"
    assert len(audit(app, "password_reset_used")) == 1


def test_a_new_link_replaces_the_old_one(client, app, admin, make_user, smtp_server):
    target = make_user("partner")
    client.post(f"/admin/users/{target.id}/password-reset")
    client.post(f"/admin/users/{target.id}/password-reset")
    first, second = (link_in(mail) for mail in smtp_server)
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200


@pytest.mark.parametrize("purpose, hours", [("invitation", 72), ("password_reset", 1)])
def test_links_expire(app, make_user, purpose, hours):
    from tracker.auth import tokens as account_tokens
    from tracker.models import TokenPurpose

    target = make_user("partner")
    with app.test_request_context():
        token = account_tokens.issue(db.session.get(User, target.id), TokenPurpose(purpose))
        db.session.commit()
    client = app.test_client()
    assert client.get(f"/set-password/{token}").status_code == 200
    with app.app_context():
        record = db.session.scalar(select(AccountToken))
        assert record.expires_at - record.created_at == timedelta(hours=hours)
        record.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get(f"/set-password/{token}").status_code == 404
    assert choose(client, f"/set-password/{token}").status_code == 404


def test_links_of_a_deactivated_account_do_not_work(client, app, admin, make_user, smtp_server):
    target = make_user("partner")
    client.post(f"/admin/users/{target.id}/password-reset")
    client.post(f"/admin/users/{target.id}/deactivate")
    assert app.test_client().get(link_in(smtp_server[0])).status_code == 404
    assert client.post(f"/admin/users/{target.id}/password-reset").headers["Location"] == f"/admin/users/{target.id}"
    assert len(smtp_server) == 1


@pytest.mark.parametrize("token", ["x", "a" * 43, "a" * 500, "%00", "%E2%80%AE", "..%5C..%5Cetc"])
def test_made_up_links_are_not_found(client, token):
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 404
    assert text_of(parse(response).h1) == "This link does not work"


def test_an_invitation_can_be_sent_again_to_someone_who_has_not_accepted(client, app, admin, make_agency, smtp_server):
    client.post(
        "/admin/users/new",
        data={"email": "slow@example.org", "display_name": "Slow Person", "role": "chair",
              "agency_id": str(make_agency().id)},
    )  # fmt: skip
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "slow@example.org"))
    page = get_page(client, f"/admin/users/{user_id}")
    buttons = [text_of(b) for b in page.select("main form button")]
    assert "Send a new invitation" in buttons and "Send a password reset link" not in buttons
    client.post(f"/admin/users/{user_id}/invitation")
    assert len(smtp_server) == 2
    assert app.test_client().get(link_in(smtp_server[0])).status_code == 404
    assert choose(app.test_client(), link_in(smtp_server[1])).headers["Location"] == "/sign-in"
    # A chair then sets up two-step verification at the first sign-in.
    assert sign_in(app.test_client(), "slow@example.org", NEW_PASSWORD).headers["Location"] == "/sign-in/set-up"


# Forgotten password ---------------------------------------------------------------------------


def forgot(client, email):
    response = client.post("/forgot-password", data={"email": email})
    banner = parse(client.get(response.headers["Location"])).select_one(".govuk-notification-banner")
    return response.status_code, response.headers["Location"], text_of(banner)


def test_forgotten_password_never_says_whether_an_account_exists(app, make_user, smtp_server):
    known = make_user("partner", email="known@example.org")
    gone = make_user("partner", email="gone@example.org", active=False)
    answers = {
        email: forgot(app.test_client(), email) for email in ("KNOWN@example.org", "nobody@example.org", gone.email)
    }
    assert len(set(answers.values())) == 1
    status, location, banner = answers["nobody@example.org"]
    assert (status, location) == (302, "/sign-in")
    assert banner.startswith("Success If there is an account with that email address, we have sent it a link")
    # Only the active account with that address got an e-mail.
    assert [mail["to"] for mail in smtp_server] == [[known.email]]
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.detail.contains("nobody"))) == 0
    assert choose(app.test_client(), link_in(smtp_server[0])).headers["Location"] == "/sign-in"
    assert sign_in(app.test_client(), known.email, NEW_PASSWORD).headers["Location"] == "/"


def test_forgotten_password_sends_at_most_one_email_every_few_minutes(app, make_user, smtp_server):
    make_user("partner", email="flooded@example.org")
    for _ in range(3):
        forgot(app.test_client(), "flooded@example.org")
    assert len(smtp_server) == 1
    with app.app_context():
        record = db.session.scalar(select(AccountToken))
        record.created_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
    forgot(app.test_client(), "flooded@example.org")
    assert len(smtp_server) == 2


def test_sign_in_page_links_to_forgotten_password_and_the_form_checks_its_input(client):
    page = get_page(client, "/sign-in")
    assert page.find("a", string="Forgotten your password?")["href"] == "/forgot-password"
    form = get_page(client, "/forgot-password")
    assert text_of(form.h1) == "Forgotten your password"
    empty = client.post("/forgot-password", data={"email": ""})
    assert error_messages(parse(empty)) == {"email": "Enter your email address"}


def test_a_reset_clears_the_accounts_sign_in_failures(app, make_user, smtp_server):
    target = make_user("partner")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        sign_in(app.test_client(), target.email, "wrong password guess")
    assert sign_in(app.test_client(), target.email, target.password).status_code == 429
    forgot(app.test_client(), target.email)
    choose(app.test_client(), link_in(smtp_server[0]))
    assert sign_in(app.test_client(), target.email, NEW_PASSWORD).headers["Location"] == "/"


def test_no_link_is_mailed_when_the_request_fails(app, admin, client, make_user, smtp_server, monkeypatch):
    """E-mail goes through the outbox after the commit: a request that fails mails nothing."""
    from tracker.auth import operations

    target = make_user("partner")

    def fail_after_queueing(user):
        operations.send_account_link(user, operations.TokenPurpose.PASSWORD_RESET)
        raise RuntimeError("something broke after the link was issued")

    from tracker.admin import operations as admin_operations

    monkeypatch.setattr(admin_operations, "send_password_reset", fail_after_queueing)
    assert client.post(f"/admin/users/{target.id}/password-reset").status_code == 500
    assert smtp_server == [] and tokens(app) == []


def test_a_link_spent_by_another_request_meanwhile_sets_no_password(app, make_user):
    """The same link posted twice at once: the request that read it before the other spent it must
    still lose, so spending is one conditional UPDATE."""
    from sqlalchemy import update

    from tracker.auth import operations
    from tracker.auth import tokens as account_tokens
    from tracker.auth.passwords import verify_password
    from tracker.models import TokenPurpose

    target = make_user("partner")
    with app.test_request_context():
        token = account_tokens.issue(db.session.get(User, target.id), TokenPurpose.PASSWORD_RESET)
        db.session.commit()
    with app.test_request_context():
        record = account_tokens.usable(token)  # this request found the link open
        with db.engine.begin() as other_request:
            other_request.execute(update(AccountToken).values(used_at=utcnow()))
        assert operations.set_password_with_link(record, NEW_PASSWORD) is None
        db.session.commit()
    with app.app_context():
        assert not verify_password(db.session.get(User, target.id).password_hash, NEW_PASSWORD)

"""flask send-reminders: digests, SPOC fallback, escalation, idempotence, dry run — over real SMTP."""

import smtplib

import pytest
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Action, AuditEvent, ReminderSent, Role, User


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def people(agencies, make_user):
    return {
        "chair": make_user("chair", agencies["POL"], email="chair@example.org"),
        "owner": make_user("partner", agencies["IDVA"], email="owner@example.org"),
        "spoc": make_user("partner", agencies["IDVA"], email="spoc@example.org", is_spoc=True),
        "housing_spoc": make_user("partner", agencies["HOU"], email="housing.spoc@example.org", is_spoc=True),
    }


@pytest.fixture
def actions(app, agencies, people, make_meeting, add_review, add_action):
    meeting_id = make_meeting(-30, chair=people["chair"])
    review_id = add_review(meeting_id, "CR/SECRET/REF")
    ids = {
        "owned_due_soon": add_action(
            meeting_id, agencies["IDVA"], review_id=review_id, due_in_days=2, description="Private case narrative here"
        ),
        "unowned_overdue": add_action(meeting_id, agencies["IDVA"], due_in_days=-3),
        "long_overdue": add_action(meeting_id, agencies["HOU"], due_in_days=-10),
        "far_off": add_action(meeting_id, agencies["IDVA"], due_in_days=20),
        "closed": add_action(meeting_id, agencies["IDVA"], due_in_days=-10, status="completed"),
    }
    with app.app_context():
        db.session.get(Action, ids["owned_due_soon"]).owner_id = people["owner"].id
        db.session.commit()
    return ids


def run(app, *args):
    return app.test_cli_runner().invoke(args=["send-reminders", *args])


def by_recipient(received):
    return {(message["to"][0], message["subject"].split(":")[0]): message for message in received}


def test_digests_and_escalations_go_to_the_right_people(app, smtp_server, people, actions):
    result = run(app)
    assert result.exit_code == 0, result.output
    sent = by_recipient(smtp_server)
    assert set(sent) == {
        ("owner@example.org", "Actions to follow up"),  # owns the action due soon
        ("spoc@example.org", "Actions to follow up"),  # the unowned overdue action goes to the SPOC
        ("housing.spoc@example.org", "Actions to follow up"),
        ("housing.spoc@example.org", "Escalation"),  # overdue by more than 7 days
        ("chair@example.org", "Escalation"),  # chair of the meeting that raised it
    }
    owner_mail = sent[("owner@example.org", "Actions to follow up")]["body"]
    assert f"A-{actions['owned_due_soon']:05d}" in owner_mail and "/actions/" in owner_mail
    assert f"A-{actions['far_off']:05d}" not in owner_mail
    for message in smtp_server:
        assert "CR/SECRET/REF" not in message["body"] and "Private case narrative" not in message["body"]
        assert f"A-{actions['closed']:05d}" not in message["body"]
    assert "5 e-mails sent" in result.output


def test_a_second_run_the_same_day_sends_nothing(app, smtp_server, people, actions):
    run(app)
    first = len(smtp_server)
    result = run(app)
    assert len(smtp_server) == first
    assert "0 e-mails sent; 5 already sent today" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(ReminderSent.id))) == 5
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("reminder_%"))) == 5


def test_dry_run_prints_and_sends_nothing(app, smtp_server, people, actions):
    result = run(app, "--dry-run")
    assert result.exit_code == 0
    assert "Would send digest to owner@example.org" in result.output
    assert "5 e-mails would be sent" in result.output
    assert smtp_server == []
    with app.app_context():
        assert db.session.scalar(select(func.count(ReminderSent.id))) == 0


def test_options_change_the_windows(app, smtp_server, people, actions):
    run(app, "--days", "30", "--grace", "30")
    subjects = by_recipient(smtp_server)
    assert not any(kind == "Escalation" for _, kind in subjects)
    assert f"A-{actions['far_off']:05d}" in subjects[("spoc@example.org", "Actions to follow up")]["body"]


def test_agency_without_spoc_is_reported(app, smtp_server, people, actions):
    with app.app_context():
        db.session.get(User, people["housing_spoc"].id).is_spoc = False
        db.session.commit()
    result = run(app)
    assert f"No one to remind about A-{actions['long_overdue']:05d}" in result.output


def test_a_failure_part_way_does_not_resend_what_went(app, smtp_server, people, actions, monkeypatch):
    """The first e-mails are logged as they go; after a failure, the rerun sends only the rest."""
    from tests.conftest import _REAL_SMTP

    real_send = _REAL_SMTP.send_message
    calls = {"n": 0}

    def flaky(self, message, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return real_send(self, message, *args, **kwargs)

    monkeypatch.setattr(_REAL_SMTP, "send_message", flaky)
    assert run(app).exit_code != 0
    assert len(smtp_server) == 2
    monkeypatch.setattr(_REAL_SMTP, "send_message", real_send)
    result = run(app)
    assert "3 e-mails sent; 2 already sent today" in result.output
    assert len(smtp_server) == 5
    assert len({(m["to"][0], m["subject"]) for m in smtp_server}) == 5


def test_the_guard_refuses_real_smtp_servers(app):
    with pytest.raises(AssertionError, match="real e-mail"):
        smtplib.SMTP("mail.example.org", 25)


def test_a_named_owner_moved_to_another_agency_is_not_reminded_and_the_spoc_is(
    app, smtp_server, agencies, people, actions
):
    with app.app_context():
        db.session.get(User, people["owner"].id).agency_id = agencies["HOU"].id
        db.session.commit()
    assert run(app).exit_code == 0
    sent = by_recipient(smtp_server)
    assert ("owner@example.org", "Actions to follow up") not in sent
    assert f"A-{actions['owned_due_soon']:05d}" in sent[("spoc@example.org", "Actions to follow up")]["body"]


def test_a_named_owner_made_a_manager_is_not_reminded_and_the_spoc_is(app, smtp_server, people, actions):
    """A manager reads actions and cannot update them: an owner whose account became a manager's (or an
    action owned by one before managers stopped being offered as owners) is followed up by the SPOC."""
    with app.app_context():
        db.session.get(User, people["owner"].id).role = Role.MANAGER
        db.session.commit()
    assert run(app).exit_code == 0
    sent = by_recipient(smtp_server)
    assert ("owner@example.org", "Actions to follow up") not in sent
    assert f"A-{actions['owned_due_soon']:05d}" in sent[("spoc@example.org", "Actions to follow up")]["body"]

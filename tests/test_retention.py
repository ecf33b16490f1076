"""flask purge --older-than 6y [--dry-run]: closed cases past retention erased, legal holds kept,
every erasure audited (reference and counts only), idempotent; and the admin's legal holds page."""

from datetime import timedelta

import pytest
from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select

from tests.conftest import ON_POSTGRES, error_messages, get_page, parse, sign_in, text_of
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionUpdate,
    AgencyReturn,
    AuditEvent,
    Case,
    CaseReview,
    LegalHold,
    Meeting,
    MeetingStatus,
)
from tracker.timeutil import utcnow

SEVEN_YEARS_AGO = -7 * 365


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA")}


@pytest.fixture
def old_world(app, agencies, make_user, make_meeting, add_review, add_action):
    chair = make_user("chair", agencies["POL"])
    old = make_meeting(SEVEN_YEARS_AGO, chair=chair, attended_by=[agencies["IDVA"]])
    unfinished = make_meeting(SEVEN_YEARS_AGO + 7, chair=chair)
    recent = make_meeting(-30, chair=chair)
    erasable = add_review(old, "OLD/ERASE", agencies=[agencies["IDVA"]])
    held = add_review(old, "OLD/HELD")
    still_open = add_review(old, "OLD/OPEN")
    add_review(old, "OLD/AGAIN")
    add_review(recent, "OLD/AGAIN")  # reviewed again recently: its retention starts again
    add_review(unfinished, "OLD/UNFINISHED")
    done = add_action(old, agencies["IDVA"], review_id=erasable, status="completed", description="Secret narrative")
    add_action(old, agencies["IDVA"], review_id=erasable, status="cancelled")
    add_action(old, agencies["IDVA"], review_id=still_open, status="open")
    meeting_level = add_action(old, agencies["IDVA"], status="completed")
    with app.app_context():
        for meeting_id, status in ((old, "approved"), (unfinished, "in_progress"), (recent, "approved")):
            db.session.get(Meeting, meeting_id).status = MeetingStatus(status)
        db.session.add_all(
            [
                ActionUpdate(action_id=done, note="Private progress note"),
                ActionUpdate(action_id=done, note="Completed"),
                AgencyReturn(case_review_id=erasable, agency_id=agencies["IDVA"].id, information="What we hold"),
                LegalHold(case_id=db.session.get(CaseReview, held).case_id, reason="A claim"),
            ]
        )
        db.session.commit()
    return {"old": old, "erasable": erasable, "done": done, "meeting_level": meeting_level}


def purge(app, *args):
    return app.test_cli_runner().invoke(args=["purge", *args])


def references(app):
    with app.app_context():
        return set(db.session.scalars(select(Case.reference)))


def events(app, action):
    with app.app_context():
        return [
            (event.object_type, event.detail)
            for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


def test_a_dry_run_lists_what_would_go_and_changes_nothing(app, old_world):
    before = references(app)
    result = purge(app, "--older-than", "6y", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would erase OLD/ERASE: 1 case reviews, 2 actions, 2 action updates, 1 agency returns" in result.output
    assert "Kept OLD/HELD: under a legal hold" in result.output
    assert "1 case(s) would be erased, 1 kept by a legal hold" in result.output
    assert references(app) == before
    assert events(app, "case_erased") == [] and events(app, "retention_purge_run") == []


def test_closed_cases_past_retention_are_erased_and_the_rest_kept(app, old_world):
    result = purge(app, "--older-than", "6y")
    assert result.exit_code == 0, result.output
    assert references(app) == {"OLD/HELD", "OLD/OPEN", "OLD/AGAIN", "OLD/UNFINISHED"}
    with app.app_context():
        assert db.session.get(CaseReview, old_world["erasable"]) is None
        assert db.session.get(Action, old_world["done"]) is None
        assert db.session.scalar(select(func.count(ActionUpdate.id))) == 0
        assert db.session.scalar(select(func.count(AgencyReturn.id))) == 0
        # The meeting and its meeting-level action stay.
        assert db.session.get(Meeting, old_world["old"]) is not None
        assert db.session.get(Action, old_world["meeting_level"]) is not None
    [(object_type, detail)] = events(app, "case_erased")
    assert object_type == "cases"
    assert detail == "reference OLD/ERASE: 1 case reviews, 2 actions, 2 action updates, 1 agency returns"
    [(_, summary)] = events(app, "retention_purge_run")
    assert "1 cases erased, 1 kept by legal holds" in summary
    with app.app_context():
        every_detail = " ".join(db.session.scalars(select(AuditEvent.detail)))
    assert "Secret narrative" not in every_detail and "Private progress" not in every_detail


def test_purging_again_erases_nothing_more(app, old_world):
    purge(app, "--older-than", "6y")
    after_first = references(app)
    result = purge(app, "--older-than", "6y")
    assert result.exit_code == 0 and "0 case(s) erased" in result.output
    assert references(app) == after_first
    assert len(events(app, "case_erased")) == 1


def test_a_longer_period_keeps_more(app, old_world):
    assert purge(app, "--older-than", "8y").exit_code == 0
    assert "OLD/ERASE" in references(app)


@pytest.mark.parametrize("period", ["6d", "6m", "six years", "0y", ""])
def test_a_period_that_is_not_years_or_months_of_a_year_or_more_is_refused(app, old_world, period):
    result = purge(app, "--older-than", period)
    assert result.exit_code != 0 and "--older-than" in result.output
    assert "OLD/ERASE" in references(app)


# The admin's legal holds page -------------------------------------------------------------


def test_an_admin_places_and_releases_a_hold_and_the_purge_follows(client, app, agencies, make_user, old_world):
    admin = make_user("admin", agencies["POL"])
    sign_in(client, admin.email, admin.password)
    page = parse(client.post("/admin/retention", data={"reference": "no/such", "reason": "Claim"}))
    assert error_messages(page)["reference"] == "No case has this reference"
    page = parse(client.post("/admin/retention", data={"reference": "old/held", "reason": "Claim"}))
    assert error_messages(page)["reference"] == "This case is already under a legal hold"
    page = parse(client.post("/admin/retention", data={"reference": "OLD/ERASE", "reason": "Claim\u202e"}))
    assert "must not contain hidden control characters" in error_messages(page)["reason"]

    response = client.post("/admin/retention", data={"reference": " old/erase ", "reason": "Inquiry 2026"})
    assert response.status_code == 302
    holds = get_page(client, "/admin/retention").select("[data-testid=holds-table] tbody tr")
    assert sorted(text_of(row.select("td")[0]) for row in holds) == ["OLD/ERASE", "OLD/HELD"]
    assert purge(app, "--older-than", "6y").exit_code == 0
    assert {"OLD/ERASE", "OLD/HELD"} <= references(app)

    with app.app_context():
        hold_id = db.session.scalar(select(LegalHold.id).join(LegalHold.case).where(Case.reference == "OLD/HELD"))
    assert client.post(f"/admin/retention/{hold_id}/release").status_code == 302
    page = get_page(client, "/admin/retention")
    assert [text_of(row.select("td")[0]) for row in page.select("[data-testid=released-table] tbody tr")] == [
        "OLD/HELD"
    ]
    assert purge(app, "--older-than", "6y").exit_code == 0
    assert "OLD/HELD" not in references(app) and "OLD/ERASE" in references(app)
    assert [object_type for object_type, _ in events(app, "legal_hold_placed")] == ["cases"]
    assert len(events(app, "legal_hold_released")) == 1


def test_months_before_keeps_the_day_or_the_months_last_day():
    from datetime import datetime

    from tracker.retention import months_before

    assert months_before(datetime(2026, 11, 26, 9, 30), 72) == datetime(2020, 11, 26, 9, 30)
    assert months_before(datetime(2026, 3, 31), 1) == datetime(2026, 2, 28)
    assert months_before(datetime(2028, 2, 29), 12) == datetime(2027, 2, 28)
    assert months_before(utcnow(), 12) < utcnow() - timedelta(days=364)


# Stored minutes -------------------------------------------------------------------------------


def _store_minutes(app, meeting_id: int) -> None:
    import hashlib

    from tracker.models import MinutesDocument, User

    with app.app_context():
        user = db.session.scalar(select(User).order_by(User.id))
        pdf = b"%PDF-1.7 minutes naming the case"
        db.session.add(
            MinutesDocument(
                meeting_id=meeting_id,
                revision=1,
                pdf=pdf,
                sha256=hashlib.sha256(pdf).hexdigest(),
                size_bytes=len(pdf),
                approved_by=user,
            )
        )
        db.session.commit()


def _stored_minutes(app, meeting_id: int) -> int:
    from tracker.models import MinutesDocument

    with app.app_context():
        return db.session.scalar(select(func.count(MinutesDocument.id)).where(MinutesDocument.meeting_id == meeting_id))


def test_the_stored_minutes_of_a_meeting_whose_every_case_is_erased_go_too(
    app, agencies, make_user, make_meeting, add_review, old_world
):
    chair = make_user("chair", agencies["POL"])
    only_erasable = make_meeting(SEVEN_YEARS_AGO - 7, chair=chair)
    add_review(only_erasable, "OLD/ALONE")
    with app.app_context():
        db.session.get(Meeting, only_erasable).status = MeetingStatus.APPROVED
        db.session.commit()
    _store_minutes(app, only_erasable)
    _store_minutes(app, old_world["old"])  # it also records a held case, and one still open

    dry = purge(app, "--older-than", "6y", "--dry-run")
    assert "Would erase the stored minutes of the meeting of" in dry.output and ": 1 revision(s)" in dry.output
    assert _stored_minutes(app, only_erasable) == 1

    result = purge(app, "--older-than", "6y")
    assert result.exit_code == 0, result.output
    assert _stored_minutes(app, only_erasable) == 0
    assert _stored_minutes(app, old_world["old"]) == 1
    assert events(app, "stored_minutes_erased") == [("meetings", "1 stored revisions")]
    if not ON_POSTGRES:  # SQLite: the delete trigger lifted for the purge is back
        from tracker.models import MinutesDocument

        with app.app_context(), pytest.raises(Exception, match="append-only"):
            db.session.execute(sa_delete(MinutesDocument))
            db.session.flush()
    assert "OLD/ALONE" not in references(app)

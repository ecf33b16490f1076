"""Documents prepared in the background (tracker/jobs.py): large action summaries and board reports.

In tests a job runs at once in the requesting process (TRACKER_JOBS=immediate, set in conftest), after
the request has committed, exactly where a worker would pick it up.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.conftest import get_page, sign_in, text_of
from tracker import jobs
from tracker.extensions import db
from tracker.models import AuditEvent, DocumentJob, DocumentJobStatus


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA")}


@pytest.fixture
def chair(login_as, agencies):
    return login_as("chair", agencies["POL"], name="Panel Chair")


@pytest.fixture
def meeting(app, agencies, chair, make_meeting, add_action):
    meeting_id = make_meeting(-1, chair=chair, invited=list(agencies.values()), attended_by=list(agencies.values()))
    for n in range(3):
        add_action(meeting_id, agencies["IDVA"], description=f"IDVA action {n}")
    return meeting_id


def test_a_large_action_summary_is_prepared_in_the_background_then_downloaded(app, client, meeting):
    app.config["ACTION_SUMMARY_INLINE_MAX"] = 2  # three actions: more than a request renders
    asked = client.get("/reports/actions.pdf?status=")
    assert asked.status_code == 302
    page = get_page(client, asked.headers["Location"])
    assert text_of(page.select_one(".govuk-panel")) == "Your document is ready Action summary of 3 actions"
    download = client.get(page.select_one("a.govuk-button")["href"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(download.get_data())).pages).split())
    assert "IDVA action 0" in text and "IDVA action 2" in text and "Produced for Panel Chair" in text
    with app.app_context():
        actions = set(db.session.scalars(db.select(AuditEvent.action)))
    assert {"document_requested", "action_summary_downloaded"} <= actions


def test_a_small_summary_is_still_rendered_while_the_reader_waits(client, meeting):
    response = client.get("/reports/actions.pdf?status=")
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_asking_again_gives_the_same_job(app, client, meeting):
    app.config["ACTION_SUMMARY_INLINE_MAX"] = 2
    first = client.get("/reports/actions.pdf?status=").headers["Location"]
    again = client.get("/reports/actions.pdf?status=").headers["Location"]
    assert first == again
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(DocumentJob.id))) == 1


def test_only_the_reader_who_asked_sees_or_downloads_the_document(app, client, meeting, make_user, agencies):
    app.config["ACTION_SUMMARY_INLINE_MAX"] = 2
    location = client.get("/reports/actions.pdf?status=").headers["Location"]
    other = make_user("chair", agencies["POL"])
    other_client = app.test_client()
    sign_in(other_client, other.email, other.password)
    assert other_client.get(location).status_code == 404
    assert other_client.get(f"{location}/download").status_code == 404


def test_the_waiting_page_refreshes_itself_until_the_document_is_ready(app, client, chair):
    with app.app_context():
        job = DocumentJob(
            user_id=chair.id, kind="board_report", parameters="period=quarter", title="T", filename="t.pdf"
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    page = get_page(client, f"/reports/documents/{job_id}")
    assert text_of(page.select_one("h1")) == "Preparing your document"
    assert page.select_one("meta[http-equiv=refresh]")["content"] == "5"
    assert client.get(f"/reports/documents/{job_id}/download").status_code == 404


def test_a_restarted_worker_prepares_the_jobs_it_left_unfinished(app, chair):
    with app.app_context():
        left = [
            DocumentJob(
                user_id=chair.id,
                kind="board_report",
                parameters="of=2025-04-01&period=quarter",
                title="Board report",
                filename="board.pdf",
                status=status,
            )
            for status in (DocumentJobStatus.QUEUED, DocumentJobStatus.RUNNING)
        ]
        db.session.add_all(left)
        db.session.commit()
        ids = [job.id for job in left]
        jobs.queue_unfinished_jobs()
        db.session.expire_all()
        for job_id in ids:
            job = db.session.get(DocumentJob, job_id)
            assert job.status == DocumentJobStatus.READY and job.pdf.startswith(b"%PDF-") and job.pages


def test_a_job_that_fails_says_so_with_a_reference_and_loses_nothing(app, client, chair):
    jobs.RENDERERS["broken_for_test"] = lambda job, reader: 1 / 0
    try:
        with app.app_context():
            job = DocumentJob(user_id=chair.id, kind="broken_for_test", title="Broken", filename="b.pdf")
            db.session.add(job)
            db.session.commit()
            job_id = job.id
            jobs.run_job(job_id)
            failed = db.session.get(DocumentJob, job_id)
            assert failed.status == DocumentJobStatus.FAILED and len(failed.error_reference) == 8
            reference = failed.error_reference
    finally:
        del jobs.RENDERERS["broken_for_test"]
    page = get_page(client, f"/reports/documents/{job_id}")
    assert "could not be prepared" in text_of(page.select_one("h1"))
    assert reference in text_of(page.select_one("main"))


def test_a_job_for_a_reader_deactivated_since_is_not_rendered(app, chair):
    from tracker.models import User

    with app.app_context():
        job = DocumentJob(user_id=chair.id, kind="board_report", parameters="period=quarter", title="T", filename="t")
        db.session.add(job)
        db.session.get(User, chair.id).active = False
        db.session.commit()
        jobs.run_job(job.id)
        assert db.session.get(DocumentJob, job.id).status == DocumentJobStatus.FAILED


def test_prepared_documents_are_deleted_a_day_after_they_were_asked_for(app, client, meeting):
    """The worker's hourly task deletes each prepared document (its PDF too) once its reader can no
    longer download it, and says how many in the audit log; newer ones stay."""
    from datetime import timedelta

    from tracker.timeutil import utcnow

    app.config["ACTION_SUMMARY_INLINE_MAX"] = 2
    waiting = client.get("/reports/actions.pdf?status=").headers["Location"]
    client.get("/reports/actions.pdf?status=open")
    with app.app_context():
        old, new = db.session.scalars(db.select(DocumentJob).order_by(DocumentJob.id)).all()
        assert old.pdf and new.pdf
        old.created_at = utcnow() - jobs.KEPT_FOR - timedelta(minutes=1)
        db.session.commit()
        old_id, new_id = old.id, new.id
    assert client.get(waiting).status_code == 404  # already out of its reader's reach
    with app.app_context():  # the worker's own app, as tracker.jobs._app() makes it
        jobs.delete_expired_documents_every_hour.call_local()
    with app.app_context():
        assert db.session.scalars(db.select(DocumentJob.id)).all() == [new_id]
        assert db.session.get(DocumentJob, old_id) is None
        [event] = db.session.scalars(db.select(AuditEvent).filter_by(action="expired_documents_deleted")).all()
        assert event.detail.startswith("1 prepared documents asked for before ")
        assert jobs.delete_expired_documents() == 0  # nothing more to delete, and nothing recorded
        db.session.commit()
        assert (
            db.session.scalar(db.select(db.func.count()).where(AuditEvent.action == "expired_documents_deleted")) == 1
        )


def test_a_worker_leaves_expired_jobs_and_one_deleted_while_it_runs(app, chair, monkeypatch):
    """A restarted worker does not prepare jobs past the day their reader may fetch them in; a job
    deleted as expired while it is prepared ends quietly, keeping nothing."""
    from datetime import timedelta

    from tracker.timeutil import utcnow

    def vanishing(job, reader):
        jobs.delete_expired_documents(now=utcnow() + jobs.KEPT_FOR + timedelta(minutes=1))
        db.session.commit()  # as the hourly task would, from another worker
        return jobs.Prepared(pdf=b"%PDF-1.7 never kept", pages=1)

    monkeypatch.setitem(jobs.RENDERERS, "vanishing_for_test", vanishing)
    with app.app_context():
        old, running = (
            DocumentJob(user_id=chair.id, kind=kind, title="Summary", filename="s.pdf", status=DocumentJobStatus.QUEUED)
            for kind in ("board_report", "vanishing_for_test")
        )
        old.created_at = utcnow() - jobs.KEPT_FOR - timedelta(hours=1)
        db.session.add_all([old, running])
        db.session.commit()
        old_id, running_id = old.id, running.id
        queued = []
        monkeypatch.setattr(jobs, "prepare_document", queued.append)
        jobs.queue_unfinished_jobs()
        assert queued == [running_id]  # not the expired one
        jobs.run_job(old_id)  # asked directly all the same: nothing is prepared
        assert db.session.get(DocumentJob, old_id).status == DocumentJobStatus.QUEUED
        jobs.run_job(running_id)  # deleted while it was prepared: no error, nothing kept
        db.session.expire_all()
        assert db.session.get(DocumentJob, running_id) is None

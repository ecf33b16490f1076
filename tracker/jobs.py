"""Background jobs with huey: large documents are prepared outside the web request.

A request that wants a large document (a board report, an action summary of many actions) adds a
DocumentJob row and asks for it to be prepared once its transaction has committed (as e-mail is sent:
see notify/outbox.py). The reader waits on a page that refreshes itself, then downloads. No web
request renders for longer than a small document takes.

Storage: huey's SQLite storage in instance/jobs.sqlite by default (``make run`` starts a worker beside
the server); Redis in production (TRACKER_JOBS_REDIS_URL=redis://...). The worker:
    .venv/bin/huey_consumer tracker.jobs.huey --workers 2
A job survives a worker restart: on start the worker queues again every job still marked queued or
running (a job is idempotent: it renders the document again from the database).
A prepared document is kept for KEPT_FOR, for its reader to download; every hour the worker deletes
the older ones with their PDFs (:func:`delete_expired_documents`), so no copy of the record outlives
its purpose.
In tests (TRACKER_JOBS=immediate) a job runs at once in the requesting process.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app, g, has_app_context
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import delete, select
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from tracker import audit
from tracker.extensions import db
from tracker.models import DocumentJob, DocumentJobStatus, User
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)

KEPT_FOR = timedelta(days=1)  # how long a prepared document stays with its reader


def _make_huey():
    if os.environ.get("TRACKER_JOBS") == "immediate":
        return MemoryHuey("tracker", immediate=True)
    if url := os.environ.get("TRACKER_JOBS_REDIS_URL"):
        return RedisHuey("tracker", url=url)
    default = Path(__file__).resolve().parent.parent / "instance" / "jobs.sqlite"
    path = Path(os.environ.get("TRACKER_JOBS_SQLITE", default))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("tracker", filename=str(path))


huey = _make_huey()


@dataclass
class Prepared:
    pdf: bytes
    pages: int


# kind -> function(job, reader) -> Prepared; registered by the areas that own each document.
RENDERERS: dict[str, Callable[[DocumentJob, User], Prepared]] = {}


def renderer(kind: str):
    def register(function: Callable[[DocumentJob, User], Prepared]):
        RENDERERS[kind] = function
        return function

    return register


# In the request -----------------------------------------------------------------------------------


def prepare_after_commit(job: DocumentJob) -> None:
    """Ask for ``job`` (already added and flushed) to be prepared once the request has committed."""
    g.setdefault("jobs_to_queue", []).append(job.id)


def queue_prepared() -> None:
    """Called by create_app()'s commit hook after a successful commit."""
    for job_id in g.pop("jobs_to_queue", []):
        prepare_document(job_id)


def discard() -> None:
    g.pop("jobs_to_queue", None)


# In the worker ------------------------------------------------------------------------------------

_worker_app: Flask | None = None


def _app() -> Flask:
    """The app to run a job in: the requesting one (immediate mode), else one made for the worker."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        from tracker import create_app

        _worker_app = create_app()
    return _worker_app


@huey.task(retries=1, retry_delay=10)
def prepare_document(job_id: int) -> None:
    with _app().app_context():
        run_job(job_id)


def run_job(job_id: int) -> None:
    """Render one job's document with its reader's permissions as they are now, and keep it."""
    job = db.session.get(DocumentJob, job_id)
    if job is None or job.status == DocumentJobStatus.READY or job.created_at < utcnow() - KEPT_FOR:
        return  # gone, done, or past the day its reader may fetch it in: nothing to prepare
    job.status, job.started_at = DocumentJobStatus.RUNNING, utcnow()
    db.session.commit()
    reader, kind = db.session.get(User, job.user_id), job.kind
    try:
        if reader is None or not reader.active:
            raise PermissionError("the reader's account is no longer active")
        prepared = RENDERERS[kind](job, reader)
    except Exception:
        db.session.rollback()
        reference = secrets.token_hex(4).upper()
        log.exception("Document job %s (%s) failed, reference %s", job_id, kind, reference)
        failed = db.session.get(DocumentJob, job_id)
        if failed is not None:  # deleted meanwhile, as expired: nothing to mark
            failed.status, failed.finished_at, failed.error_reference = DocumentJobStatus.FAILED, utcnow(), reference
            db.session.commit()
        return
    job.pdf, job.pages = prepared.pdf, prepared.pages
    job.status, job.finished_at = DocumentJobStatus.READY, utcnow()
    try:
        db.session.commit()
    except (ObjectDeletedError, StaleDataError):  # deleted as expired while it was prepared: keep nothing
        db.session.rollback()
        log.info("Document job %s was deleted as expired while it was prepared", job_id)


@huey.on_startup()
def queue_unfinished_jobs() -> None:
    """A worker that stopped mid-job leaves it queued or running: prepare those again."""
    with _app().app_context():
        unfinished = db.session.scalars(
            select(DocumentJob.id).where(
                DocumentJob.status.in_([DocumentJobStatus.QUEUED, DocumentJobStatus.RUNNING]),
                DocumentJob.created_at >= utcnow() - KEPT_FOR,  # older ones can no longer be fetched
            )
        ).all()
    for job_id in unfinished:
        prepare_document(job_id)


@huey.periodic_task(crontab(minute="20"))
def delete_expired_documents_every_hour() -> None:
    with _app().app_context():
        delete_expired_documents()
        db.session.commit()


def delete_expired_documents(now: datetime | None = None) -> int:
    """Delete the prepared documents (PDF and all) asked for more than KEPT_FOR ago, whatever became
    of them, and record how many in the audit log. Their readers can no longer see them (see
    tracker.reports.prepared.job_for); keeping the PDFs would keep copies of case records for nothing."""
    cutoff = (now or utcnow()) - KEPT_FOR
    # One statement, and its own count: two workers running this at once record what each deleted.
    result = db.session.execute(
        delete(DocumentJob).where(DocumentJob.created_at < cutoff).execution_options(synchronize_session=False)
    )
    deleted = getattr(result, "rowcount", 0) or 0  # a CursorResult for a DELETE
    if deleted:
        detail = f"{deleted} prepared documents asked for before {cutoff:%Y-%m-%d %H:%M} UTC"
        audit.record("expired_documents_deleted", detail=detail)
    return deleted

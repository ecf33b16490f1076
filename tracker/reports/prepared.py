"""Documents prepared in the background (tracker/jobs.py): the board report always, and action
summaries of more actions than a request renders quickly.

Asking twice for the same document within a few minutes gives the same job, so a reader who follows
the link again (or reloads) does not start a second rendering.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tracker import audit, jobs
from tracker.actions.filters import ActionFilter
from tracker.documents import action_summary
from tracker.extensions import db
from tracker.models import DocumentJob, DocumentJobStatus, User
from tracker.reports import board
from tracker.reports.figures import OVERDUE_IN_PDF, build_report
from tracker.reports.periods import parse_period
from tracker.timeutil import utcnow

BOARD_REPORT, ACTION_SUMMARY = "board_report", "action_summary"
SAME_REQUEST_WITHIN = timedelta(minutes=10)


def prepare(user: User, kind: str, args: MultiDict, *, title: str, filename: str) -> DocumentJob:
    """The job preparing this document for ``user``: a recent identical one, or a new one."""
    parameters = urlencode(sorted(args.items(multi=True)))
    recent = db.session.scalar(
        select(DocumentJob)
        .where(
            DocumentJob.user_id == user.id,
            DocumentJob.kind == kind,
            DocumentJob.parameters == parameters,
            DocumentJob.status != DocumentJobStatus.FAILED,
            DocumentJob.created_at > utcnow() - SAME_REQUEST_WITHIN,
        )
        .order_by(DocumentJob.id.desc())
        .limit(1)
    )
    if recent is not None:
        return recent
    job = DocumentJob(user_id=user.id, kind=kind, parameters=parameters, title=title, filename=filename)
    db.session.add(job)
    db.session.flush()
    audit.record("document_requested", job, detail=f"{kind}: {parameters}"[:200])
    jobs.prepare_after_commit(job)
    return job


def job_for(user: User, job_id: int) -> DocumentJob | None:
    """A job only its reader may see, for a day."""
    job = db.session.get(DocumentJob, job_id)
    if job is None or job.user_id != user.id or job.created_at < utcnow() - jobs.KEPT_FOR:
        return None
    return job


def _produced_for(reader: User) -> str:
    return f"{reader.display_name}, {reader.agency.name}"


@jobs.renderer(BOARD_REPORT)
def _render_board_report(job: DocumentJob, reader: User) -> jobs.Prepared:
    period, problems = parse_period(MultiDict(parse_qsl(job.parameters, keep_blank_values=True)))
    if problems:
        raise ValueError(f"board report job {job.id}: {problems}")
    report = build_report(reader, period, overdue_limit=OVERDUE_IN_PDF)
    rendered = board.render_board_report(report, reader, produced_for=_produced_for(reader))
    return jobs.Prepared(rendered.pdf, rendered.pages)


@jobs.renderer(ACTION_SUMMARY)
def _render_action_summary(job: DocumentJob, reader: User) -> jobs.Prepared:
    filters, problems = ActionFilter.parse(MultiDict(parse_qsl(job.parameters, keep_blank_values=True)), reader)
    if problems:
        raise ValueError(f"action summary job {job.id}: {problems}")
    rendered = action_summary.render_summary(reader, filters, produced_for=_produced_for(reader))
    return jobs.Prepared(rendered.pdf, rendered.pages)


def renders_in_request(action_count: int) -> bool:
    """A summary of up to this many actions is rendered while the reader waits."""
    return action_count <= current_app.config["ACTION_SUMMARY_INLINE_MAX"]

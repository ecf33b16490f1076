"""Minutes PDFs: the stored approved record, on-demand drafts, and partners' redacted versions."""

from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import undefer

from tracker import audit
from tracker.documents.render import RenderedPdf, new_document_id, render_pdf
from tracker.extensions import db
from tracker.meetings import queries as meeting_queries
from tracker.models import Meeting, MeetingStatus, MinutesDocument, User
from tracker.settings import confidentiality_statement
from tracker.timeutil import format_date, london_today, utcnow


def is_agenda(meeting: Meeting) -> bool:
    """A meeting not yet held (still scheduled, and its time still to come) has an agenda, not minutes:
    nobody can have been absent from it yet."""
    return meeting.status == MeetingStatus.SCHEDULED and meeting.starts_at > utcnow()


def _title(meeting: Meeting) -> str:
    kind = "Agenda for" if is_agenda(meeting) else "Minutes of"
    return f"{kind} the scrutiny meeting on {format_date(meeting.starts_at)}"


def render_minutes(
    meeting: Meeting, viewer: User, *, document_id: str, produced_for: str | None, show_now: bool = False
) -> RenderedPdf:
    """Render the minutes as ``viewer`` may see them: everything for chairs, managers and admins;
    for a partner, only their agency's cases and actions (the redacted version). Actions appear as
    they stood on the meeting's date; ``show_now`` adds each one's status today beside it. A meeting
    not yet held gives its agenda instead."""
    record = meeting_queries.meeting_record(viewer, meeting, for_minutes=True)
    redacted_for = record.redacted_for
    title = _title(meeting) + (f" (redacted for {redacted_for.code})" if redacted_for else "")
    if show_now:
        title += ", with each action's status now"
    agenda = is_agenda(meeting)
    return render_pdf(
        "pdf/agenda.html" if agenda else "pdf/minutes.html",
        title=title,
        subject=f"{'Agenda' if agenda else 'Minutes'}, domestic abuse response scrutiny meeting",
        meeting=meeting,
        record=record,
        record_day=meeting_queries.record_moment(meeting)[0],
        today=london_today(),
        show_now=show_now,
        statement=confidentiality_statement(),
        redacted_for=redacted_for,
        draft=meeting.status != MeetingStatus.APPROVED,
        document_id=document_id,
        revision=meeting.minutes_revision,
        produced_for=produced_for,
        service_name=current_app.config["SERVICE_NAME"],
    )


def store_approved_minutes(meeting: Meeting, approved_by: User) -> MinutesDocument:
    """Render the approved revision once and keep its exact bytes and hash."""
    document = MinutesDocument(
        meeting=meeting,
        revision=meeting.minutes_revision,
        approved_by=approved_by,
        approved_at=meeting.approved_at,
        pdf=b"",
        sha256="",
        size_bytes=0,
    )
    rendered = render_minutes(
        meeting, approved_by, document_id=f"MIN-{meeting.id:05d}-R{meeting.minutes_revision}", produced_for=None
    )
    document.pdf = rendered.pdf
    document.sha256 = hashlib.sha256(rendered.pdf).hexdigest()
    document.size_bytes = len(rendered.pdf)
    db.session.add(document)
    db.session.flush()
    audit.record("minutes_pdf_stored", meeting, detail=f"revision {document.revision} sha256 {document.sha256}")
    return document


def on_minutes_approved(sender, meeting: Meeting, approved_by: User, **_extra) -> None:
    """Subscriber to tracker.signals.minutes_approved (connected in create_app)."""
    store_approved_minutes(meeting, approved_by)


def stored_revision(meeting: Meeting, revision: int | None) -> MinutesDocument | None:
    """The stored PDF of ``revision`` (the latest approved one if None), bytes included."""
    query = select(MinutesDocument).where(MinutesDocument.meeting_id == meeting.id)
    query = (
        query.where(MinutesDocument.revision == revision)
        if revision
        else query.order_by(MinutesDocument.revision.desc()).limit(1)
    )
    return db.session.scalar(query.options(undefer(MinutesDocument.pdf)))


def on_demand_document_id() -> str:
    return new_document_id("MIN")

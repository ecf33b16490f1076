"""Reports: minutes PDFs (stored approved revisions, drafts, partners' redacted versions), the action
summary PDF and the overdue chart. Every download is audited; filenames name no person."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from tracker import audit
from tracker.actions import queries as action_queries
from tracker.actions.filters import STATUS_CHOICES, ActionFilter, OutOfScope, Problem
from tracker.documents import action_summary, minutes
from tracker.extensions import db
from tracker.meetings import queries as meeting_queries
from tracker.models import Meeting, MeetingStatus
from tracker.params import id_param
from tracker.permissions import Capability, may_see_agency, meeting_scope, requires, sees_own_agency_only
from tracker.reports import bp
from tracker.timeutil import LONDON


def _pdf_response(body: bytes, filename: str) -> Response:
    return Response(
        body, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _recent_meetings(limit: int = 12) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(meeting_scope(current_user), Meeting.status != MeetingStatus.CANCELLED)
            .order_by(Meeting.starts_at.desc())
            .limit(limit)
        )
    )


def _page(errors: list[Problem] | None = None, status: int = 200):
    workload = action_queries.workload_by_agency()
    workload = [row for row in workload if may_see_agency(current_user, row.agency.id)]
    chart = action_summary.overdue_chart([(row.agency, row.overdue) for row in workload])
    return render_template(
        "reports/index.html",
        meetings=_recent_meetings(),
        chart=chart,
        errors=errors or [],
        agencies=action_queries.visible_agencies(current_user),
        statuses=STATUS_CHOICES,
        args=request.args,
    ), status


@bp.route("/reports")
@requires(Capability.READ_REPORTS)
def index():
    return _page()


@bp.route("/reports/minutes/<int:meeting_id>.pdf")
@requires(Capability.READ_REPORTS)
def minutes_pdf(meeting_id: int):
    """The minutes (a meeting not yet held: its agenda). ``status_now=1`` asks for a copy with each
    action's status today beside its status at the meeting (rendered now, never the stored record)."""
    meeting = meeting_queries.meeting_for(current_user, meeting_id)
    if meeting is None or meeting.status == MeetingStatus.CANCELLED:
        abort(404)
    day = meeting.starts_at.astimezone(LONDON).date().isoformat()
    revision = id_param(request.args.get("revision", ""))
    show_now = request.args.get("status_now") == "1"
    kind = "agenda" if minutes.is_agenda(meeting) else "minutes"
    now_suffix = "-with-status-now" if show_now else ""
    if sees_own_agency_only(current_user):
        # Partners only ever get their agency's redacted version, rendered for them now.
        rendered = minutes.render_minutes(
            meeting,
            current_user,
            document_id=minutes.on_demand_document_id(),
            produced_for=f"{current_user.display_name}, {current_user.agency.name}",
            show_now=show_now,
        )
        state = "" if meeting.status == MeetingStatus.APPROVED else "-draft"
        filename = (
            f"{kind}-{day}-r{meeting.minutes_revision}{state}{now_suffix}-redacted-{current_user.agency.code}.pdf"
        )
        audit.record("minutes_pdf_downloaded", meeting, detail=f"redacted for {current_user.agency.code}")
        return _pdf_response(rendered.pdf, filename)
    if (meeting.status == MeetingStatus.APPROVED or revision) and not show_now:
        stored = minutes.stored_revision(meeting, revision)
        if stored is None:
            abort(404)
        audit.record("minutes_pdf_downloaded", meeting, detail=f"revision {stored.revision} sha256 {stored.sha256}")
        return _pdf_response(stored.pdf, f"minutes-{day}-r{stored.revision}.pdf")
    rendered = minutes.render_minutes(
        meeting,
        current_user,
        document_id=minutes.on_demand_document_id(),
        produced_for=current_user.display_name,
        show_now=show_now,
    )
    state = "" if meeting.status == MeetingStatus.APPROVED else "-draft"
    detail = f"{'copy with status now' if show_now else 'draft'} of revision {meeting.minutes_revision}"
    audit.record("minutes_pdf_downloaded", meeting, detail=detail)
    return _pdf_response(rendered.pdf, f"{kind}-{day}-r{meeting.minutes_revision}{state}{now_suffix}.pdf")


@bp.route("/reports/actions.pdf")
@requires(Capability.READ_REPORTS)
def action_summary_pdf():
    try:
        filters, problems = ActionFilter.parse(request.args, current_user)
    except OutOfScope:
        abort(404)
    if problems:
        # A document for a board paper must not quietly leave out a filter: say what is wrong instead.
        return _page(errors=problems, status=400)
    try:
        rendered = action_summary.render_summary(
            current_user, filters, produced_for=f"{current_user.display_name}, {current_user.agency.name}"
        )
    except action_summary.TooManyRows as too_many:
        message = (
            f"{too_many.count:,} actions match these filters, more than the {too_many.limit:,} "
            "a summary can hold. Narrow the filters (for example by agency or dates) and try again."
        )
        return _page(errors=[Problem("agency", message)], status=400)
    audit.record("action_summary_downloaded", detail=filters.for_audit())
    return _pdf_response(rendered.pdf, action_summary.summary_filename(filters))

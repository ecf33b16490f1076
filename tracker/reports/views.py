"""Reports: the period report (scrutiny figures, learning themes, attendance and accountability by
agency, with charts, tables, CSV and the board report PDF), minutes PDFs (stored approved revisions,
drafts, partners' redacted versions) and the action summary PDF. Every download is audited; filenames
name no person. Partners get every report scoped to their own agency."""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Integer, bindparam, select
from werkzeug.datastructures import MultiDict

from tracker import audit
from tracker.actions import queries as action_queries
from tracker.actions.filters import STATUS_CHOICES, ActionFilter, OutOfScope, Problem
from tracker.documents import action_summary, minutes
from tracker.extensions import db
from tracker.meetings import queries as meeting_queries
from tracker.models import DocumentJobStatus, Meeting, MeetingStatus
from tracker.params import id_param
from tracker.permissions import (
    Capability,
    Reader,
    meeting_scope,
    redaction_for,
    requires,
    sees_own_agency_only,
    statement_per_reader,
)
from tracker.reports import bp, cache, prepared
from tracker.reports.figures import (
    ACCOUNTABILITY_COLUMNS,
    CSV_TABLES,
    OVERDUE_IN_CSV,
    accountability_cell,
    build_charts,
    build_report,
    csv_table,
)
from tracker.reports.periods import KINDS, Period, parse_period
from tracker.security import style_nonce
from tracker.spreadsheet import csv_response
from tracker.timeutil import LONDON, format_datetime, london_today

# Slots in a kept rendering of the figures, filled in for each response: the response's own style
# nonce for the charts, and when the figures were calculated.
STYLE_NONCE_SLOT = "{{style-nonce}}"
CALCULATED_AT_SLOT = "{{calculated-at}}"


def _pdf_response(body: bytes, filename: str) -> Response:
    return Response(
        body, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@statement_per_reader
def _recent_meetings_statement(reader: Reader):
    return (
        select(Meeting)
        .where(meeting_scope(reader), Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def _recent_meetings(limit: int = 12) -> list[Meeting]:
    return list(db.session.scalars(_recent_meetings_statement(current_user), {"limit": limit}))


def _scope_slug() -> str:
    """For filenames: a partner's reports cover their own agency only, and say so."""
    return f"-{current_user.agency.code.lower()}" if sees_own_agency_only(current_user) else ""


def _page(errors: list[Problem] | None = None, status: int = 200, period: Period | None = None):
    period_problems: list[Problem] = []
    if period is None:
        period, problems = parse_period(request.args)
        period_problems = [Problem(f"period-{key}", message) for key, message in problems]
    user = current_user._get_current_object()

    def render_figures() -> str:
        report = build_report(user, period)
        charts = {name: chart.for_page(STYLE_NONCE_SLOT) for name, chart in build_charts(report).items()}
        return render_template(
            "reports/_figures.html",
            report=report,
            charts=charts,
            csv_tables=CSV_TABLES,
            accountability_columns=ACCOUNTABILITY_COLUMNS,
            accountability_cell=accountability_cell,
        )

    scope = "every agency" if redaction_for(user) is None else user.agency_id
    rendered, calculated_at = cache.figures((scope, period, london_today()), render_figures)
    audit.record("period_report_viewed", detail=f"{period.first.isoformat()} to {period.last.isoformat()}")
    figures = rendered.replace(STYLE_NONCE_SLOT, style_nonce()).replace(
        CALCULATED_AT_SLOT, format_datetime(calculated_at)
    )
    return render_template(
        "reports/index.html",
        period=period,
        figures=Markup(figures),  # noqa: S704 - our own autoescaped rendering  # nosec B704
        period_kinds=KINDS,
        meetings=_recent_meetings(),
        errors=period_problems + (errors or []),
        agencies=action_queries.visible_agencies(current_user),
        statuses=STATUS_CHOICES,
        args=request.args,
    ), (400 if period_problems and status == 200 else status)


@bp.route("/reports")
@requires(Capability.READ_REPORTS)
def index():
    return _page()


@bp.route("/reports/<any(headline, grades, risks, themes, agencies, attendance, accountability, overdue):table>.csv")
@requires(Capability.READ_REPORTS)
def figures_csv(table: str):
    period, problems = parse_period(request.args)
    if problems:
        abort(400)
    # The CSV carries every overdue action; the page and the PDF list the most overdue.
    report = build_report(current_user, period, overdue_limit=OVERDUE_IN_CSV)
    header, rows = csv_table(report, table)
    audit.record("period_report_exported", detail=f"{table}, {period.first.isoformat()} to {period.last.isoformat()}")
    return csv_response(f"report-{table}-{period.slug}{_scope_slug()}.csv", header, rows)


@bp.route("/reports/board.pdf")
@requires(Capability.READ_REPORTS)
def board_pdf():
    """The board report takes seconds to draw: it is always prepared in the background."""
    period, problems = parse_period(request.args)
    if problems:
        return _page()
    job = prepared.prepare(
        current_user,
        prepared.BOARD_REPORT,
        MultiDict(period.query_args()),
        title=f"Board report, {period.label}",
        filename=f"board-report-{period.slug}{_scope_slug()}.pdf",
    )
    return redirect(url_for("reports.document", job_id=job.id))


@bp.route("/reports/documents/<int:job_id>")
@requires(Capability.READ_REPORTS)
def document(job_id: int):
    """Waiting for a document being prepared: the page refreshes itself until it is ready."""
    job = prepared.job_for(current_user, job_id)
    if job is None:
        abort(404)
    return render_template("reports/document.html", job=job)


@bp.route("/reports/documents/<int:job_id>/download")
@requires(Capability.READ_REPORTS)
def download_document(job_id: int):
    job = prepared.job_for(current_user, job_id)
    if job is None or job.status != DocumentJobStatus.READY or job.pdf is None:
        abort(404)
    audit.record(f"{job.kind}_downloaded", job, detail=job.parameters[:200])
    return _pdf_response(job.pdf, job.filename)


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
    count = action_queries.count_filtered(current_user, filters)
    if count <= current_app.config["ACTION_SUMMARY_MAX_ROWS"] and not prepared.renders_in_request(count):
        job = prepared.prepare(
            current_user,
            prepared.ACTION_SUMMARY,
            request.args,
            title=f"Action summary of {count:,} actions",
            filename=action_summary.summary_filename(current_user, filters),
        )
        return redirect(url_for("reports.document", job_id=job.id))
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
    return _pdf_response(rendered.pdf, action_summary.summary_filename(current_user, filters))

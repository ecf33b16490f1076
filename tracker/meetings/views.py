"""The chair's working surface: meetings, attendance, case reviews, actions, approval.

Thin views: parse, authorise, call an operation or a query, render. Anything outside the
user's scope is a 404, exactly like something that does not exist.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import audit
from tracker.actions import queries as action_queries
from tracker.actions.forms import progress_row_form
from tracker.forms import chosen
from tracker.meetings import bp, forms, operations, queries
from tracker.meetings.pages import (
    confirmation_page,
    matters_meeting_or_404,
    meeting_or_404,
    raise_action_from,
    refuse_if_locked,
    review_or_404,
    to_meeting,
)
from tracker.models import MeetingStatus
from tracker.params import id_param, page_param
from tracker.permissions import Capability, can, may_update_action, requires
from tracker.settings import confidentiality_statement
from tracker.timeutil import LONDON, london_today

# List and scheduling ----------------------------------------------------------------------


@bp.route("/meetings")
@requires(Capability.READ_MEETINGS)
def meetings():
    filters, ignored = queries.MeetingFilters.from_args(request.args)
    if ignored:
        flash(f"Some filters were not understood and have been ignored: {', '.join(ignored)}.", "info")
    page = queries.meetings_page(
        current_user, filters, page_param(request.args.get("page")), current_app.config["MEETINGS_PER_PAGE"]
    )
    counts = queries.review_counts(current_user, [meeting.id for meeting in page.items])
    return render_template(
        "meetings/list.html", page=page, filters=filters, counts=counts, statuses=list(MeetingStatus)
    )


def _details_form(form_class, **kwargs):
    return form_class(chairs=queries.chairs(), agencies=queries.agency_choices(), **kwargs)


def _start_time(form):
    hours, minutes = (int(part) for part in form.time.data.split(":"))
    return datetime.min.time().replace(hour=hours, minute=minutes)


@bp.route("/meetings/new", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def new_meeting():
    form = _details_form(forms.NewMeetingForm)
    if request.method == "GET":
        form.chair_id.data = current_user.id
        form.invited_agency_ids.data = [choice.value for choice in form.invited_agency_ids.choices]  # all of them
        form.time.data = "10:00"
    if form.validate_on_submit():
        created = operations.schedule_meetings(
            first_day=form.date.data,
            start=_start_time(form),
            weeks=form.weeks.data,
            location=form.location.data,
            chair=chosen(queries.user_by_id(form.chair_id.data)),
            invited=queries.agencies_by_ids(form.invited_agency_ids.data),
        )
        if len(created) == 1:
            flash("Meeting scheduled. Now add the cases for its agenda.", "success")
            return redirect(url_for("meetings.agenda", meeting_id=created[0].id))
        flash(f"{len(created)} weekly meetings scheduled.", "success")
        return redirect(url_for("meetings.meetings"))
    return render_template("meetings/new.html", form=form)


@bp.route("/meetings/<int:meeting_id>")
@requires(Capability.READ_MEETINGS)
def meeting(meeting_id: int):
    """The meeting as a task list: status and counts; the records live on their own pages."""
    meeting = meeting_or_404(meeting_id, with_page_details=True)
    user = current_user._get_current_object()  # read for every action and case: not through the proxy
    record = queries.meeting_record(user, meeting, with_matters_counts=True)
    audit.record("meeting_viewed", meeting)
    may_record = can(user, Capability.RECORD_MEETINGS)
    return render_template(
        "meetings/meeting.html",
        record=record,
        meeting=meeting,
        may_record=may_record,
        editable=may_record and not meeting.is_locked,
        may_approve=can(current_user, Capability.APPROVE_MINUTES),
        gaps=queries.approval_gaps(record) if may_record else [],
        today=london_today(),
        revisions=queries.stored_minutes(meeting),
    )


# The agenda -------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/agenda", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def agenda(meeting_id: int):
    """Cases on the agenda with the agencies involved; new ones added several at a time; publishing."""
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    agencies = meeting.invited_agencies or queries.active_agencies()
    form = forms.AgendaForm(agencies=agencies)
    if form.validate_on_submit():
        by_id = {agency.id: agency for agency in agencies}
        added = [
            operations.add_case_review(meeting, reference, [by_id[agency_id] for agency_id in agency_ids])
            for reference, agency_ids in form.new_cases()
        ]
        if already := sum(1 for result in added if not result.created):
            flash(f"{already} of the cases {'was' if already == 1 else 'were'} already on this agenda.", "info")
        if form.publish.data:
            try:
                told = operations.publish_agenda(
                    meeting, current_user._get_current_object(), current_app.config["SERVICE_URL"]
                )
            except operations.NothingToPublish:
                flash("Add at least one case before publishing the agenda.", "error")
                return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
            flash(f"Agenda published. An e-mail is going to {told} partner agency officers.", "success")
            return to_meeting(meeting)
        flash("Agenda saved.", "success")
        return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
    reviews = queries.agenda_reviews(meeting)
    return render_template(
        "meetings/agenda.html",
        form=form,
        meeting=meeting,
        reviews=reviews,
        agenda=operations.agenda_token_of(reviews),
        move_form=forms.MoveReviewForm(formdata=None),
        agencies=agencies,
    )


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def edit_meeting(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    form = _details_form(forms.EditMeetingForm, obj=meeting)
    if request.method == "GET":
        local = meeting.starts_at.astimezone(LONDON)
        form.date.data, form.time.data = local.date(), local.strftime("%H:%M")
        form.invited_agency_ids.data = [agency.id for agency in meeting.invited_agencies]
    if form.validate_on_submit():
        operations.update_meeting(
            meeting,
            day=form.date.data,
            start=_start_time(form),
            location=form.location.data,
            chair=chosen(queries.user_by_id(form.chair_id.data)),
            invited=queries.agencies_by_ids(form.invited_agency_ids.data),
        )
        flash("Meeting details saved.", "success")
        return to_meeting(meeting)
    return render_template("meetings/edit.html", form=form, meeting=meeting)


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def cancel_meeting(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    form = forms.ReasonForm()
    if form.validate_on_submit():
        operations.cancel_meeting(meeting, form.reason.data)
        flash("Meeting cancelled.", "success")
        return to_meeting(meeting)
    return render_template(
        "meetings/reason.html",
        form=form,
        meeting=meeting,
        title="Cancel this meeting",
        button="Cancel meeting",
        warning="Cancelling cannot be undone. Its agenda stays on record.",
    )


@bp.route("/meetings/<int:meeting_id>/statement", methods=["POST"])
@requires(Capability.RECORD_MEETINGS)
def statement_read(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    operations.record_statement_read(meeting, current_user._get_current_object())
    flash("Recorded that the confidentiality statement was read.", "success")
    return to_meeting(meeting, "statement")


@bp.route("/meetings/<int:meeting_id>/notes", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def save_notes(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    form = forms.MinutesTextForm(obj=meeting)
    if form.validate_on_submit():
        operations.save_minutes_text(
            meeting, general_notes=form.general_notes.data, any_other_business=form.any_other_business.data
        )
        flash("Notes saved.", "success")
        return to_meeting(meeting)
    return render_template("meetings/notes.html", form=form, meeting=meeting)


# Attendance -------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def attendance(meeting_id: int):
    """The invited agencies' members (those each sent last time) on one form, a guest to add, any
    invited agency's members listed in full on request; the confidentiality statement too."""
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    active, invited = queries.active_and_invited_agencies(meeting)
    sheet = queries.attendance_sheet(meeting, invited, _listed_in_full())
    form = forms.AttendanceSheetForm(agencies=active, unlisted=sheet.unlisted, invited=invited)
    if request.method == "GET":
        form.statement_read.data = meeting.statement_read_at is not None
    if request.method == "POST" and form.list_members.data:
        form.check_agency_to_list()  # nothing is saved: only the agency chosen is checked
    elif form.validate_on_submit():
        entries, tampered = _attendance_entries(form, sheet)
        if tampered:
            abort(400)
        if form.guest_name.data:
            entries.append(
                operations.AttendanceEntry(
                    agency_id=chosen(queries.agency_by_id(form.guest_agency_id.data)).id,
                    status=form.guest_status.data,
                    person_name=form.guest_name.data,
                    deputy_for=form.guest_deputy_for.data,
                )
            )
        operations.record_attendance(
            meeting,
            entries,
            statement_read_by=current_user._get_current_object() if form.statement_read.data else None,
        )
        if form.guest_name.data:  # back to the form, to add another
            flash("Attendance saved, with the guest added.", "success")
            return redirect(url_for("meetings.attendance", meeting_id=meeting.id))
        flash("Attendance saved.", "success")
        return to_meeting(meeting)
    # Shown again: with an error, or with an agency's members listed in full. Nothing was saved; each
    # line comes back as the chair left it.
    return render_template(
        "meetings/attendance_sheet.html",
        form=form,
        meeting=meeting,
        sheet=sheet,
        statement=confidentiality_statement(),
        choices=forms.ATTENDANCE_CHOICES,
        posted=request.form if request.method == "POST" else None,
        # The agency just listed in full, to go to (the page comes back at its top).
        listed=next((agency for agency in invited if agency.id == form.list_agency_id.data), None)
        if form.list_members.data and not form.list_agency_id.errors
        else None,
    )


def _listed_in_full() -> set[int]:
    """The agencies whose members the attendance form lists in full: those it listed so (posted back
    as ``in_full``) and the one chosen with "List all its members". Only ids; attendance_sheet keeps
    those of invited agencies."""
    if request.method != "POST":
        return set()
    wanted = request.form.getlist("in_full")
    if "list_members" in request.form:
        wanted.append(request.form.get("list_agency_id", ""))
    return {agency_id for agency_id in map(id_param, wanted) if agency_id is not None}


def _attendance_entries(form, sheet) -> tuple[list[operations.AttendanceEntry], bool]:
    """The lines this person changed: each line carries the status it showed (``seen-...``), so a line
    left as it was does not undo what a colleague recorded meanwhile. "Everyone else present" fills
    the lines that showed nothing and were left blank, except those listed only because their agency
    was listed in full: the chair listed them to choose for one person, not to mark them all."""
    entries, tampered = [], False
    fill = forms.ATTENDANCE_CHOICES[0][0] if form.everyone_else_present.data else ""
    for line in sheet.lines:
        status = form.statuses(request.form, line.field_name)
        seen = form.statuses(request.form, f"seen-{line.field_name}")
        if status is None or seen is None:
            tampered = True
            continue
        if status == seen:
            if status or not fill or line.row is not None or line.on_request:
                continue  # untouched
            status = fill
        user_id = line.user.id if line.user is not None else None
        row_id = line.row.id if line.row is not None else None
        entries.append(
            operations.AttendanceEntry(agency_id=line.agency.id, status=status, user_id=user_id, row_id=row_id)
        )
    return entries, tampered


@bp.route("/meetings/<int:meeting_id>/attendance/<int:row_id>/remove", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def remove_attendance(meeting_id: int, row_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    row = queries.attendance_row(meeting, row_id)
    if row is None:
        abort(404)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        operations.remove_attendance(meeting, row)
        flash("Removed from the attendance list.", "success")
        return redirect(url_for("meetings.attendance", meeting_id=meeting.id))
    return confirmation_page(
        meeting,
        form,
        title=f"Remove {row.name} from the attendance list?",
        body="They will no longer be recorded as present, sending apologies or absent at this meeting.",
        button="Yes, remove them",
        back=url_for("meetings.attendance", meeting_id=meeting.id),
    )


# Matters arising --------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/matters-arising")
@requires(Capability.READ_MEETINGS)
def matters_arising(meeting_id: int):
    """Open actions from earlier meetings that are overdue or due by the next meeting, by agency."""
    meeting, following_starts_at, first_review = matters_meeting_or_404(meeting_id)
    user = current_user._get_current_object()  # asked about every row: not through the proxy
    matters_filter = queries.MattersFilter.parse(request.args, user)
    counts = queries.matters_arising_counts(user, meeting, queries.matters_due_on(meeting, following_starts_at))
    pagination = queries.matters_arising_page(
        user,
        meeting,
        matters_filter,
        page_param(request.args.get("page")),
        current_app.config["MATTERS_ARISING_PER_PAGE"],
        counts,
    )
    audit.record("matters_arising_viewed", meeting)
    may_update = meeting.status != MeetingStatus.CANCELLED
    updatable = {row.id for row in pagination.items if may_update and may_update_action(user, row)}
    return render_template(
        "meetings/matters_arising.html",
        meeting=meeting,
        pagination=pagination,
        counts=counts,
        matters_filter=matters_filter,
        statuses=queries.MATTER_STATUSES,
        agencies=action_queries.visible_agencies(user),
        updatable=updatable,
        progress_row_form=progress_row_form,
        just_updated=id_param(request.args.get("updated", "")),
        first_review=first_review,
        today=london_today(),
    )


# Case reviews -----------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/agenda/regrade", methods=["POST"])
@requires(Capability.RECORD_MEETINGS)
def add_regrade_cases(meeting_id: int):
    """The meeting page's "Add to this agenda": the previous meeting's cases that reached no conclusion,
    with the agencies involved then. Posting again adds nothing more."""
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    lines = queries.cases_to_regrade(current_user._get_current_object(), meeting)
    added = operations.add_cases_to_regrade(meeting, [line.id for line in lines])
    if new := [result.review.case.reference for result in added if result.created]:
        flash(f"Added to the agenda, to be scored again: {', '.join(new)}.", "success")
    else:
        flash("Those cases are already on this agenda.", "info")
    return to_meeting(meeting, "agenda")


@bp.route("/meetings/<int:meeting_id>/reviews/<int:review_id>/remove", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def remove_review(meeting_id: int, review_id: int):
    """Taking a case off the agenda: a confirmation page first."""
    meeting = meeting_or_404(meeting_id)
    review = review_or_404(meeting, review_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    if review.actions:
        flash(
            "This case has actions, so it cannot be taken off the agenda. Cancel or complete its actions instead.",
            "error",
        )
        return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        operations.remove_case_review(review)
        flash("Case taken off the agenda.", "success")
        return redirect(url_for("meetings.agenda", meeting_id=meeting.id))
    return confirmation_page(
        meeting,
        form,
        title=f"Take case {review.case.reference} off the agenda?",
        body="What has been recorded for it at this meeting will be deleted. Earlier reviews of the case stay.",
        button="Yes, take it off the agenda",
        back=url_for("meetings.agenda", meeting_id=meeting.id),
    )


@bp.route("/meetings/<int:meeting_id>/reviews/move", methods=["POST"])
@requires(Capability.RECORD_MEETINGS)
def move_review(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    form = forms.MoveReviewForm()
    try:
        review_id = id_param(form.review_id.data or "")
        if not form.validate_on_submit() or review_id is None:
            raise operations.StaleAgenda()
        operations.move_case_review(meeting, review_id, form.direction.data, form.agenda.data)
    except operations.StaleAgenda:
        flash(
            "The agenda changed since you opened this page, so nothing was moved. Check the order and try again.",
            "error",
        )
    return redirect(url_for("meetings.agenda", meeting_id=meeting.id))


# Actions ----------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/actions/new", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def new_action(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    review = None
    if review_id := id_param(request.args.get("review", "")):
        review = review_or_404(meeting, review_id)
    form = forms.ActionForm(agencies=queries.agency_choices(), owners=queries.possible_owners(), today=london_today())
    if form.validate_on_submit():
        action = raise_action_from(form, meeting, review)
        flash(f"Action {action.reference} raised.", "success")
        if review is not None:
            return redirect(url_for("reviews.review", meeting_id=meeting.id, review_id=review.id))
        return to_meeting(meeting)
    return render_template("meetings/action_new.html", form=form, meeting=meeting, review=review)


# Approval ---------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/approve", methods=["GET", "POST"])
@requires(Capability.APPROVE_MINUTES)
def approve(meeting_id: int):
    """The approval check: blocking gaps must be fixed, the rest accepted one by one, then approve."""
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    check = queries.approval_check(current_user, meeting)
    gaps = check.gaps
    form = forms.ApprovalForm()
    form.accepted.choices = [(gap.key, gap.message) for gap in gaps if not gap.blocking]
    if form.validate_on_submit():
        try:
            operations.approve_minutes(
                meeting, current_user._get_current_object(), gaps=gaps, accepted=frozenset(form.accepted.data or [])
            )
        except operations.GapsRemain as remaining:
            if remaining.blocking:
                form.accepted.errors.append("Fix the gaps marked as needing to be fixed before approving")
            else:
                form.accepted.errors.append("Tick each gap you accept, or fix it, before approving")
        else:
            flash(f"Minutes approved (revision {meeting.minutes_revision}). They are now locked.", "success")
            return to_meeting(meeting)
    return render_template(
        "meetings/approve.html",
        form=form,
        meeting=meeting,
        check=check,
        blocking=[gap for gap in gaps if gap.blocking],
        acceptable=[gap for gap in gaps if not gap.blocking],
    )


@bp.route("/meetings/<int:meeting_id>/reopen", methods=["GET", "POST"])
@requires(Capability.APPROVE_MINUTES)
def reopen(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if meeting.status != MeetingStatus.APPROVED:
        flash("Only approved minutes can be reopened.", "error")
        return to_meeting(meeting)
    form = forms.ReasonForm()
    if form.validate_on_submit():
        operations.reopen_minutes(meeting, form.reason.data, by=current_user)
        flash(f"Minutes reopened as revision {meeting.minutes_revision}.", "success")
        return to_meeting(meeting)
    return render_template(
        "meetings/reason.html",
        form=form,
        meeting=meeting,
        title="Reopen the minutes",
        button="Reopen minutes",
        warning="Reopening starts a new revision of the minutes. The approved revision stays on record.",
    )

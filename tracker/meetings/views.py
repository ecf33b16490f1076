"""The chair's working surface: meetings, attendance, case reviews, actions, approval.

Thin views: parse, authorise, call an operation or a query, render. Anything outside the
user's scope is a 404, exactly like something that does not exist.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import audit
from tracker.actions.forms import ActionProgressForm
from tracker.forms import chosen
from tracker.meetings import bp, forms, operations, queries
from tracker.meetings.pages import meeting_or_404, refuse_if_locked, review_or_404, to_meeting
from tracker.models import SCRUTINY_GRADES, MeetingStatus
from tracker.params import id_param, page_param
from tracker.permissions import Capability, can, may_cancel_action, requires
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
    counts = queries.review_counts([meeting.id for meeting in page.items])
    return render_template(
        "meetings/list.html", page=page, filters=filters, counts=counts, statuses=list(MeetingStatus)
    )


def _details_form(form_class, **kwargs):
    return form_class(chairs=queries.chairs(), agencies=queries.active_agencies(), **kwargs)


def _start_time(form):
    hours, minutes = (int(part) for part in form.time.data.split(":"))
    return datetime.min.time().replace(hour=hours, minute=minutes)


@bp.route("/meetings/new", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def new_meeting():
    form = _details_form(forms.NewMeetingForm)
    if request.method == "GET":
        form.chair_id.data = current_user.id
        form.invited_agency_ids.data = [agency.id for agency in queries.active_agencies()]
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
            flash("Meeting scheduled.", "success")
            return to_meeting(created[0])
        flash(f"{len(created)} weekly meetings scheduled.", "success")
        return redirect(url_for("meetings.meetings"))
    return render_template("meetings/new.html", form=form)


@bp.route("/meetings/<int:meeting_id>")
@requires(Capability.READ_MEETINGS)
def meeting(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    record = queries.meeting_record(current_user, meeting)
    audit.record("meeting_viewed", meeting)
    may_record = can(current_user, Capability.RECORD_MEETINGS)
    progress_forms = {}
    if may_record and meeting.status != MeetingStatus.CANCELLED:
        for item in record.matters_arising:
            progress_forms[item.action.id] = ActionProgressForm(
                formdata=None,
                action=item.action,
                may_cancel=may_cancel_action(current_user),
                version=item.action.version,
                prefix=f"a{item.action.id}",
            )
    return render_template(
        "meetings/meeting.html",
        record=record,
        meeting=meeting,
        may_record=may_record,
        may_approve=can(current_user, Capability.APPROVE_MINUTES),
        statement=confidentiality_statement(),
        add_case_form=forms.AddCaseForm(formdata=None),
        notes_form=forms.MinutesTextForm(formdata=None, obj=meeting),
        confirm_form=forms.ReasonForm(formdata=None),
        progress_forms=progress_forms,
        agenda=operations.agenda_token(meeting) if may_record else "",
        grades=SCRUTINY_GRADES,
        today=london_today(),
        revisions=queries.stored_minutes(meeting),
        just_updated=id_param(request.args.get("updated", "")),
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


@bp.route("/meetings/<int:meeting_id>/notes", methods=["POST"])
@requires(Capability.RECORD_MEETINGS)
def save_notes(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    form = forms.MinutesTextForm()
    if form.validate_on_submit():
        operations.save_minutes_text(
            meeting, general_notes=form.general_notes.data, any_other_business=form.any_other_business.data
        )
        flash("Notes saved.", "success")
        return to_meeting(meeting, "notes")
    return render_template("meetings/notes.html", form=form, meeting=meeting)


# Attendance -------------------------------------------------------------------------------


def _attendance_form(**kwargs):
    return forms.AttendanceForm(agencies=queries.active_agencies(), users=queries.active_users(), **kwargs)


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def attendance(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    form = _attendance_form()
    if form.validate_on_submit():
        operations.add_attendance(
            meeting,
            agency=chosen(queries.agency_by_id(form.agency_id.data)),
            user=queries.user_by_id(form.user_id.data),
            person_name=form.person_name.data,
            status=form.status.data,
            role=form.role.data or "member",
            deputy_for=form.deputy_for.data,
        )
        flash("Attendance recorded.", "success")
        return redirect(url_for("meetings.attendance", meeting_id=meeting.id))
    record = queries.meeting_record(current_user, meeting)
    return render_template(
        "meetings/attendance.html",
        form=form,
        meeting=meeting,
        record=record,
        confirm_form=forms.ReasonForm(formdata=None),
    )


@bp.route("/meetings/<int:meeting_id>/attendance/<int:row_id>/remove", methods=["POST"])
@requires(Capability.RECORD_MEETINGS)
def remove_attendance(meeting_id: int, row_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    row = queries.attendance_row(meeting, row_id)
    if row is None:
        abort(404)
    operations.remove_attendance(meeting, row)
    flash("Removed from the attendance list.", "success")
    return redirect(url_for("meetings.attendance", meeting_id=meeting.id))


# Case reviews -----------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/reviews", methods=["POST"])
@requires(Capability.RECORD_MEETINGS)
def add_review(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    form = forms.AddCaseForm()
    if form.validate_on_submit():
        added = operations.add_case_review(meeting, form.reference.data)
        if added.created:
            flash("Case added to the agenda.", "success")
        else:
            flash("That case is already on this agenda.", "info")
        return redirect(url_for("reviews.review", meeting_id=meeting.id, review_id=added.review.id))
    return render_template("meetings/add_case.html", form=form, meeting=meeting)


@bp.route("/meetings/<int:meeting_id>/reviews/<int:review_id>/remove", methods=["POST"])
@requires(Capability.RECORD_MEETINGS)
def remove_review(meeting_id: int, review_id: int):
    meeting = meeting_or_404(meeting_id)
    review = review_or_404(meeting, review_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    try:
        operations.remove_case_review(review)
    except operations.ReviewHasActions:
        flash(
            "This case has actions, so it cannot be removed from the agenda. Cancel or complete its actions instead.",
            "error",
        )
        return to_meeting(meeting, f"review-{review_id}")
    flash("Case removed from the agenda.", "success")
    return to_meeting(meeting, "agenda")


@bp.route("/meetings/<int:meeting_id>/reviews/move", methods=["POST"])
@requires(Capability.RECORD_MEETINGS)
def move_review(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    form = forms.MoveReviewForm()
    try:
        if not form.validate_on_submit() or not (form.review_id.data or "").isdigit():
            raise operations.StaleAgenda()
        operations.move_case_review(meeting, int(form.review_id.data), form.direction.data, form.agenda.data)
    except operations.StaleAgenda:
        flash(
            "The agenda changed since you opened this page, so nothing was moved. Check the order and try again.",
            "error",
        )
    return to_meeting(meeting, "agenda")


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
    form = forms.ActionForm(agencies=queries.active_agencies(), owners=queries.active_users(), today=london_today())
    if form.validate_on_submit():
        action = operations.raise_action(
            meeting,
            review=review,
            description=form.description.data,
            agency=chosen(queries.agency_by_id(form.owning_agency_id.data)),
            owner=queries.user_by_id(form.owner_id.data),
            due_date=chosen(form.due_date.data),
            by=current_user._get_current_object(),
        )
        flash(f"Action {action.reference} raised.", "success")
        return to_meeting(meeting, f"review-{review.id}" if review else "meeting-actions")
    return render_template("meetings/action_new.html", form=form, meeting=meeting, review=review)


# Approval ---------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/approve", methods=["POST"])
@requires(Capability.APPROVE_MINUTES)
def approve(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if refusal := refuse_if_locked(meeting):
        return refusal
    operations.approve_minutes(meeting, current_user._get_current_object())
    flash(f"Minutes approved (revision {meeting.minutes_revision}). They are now locked.", "success")
    return to_meeting(meeting)


@bp.route("/meetings/<int:meeting_id>/reopen", methods=["GET", "POST"])
@requires(Capability.APPROVE_MINUTES)
def reopen(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    if meeting.status != MeetingStatus.APPROVED:
        flash("Only approved minutes can be reopened.", "error")
        return to_meeting(meeting)
    form = forms.ReasonForm()
    if form.validate_on_submit():
        operations.reopen_minutes(meeting, form.reason.data)
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

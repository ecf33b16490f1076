"""The case review page (read it; chairs record it, an action with it if they like) and a partner
agency's pre-meeting information on the case."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import audit
from tracker.meetings import forms as meeting_forms
from tracker.meetings import queries as meeting_queries
from tracker.meetings.pages import meeting_or_404, raise_action_from, refuse_if_locked, review_or_404, to_meeting
from tracker.permissions import Capability, can, can_see_feedback, may_return_information, requires
from tracker.reviews import bp, forms, operations, queries
from tracker.timeutil import london_today

ACTION_PREFIX = "action"


def _review_form(agencies, review, **kwargs):
    return forms.CaseReviewForm(agencies=agencies, themes=meeting_queries.themes_for_review(review.id), **kwargs)


def _action_form(agencies, **kwargs):
    """The optional action raised together with the review (its fields are prefixed "action-").
    Read from the post only when the post has its fields (a date input needs all three parts)."""
    if not any(key.startswith(f"{ACTION_PREFIX}-") for key in request.form):
        kwargs["formdata"] = None
    return meeting_forms.ActionForm(
        agencies=agencies,
        owners=meeting_queries.possible_owners(),
        today=london_today(),
        prefix=ACTION_PREFIX,
        **kwargs,
    )


def _prefill(form, review) -> None:
    form.flags.data = [column for column, _ in forms.RISK_FLAGS if getattr(review, column)]
    form.agency_ids.data = [agency.id for agency in review.agencies]
    form.theme_ids.data = [theme.id for theme in review.themes]
    form.scrutiny_grade.data = str(review.scrutiny_grade) if review.scrutiny_grade else None
    form.risk_level.data = review.risk_level.value if review.risk_level and review.risk_overridden else None


@bp.route("/meetings/<int:meeting_id>/reviews/<int:review_id>", methods=["GET", "POST"])
@requires(Capability.READ_MEETINGS)
def review(meeting_id: int, review_id: int):
    meeting = meeting_or_404(meeting_id)
    review = review_or_404(meeting, review_id)
    may_edit = can(current_user, Capability.RECORD_MEETINGS) and not meeting.is_locked
    if request.method == "POST":
        if not can(current_user, Capability.RECORD_MEETINGS):
            abort(403)
        if refusal := refuse_if_locked(meeting):
            return refusal
    form = action_form = None
    if may_edit:  # a POST from anyone else was refused above; readers get no forms to fill
        agencies = meeting_queries.agency_choices()  # for both forms: asked once
        form = _review_form(agencies, review, obj=review)
        action_form = _action_form(agencies)
        if request.method == "GET":
            _prefill(form, review)
        elif _saved(form, action_form, meeting, review):
            return _after_save(form, meeting, review)
    history = queries.case_history(current_user._get_current_object(), review, before=meeting.starts_at)
    audit.record("case_review_viewed", review, detail=f"case {review.case_id}")
    return render_template(
        "reviews/review.html",
        form=form,
        action_form=action_form,
        meeting=meeting,
        review=review,
        history=history,
        may_edit=may_edit,
        actions=history.on_review,
        # Asked whether or not the agenda is published (empty before), so the page's queries stay the same.
        returns=queries.returns_on(current_user, review),
        show_feedback=can_see_feedback(current_user),
        may_return=may_return_information(current_user, review),
        today=london_today(),
    )


def _saved(form, action_form, meeting, review) -> bool:
    """Validate and save the review and, when its fields are filled in, the action raised with it."""
    valid = form.validate_on_submit()
    if valid and not form.is_draft:
        valid = form.check_complete()
    wants_action = bool((action_form.description.data or "").strip())
    if wants_action:
        valid = action_form.validate() and valid
    if not valid:
        return False
    operations.update_case_review(
        review,
        dash_score=form.dash_score.data,
        risk_overridden=form.risk_overridden.data,
        risk_level=form.risk_level.data,
        risk_override_reason=form.risk_override_reason.data,
        flags=form.flags.data or [],
        agencies=meeting_queries.agencies_by_ids(form.agency_ids.data),
        summary=form.summary.data,
        findings=form.findings.data,
        scrutiny_grade=int(form.scrutiny_grade.data) if form.scrutiny_grade.data else None,
        themes=meeting_queries.themes_by_ids(form.theme_ids.data),
        feedback_to_officer=form.feedback_to_officer.data,
    )
    if wants_action:
        action = raise_action_from(action_form, meeting, review)
        flash(f"Case review saved, and action {action.reference} raised.", "success")
    else:
        draft = form.is_draft
        flash("Draft saved." if draft else "Case review saved.", "success")
    return True


def _after_save(form, meeting, review):
    if form.save_and_action.data:
        return redirect(url_for("meetings.new_action", meeting_id=meeting.id, review=review.id))
    if form.save_and_next.data:
        following = queries.next_review(current_user, review)
        if following is not None:
            return redirect(url_for("reviews.review", meeting_id=meeting.id, review_id=following.id))
        if can(current_user, Capability.APPROVE_MINUTES):
            return redirect(url_for("meetings.approve", meeting_id=meeting.id))
    return to_meeting(meeting)


@bp.route("/meetings/<int:meeting_id>/reviews/<int:review_id>/return", methods=["GET", "POST"])
@requires(Capability.UPDATE_ACTIONS)
def agency_return(meeting_id: int, review_id: int):
    """A partner agency involved in a case on a published agenda says what it holds and has done."""
    meeting = meeting_or_404(meeting_id)
    review = review_or_404(meeting, review_id)
    if not may_return_information(current_user, review):
        abort(404)
    existing = queries.returns_on(current_user, review).get(current_user.agency_id)
    form = forms.AgencyReturnForm(obj=existing)
    if form.validate_on_submit():
        operations.save_agency_return(
            review,
            agency=current_user.agency,
            by=current_user._get_current_object(),
            no_information_held=form.no_information_held.data,
            contact_made=form.contact_made.data,
            information=form.information.data,
        )
        flash("Your agency's information has been sent to the chair.", "success")
        return to_meeting(meeting)
    audit.record("case_review_viewed", review, detail=f"case {review.case_id} for the agency's return")
    return render_template(
        "reviews/return.html",
        form=form,
        meeting=meeting,
        review=review,
        existing=existing,
    )

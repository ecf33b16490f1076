"""The case review page: read a review, and (chairs) record it."""

from __future__ import annotations

from flask import abort, flash, render_template, request
from flask_login import current_user

from tracker import audit
from tracker.meetings import queries as meeting_queries
from tracker.meetings.pages import meeting_or_404, refuse_if_locked, review_or_404, to_meeting
from tracker.permissions import Capability, can, requires
from tracker.reviews import bp, forms, operations, queries


def _review_form(**kwargs):
    return forms.CaseReviewForm(
        agencies=meeting_queries.active_agencies(), themes=meeting_queries.active_themes(), **kwargs
    )


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
    form = _review_form(obj=review)
    if request.method == "GET":
        form.flags.data = [column for column, _ in forms.RISK_FLAGS if getattr(review, column)]
        form.agency_ids.data = [agency.id for agency in review.agencies]
        form.theme_ids.data = [theme.id for theme in review.themes]
        form.scrutiny_grade.data = str(review.scrutiny_grade) if review.scrutiny_grade else None
        form.risk_level.data = review.risk_level.value if review.risk_level and review.risk_overridden else None
    if may_edit and form.validate_on_submit():
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
        flash("Case review saved.", "success")
        return to_meeting(meeting, f"review-{review.id}")
    history = queries.case_history(current_user, review.case_id, before=meeting.starts_at, exclude_review_id=review.id)
    audit.record("case_review_viewed", review, detail=f"case {review.case_id}")
    return render_template(
        "reviews/review.html", form=form, meeting=meeting, review=review, history=history, may_edit=may_edit
    )

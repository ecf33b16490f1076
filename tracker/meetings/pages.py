"""Helpers for the pages inside a meeting (the meeting's own views and the case review pages):
404 lookups scoped to the user, the refusal to change locked minutes, the confirmation page and
raising an action from its form."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from tracker import once
from tracker.forms import chosen
from tracker.meetings import operations, queries
from tracker.models import CaseReview, Meeting, MeetingStatus

LOCKED_MESSAGE = "These minutes are approved, so they cannot be changed. Reopen the minutes first (a reason is needed)."
CANCELLED_MESSAGE = "This meeting is cancelled, so it cannot be changed."


def meeting_or_404(meeting_id: int, *, with_page_details: bool = False):
    meeting = queries.meeting_for(current_user, meeting_id, with_page_details=with_page_details)
    if meeting is None:
        abort(404)
    return meeting


def matters_meeting_or_404(meeting_id: int) -> queries.MattersMeeting:
    """The meeting, the start of the next meeting going ahead and the first case (queries.matters_meeting)."""
    found = queries.matters_meeting(current_user, meeting_id)
    if found is None:
        abort(404)
    return found


def review_or_404(meeting, review_id: int):
    review = queries.review_for(current_user, meeting, review_id)
    if review is None:
        abort(404)
    return review


def refuse_if_locked(meeting):
    """Redirect back to the meeting with a clear message if its minutes cannot be edited."""
    if meeting.is_locked:
        once.forget()
        flash(CANCELLED_MESSAGE if meeting.status == MeetingStatus.CANCELLED else LOCKED_MESSAGE, "error")
        return redirect(url_for("meetings.meeting", meeting_id=meeting.id))
    return None


def to_meeting(meeting, anchor: str = ""):
    return redirect(url_for("meetings.meeting", meeting_id=meeting.id) + (f"#{anchor}" if anchor else ""))


def confirmation_page(meeting: Meeting, form, *, title: str, body: str, button: str, back: str):
    """The page asking "are you sure?" before something is removed or undone."""
    return render_template(
        "meetings/confirm.html", form=form, meeting=meeting, title=title, body=body, button=button, back=back
    )


def raise_action_from(form, meeting: Meeting, review: CaseReview | None):
    """Raise the action an ActionForm describes (on the action page, or alongside a case review)."""
    return operations.raise_action(
        meeting,
        review=review,
        description=form.description.data,
        agency=chosen(queries.agency_by_id(form.owning_agency_id.data)),
        owner=queries.user_by_id(form.owner_id.data),
        due_date=chosen(form.due_date.data),
        by=current_user._get_current_object(),
    )

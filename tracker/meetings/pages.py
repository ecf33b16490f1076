"""Helpers for the pages inside a meeting (the meeting's own views and the case review pages):
404 lookups scoped to the user, and the refusal to change locked minutes."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from tracker.meetings import queries
from tracker.models import MeetingStatus

LOCKED_MESSAGE = "These minutes are approved, so they cannot be changed. Reopen the minutes first (a reason is needed)."
CANCELLED_MESSAGE = "This meeting is cancelled, so it cannot be changed."


def meeting_or_404(meeting_id: int):
    meeting = queries.meeting_for(current_user, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def review_or_404(meeting, review_id: int):
    review = queries.review_for(current_user, meeting, review_id)
    if review is None:
        abort(404)
    return review


def refuse_if_locked(meeting):
    """Redirect back to the meeting with a clear message if its minutes cannot be edited."""
    if meeting.is_locked:
        flash(CANCELLED_MESSAGE if meeting.status == MeetingStatus.CANCELLED else LOCKED_MESSAGE, "error")
        return redirect(url_for("meetings.meeting", meeting_id=meeting.id))
    return None


def to_meeting(meeting, anchor: str = ""):
    return redirect(url_for("meetings.meeting", meeting_id=meeting.id) + (f"#{anchor}" if anchor else ""))

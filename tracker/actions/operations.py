"""Writes for actions after they are raised: progress, status, due dates. Append-only trail."""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from tracker import audit
from tracker.extensions import db
from tracker.models import Action, ActionStatus, ActionUpdate, User
from tracker.timeutil import utcnow


class ActionChangedElsewhere(Exception):
    """Someone else saved this action after the user loaded it (optimistic locking)."""


class ActionClosed(Exception):
    """Completed and cancelled actions take no further changes."""


def record_progress(action: Action, *, by: User, note: str, new_status: ActionStatus | None,
                    seen_version: int) -> ActionUpdate:
    """Add a progress note and optionally move the status. The note is the outcome when completing
    and the reason when cancelling. Refuses if the action changed since ``seen_version``."""
    if action.version != seen_version:
        raise ActionChangedElsewhere()
    if action.status.is_closed:
        raise ActionClosed()
    old_status = action.status
    changing = new_status is not None and new_status != old_status
    update = ActionUpdate(action=action, author=by, note=note,
                          status_from=old_status if changing else None, status_to=new_status if changing else None)
    db.session.add(update)
    if changing:
        action.status = new_status
        if new_status == ActionStatus.COMPLETED:
            action.completion_note, action.closed_at = note, utcnow()
        elif new_status == ActionStatus.CANCELLED:
            action.cancellation_reason, action.closed_at = note[:500], utcnow()
    # Every saved update bumps the version, so a concurrent second save is caught even if
    # it only adds a note.
    action.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        raise ActionChangedElsewhere() from None
    detail = f"status {old_status}->{new_status}" if changing else "progress note"
    audit.record("action_updated", action, detail=detail)
    return update

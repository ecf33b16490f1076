"""Writes for actions after they are raised: progress, status, due dates. Append-only trail."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm.exc import StaleDataError

from tracker import audit
from tracker.actions import queries
from tracker.extensions import db
from tracker.models import Action, ActionStatus, ActionUpdate, ExtensionRequest, ExtensionStatus, User
from tracker.notify import outbox
from tracker.notify.extensions import extension_decided_message, extension_deciders, extension_requested_message
from tracker.timeutil import format_date, utcnow


class ActionChangedElsewhere(Exception):
    """Someone else saved this action after the user loaded it (optimistic locking)."""


class ActionClosed(Exception):
    """Completed and cancelled actions take no further changes."""


def record_progress(
    action: Action, *, by: User, note: str, new_status: ActionStatus | None, seen_version: int
) -> ActionUpdate:
    """Add a progress note and optionally move the status. The note is the outcome when completing
    and the reason when cancelling. Refuses if the action changed since ``seen_version``."""
    _check_version(action, seen_version)
    old_status = action.status
    changing = new_status is not None and new_status != old_status
    update = ActionUpdate(
        action=action,
        author=by,
        note=note,
        status_from=old_status if changing else None,
        status_to=new_status if changing else None,
    )
    db.session.add(update)
    if new_status is not None and changing:
        action.status = new_status
        if new_status == ActionStatus.COMPLETED:
            action.completion_note, action.closed_at = note, utcnow()
        elif new_status == ActionStatus.CANCELLED:
            action.cancellation_reason, action.closed_at = note[:500], utcnow()
    # Every saved update bumps the version, so a concurrent second save is caught even if
    # it only adds a note.
    action.updated_at = utcnow()
    _flush_or_conflict()
    detail = f"status {old_status}->{new_status}" if changing else "progress note"
    audit.record("action_updated", action, detail=detail)
    return update


def _check_version(action: Action, seen_version: int) -> None:
    if action.version != seen_version:
        raise ActionChangedElsewhere()
    if action.status.is_closed:
        raise ActionClosed()


def _flush_or_conflict() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise ActionChangedElsewhere() from None


def change_due_date(action: Action, *, by: User, new_due: date, reason: str, seen_version: int) -> ActionUpdate:
    """Move the due date; the old date, the new one and the reason stay in the trail."""
    _check_version(action, seen_version)
    update = ActionUpdate(
        action=action, author=by, note="", due_from=action.due_date, due_to=new_due, due_change_reason=reason
    )
    db.session.add(update)
    old_due, action.due_date = action.due_date, new_due
    _flush_or_conflict()
    audit.record("action_due_date_changed", action, detail=f"{old_due.isoformat()}->{new_due.isoformat()}")
    return update


def assign_owner(action: Action, *, by: User, owner: User | None, seen_version: int) -> ActionUpdate:
    """Name (or clear) the owner within the owning agency."""
    _check_version(action, seen_version)
    previous = action.owner
    note = f"Owner changed to {owner.display_name}" if owner else "Named owner removed; the agency's SPOC follows it up"
    update = ActionUpdate(action=action, author=by, note=note)
    db.session.add(update)
    action.owner = owner
    _flush_or_conflict()
    audit.record(
        "action_owner_changed", action, detail=f"user {previous.id if previous else '-'}->{owner.id if owner else '-'}"
    )
    return update


class NotCancelled(Exception):
    """Only a cancelled action can be reopened."""


def reopen_action(action: Action, *, by: User, reason: str, seen_version: int) -> ActionUpdate:
    """Bring a cancelled action back (open, on its current due date); the reason stays in the trail."""
    if action.version != seen_version:
        raise ActionChangedElsewhere()
    if action.status != ActionStatus.CANCELLED:
        raise NotCancelled()
    update = ActionUpdate(
        action=action, author=by, note=reason, status_from=ActionStatus.CANCELLED, status_to=ActionStatus.OPEN
    )
    db.session.add(update)
    # The cancellation's reason stays in the trail; on the action it would now mislead.
    action.status, action.closed_at, action.cancellation_reason = ActionStatus.OPEN, None, ""
    action.updated_at = utcnow()
    _flush_or_conflict()
    audit.record("action_reopened", action, detail="status cancelled->open")
    return update


# Extension requests ------------------------------------------------------------------------


class ExtensionAlreadyPending(Exception):
    """An action has at most one extension request waiting for a decision."""


class ExtensionAlreadyDecided(Exception):
    """A request is agreed or declined once."""


def request_extension(
    action: Action, *, by: User, new_due: date, reason: str, seen_version: int, service_url: str
) -> ExtensionRequest:
    """A partner asks for a later due date. The action stays due on its current date until a chair
    agrees; the chairs are told by e-mail once the request has committed.

    Recording the request bumps the action's version, so two people asking at the same moment
    cannot both succeed: the second is refused as a concurrent change.
    """
    _check_version(action, seen_version)
    if queries.pending_extension(action) is not None:
        raise ExtensionAlreadyPending()
    request = ExtensionRequest(
        action=action,
        requested_by=by,
        current_due_date=action.due_date,
        requested_due_date=new_due,
        reason=reason,
        status=ExtensionStatus.PENDING,
    )
    db.session.add(request)
    db.session.add(
        ActionUpdate(action=action, author=by, note=f"Asked for the due date to move to {format_date(new_due)}.")
    )
    action.updated_at = utcnow()
    _flush_or_conflict()
    audit.record(
        "extension_requested",
        action,
        detail=f"request {request.id}: {action.due_date.isoformat()}->{new_due.isoformat()}",
    )
    for chair in extension_deciders():
        outbox.queue(extension_requested_message(chair, request, service_url))
    return request


def decide_extension(
    request: ExtensionRequest, *, by: User, agree: bool, note: str, seen_version: int, service_url: str
) -> ActionUpdate:
    """A chair agrees (the due date moves, recorded in the trail) or declines (the date stays).
    The original due date never moves. The person who asked is told by e-mail."""
    action = request.action
    if request.status != ExtensionStatus.PENDING:
        raise ExtensionAlreadyDecided()
    _check_version(action, seen_version)
    request.status = ExtensionStatus.AGREED if agree else ExtensionStatus.DECLINED
    request.decided_by, request.decided_at, request.decision_note = by, utcnow(), note
    if agree:
        update = ActionUpdate(
            action=action,
            author=by,
            note=note,
            due_from=action.due_date,
            due_to=request.requested_due_date,
            due_change_reason=f"Extension agreed: {request.reason}"[:500],
        )
        old_due, action.due_date = action.due_date, request.requested_due_date
        detail = f"request {request.id}: {old_due.isoformat()}->{action.due_date.isoformat()}"
    else:
        update = ActionUpdate(
            action=action,
            author=by,
            note=f"Extension to {format_date(request.requested_due_date)} declined. {note}".strip(),
        )
        detail = f"request {request.id}: stays {action.due_date.isoformat()}"
    db.session.add(update)
    action.updated_at = utcnow()
    _flush_or_conflict()
    audit.record("extension_agreed" if agree else "extension_declined", action, detail=detail)
    requester = request.requested_by
    if requester is not None and requester.active:
        outbox.queue(extension_decided_message(requester, request, service_url))
    return update

"""Actions: the filtered list, CSV export, the action page and its three kinds of change."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import audit
from tracker.actions import bp, operations, queries
from tracker.actions.filters import SORTS, STATUS_CHOICES, ActionFilter, OutOfScope, Problem
from tracker.actions.forms import (
    KEEP_STATUS,
    ActionProgressForm,
    CancelActionForm,
    DueDateForm,
    OwnerForm,
    ReopenActionForm,
)
from tracker.forms import chosen
from tracker.models import ActionStatus
from tracker.params import page_param
from tracker.permissions import Capability, may_assign_owner, may_cancel_action, may_update_action, requires
from tracker.redirects import is_safe_local_path
from tracker.timeutil import format_date, london_today

PROGRESS_MESSAGES = {
    ActionStatus.COMPLETED: "Action completed.",
    ActionStatus.CANCELLED: "Action cancelled.",
    ActionStatus.IN_PROGRESS: "Action started.",
}
CSV_COLUMNS = [
    "Action",
    "Description",
    "Agency",
    "Named owner",
    "Due date",
    "Status",
    "Overdue",
    "Meeting",
    "Case reference",
    "Raised",
]


def _filter_or_404() -> tuple[ActionFilter, list[Problem]]:
    try:
        return ActionFilter.parse(request.args, current_user)
    except OutOfScope:
        abort(404)


@bp.route("/actions")
@requires(Capability.READ_ACTIONS)
def actions():
    filters, problems = _filter_or_404()
    if problems:
        # The service's own messages, never the text that was typed.
        flash("Some filters were ignored. " + " ".join(f"{problem.message}." for problem in problems), "info")
    page_number = page_param(request.args.get("page"))
    page = queries.actions_page(current_user, filters, page_number, current_app.config["ACTIONS_PER_PAGE"])
    return render_template(
        "actions/list.html",
        page=page,
        filters=filters,
        today=london_today(),
        agencies=queries.visible_agencies(current_user),
        owners=queries.owners_for_filter(current_user),
        statuses=STATUS_CHOICES,
        sorts=SORTS,
    )


# Characters that make a spreadsheet program read a cell as a formula or a command (the pipe starts a
# DDE command), with their full-width, small-form and mathematical look-alikes, which some programs
# fold to the ASCII ones.
FORMULA_STARTERS = frozenset(
    "=+-@|\t\r"
    "\uff1d\uff0b\uff0d\uff20\uff5c"  # full-width = + - @ |
    "\ufe66\ufe62\ufe63\ufe6b"  # small = + - @
    "\u2212\u2795\u2796\u207a\u207b\u207c\u208a\u208b\u208c\u2223"  # minus signs, super/subscripts, divides
)
# Spreadsheets skip these before a formula, so the guard looks past them.
IGNORED_LEADING = " \u00a0\u3000"
LINE_BREAKS = re.compile(r"(\r\n|\r|\n)")
CSV_BOM = "\ufeff"


def _neutralise(value) -> str:
    """Stop spreadsheet programs treating a cell as a formula (CSV injection): a cell, or any line of
    a multi-line cell, that starts (after spaces) with a formula character gets a leading apostrophe."""
    text = "" if value is None else str(value)
    pieces = LINE_BREAKS.split(text)  # lines at even indexes, their line breaks between them
    for i in range(0, len(pieces), 2):
        if pieces[i].lstrip(IGNORED_LEADING)[:1] in FORMULA_STARTERS:
            pieces[i] = "'" + pieces[i]
    return "".join(pieces)


def _csv_row(action) -> list[str]:
    review = action.case_review
    return [
        _neutralise(cell)
        for cell in (
            action.reference,
            action.description,
            action.owning_agency.name,
            action.owner.display_name if action.owner else "",
            action.due_date.isoformat(),
            action.status.label,
            "Yes" if action.is_overdue else "No",
            action.meeting.starts_at.date().isoformat(),
            review.case.reference if review else "",
            action.created_at.date().isoformat(),
        )
    ]


@bp.route("/actions/export.csv")
@requires(Capability.READ_ACTIONS)
def export():
    filters, _problems = _filter_or_404()  # the list page's links carry only the filters it could use
    audit.record("actions_exported", detail=filters.for_audit())
    # Written out in full before the request's transaction ends (a streamed body would outlive it).
    buffer = io.StringIO()
    buffer.write(CSV_BOM)  # UTF-8 with a byte-order mark, so spreadsheet programs read it as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for action in queries.actions_for_export(current_user, filters):
        writer.writerow(_csv_row(action))
    filename = queries.filter_names(filters).filename("actions", filters, ".csv")
    return Response(
        buffer.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _action_or_404(action_id: int):
    action = queries.action_for(current_user, action_id)
    if action is None:
        abort(404)
    return action


def _forms_for(action, **overrides):
    forms = {
        "progress": ActionProgressForm(formdata=None, action=action, version=action.version, prefix="progress"),
        "due": DueDateForm(formdata=None, today=london_today(), version=action.version, prefix="due"),
        "owner": OwnerForm(
            formdata=None,
            members=queries.agency_members(action.owning_agency_id),
            version=action.version,
            owner_id=action.owner_id,
            prefix="owner",
        ),
    }
    forms.update(overrides)
    return forms


def _render_action(action, status=200, conflict=False, **form_overrides):
    user = current_user
    may_update = may_update_action(user, action) and not action.status.is_closed
    forms = _forms_for(action, **form_overrides)
    return render_template(
        "actions/action.html",
        action=action,
        form=next((f for f in forms.values() if f.errors), None),
        trail=queries.trail(action),
        today=london_today(),
        forms=forms,
        may_update=may_update,
        may_assign=may_update and may_assign_owner(user, action),
        may_cancel=may_cancel_action(user) and not action.status.is_closed,
        may_reopen=may_cancel_action(user) and action.status == ActionStatus.CANCELLED,
        may_see_meeting=queries.may_see_meeting(user, action.meeting_id),
        may_see_review=queries.may_see_review(user, action.case_review_id),
        conflict=conflict,
    ), status


@bp.route("/actions/<int:action_id>")
@requires(Capability.READ_ACTIONS)
def action(action_id: int):
    action = _action_or_404(action_id)
    audit.record("action_viewed", action)
    return _render_action(action)


def _writable_or_404(action_id: int):
    action = _action_or_404(action_id)
    if not may_update_action(current_user, action):
        abort(403)
    return action


def _conflict(action, **form_overrides):
    """Someone else saved first: show what the action is now, keep the user's text, save nothing."""
    from tracker.extensions import db

    db.session.rollback()
    fresh = _action_or_404(action.id)
    for form in form_overrides.values():
        # Submitting again applies the user's change on top of the other person's.
        form.version.data, form.version.raw_data = fresh.version, [str(fresh.version)]
    return _render_action(fresh, status=409, conflict=True, **form_overrides)


def _closed(action):
    flash(f"Action {action.reference} is {action.status.label.lower()}, so it cannot be changed.", "error")
    return redirect(url_for("actions.action", action_id=action.id))


def _progress_prefix(action) -> str:
    """The action page's form is prefixed "progress"; each matters-arising row on a meeting page is
    prefixed with its action, so the fields' ids stay unique on that page."""
    row_prefix = f"a{action.id}"
    return row_prefix if f"{row_prefix}-version" in request.form else "progress"


def _after_progress(action, message: str):
    """Back to the page the update came from (a meeting's matters arising, the row marked), or the action."""
    came_from = request.form.get("next")
    if came_from and is_safe_local_path(came_from):
        flash(f"{action.reference}: {message}", "success")
        parts = urlsplit(came_from)
        query = [(key, value) for key, value in parse_qsl(parts.query) if key != "updated"] + [("updated", action.id)]
        return redirect(urlunsplit(("", "", parts.path, urlencode(query), f"action-{action.id}")))
    flash(message, "success")
    return redirect(url_for("actions.action", action_id=action.id))


@bp.route("/actions/<int:action_id>/progress", methods=["POST"])
@requires(Capability.UPDATE_ACTIONS)
def progress(action_id: int):
    """The one way progress is recorded: from the action page and from a meeting's matters arising."""
    action = _writable_or_404(action_id)
    form = ActionProgressForm(action=action, prefix=_progress_prefix(action))
    if form.validate_on_submit():
        new_status = ActionStatus(form.status.data) if form.status.data != KEEP_STATUS else None
        try:
            operations.record_progress(
                action,
                by=current_user._get_current_object(),
                note=form.note.data,
                new_status=new_status,
                seen_version=form.version.data,
            )
        except operations.ActionChangedElsewhere:
            return _conflict(action, progress=form)
        except operations.ActionClosed:
            return _closed(action)
        message = PROGRESS_MESSAGES.get(new_status, "Update saved.") if new_status else "Update saved."
        return _after_progress(action, message)
    _explain_missing_note(form)
    return _render_action(action, progress=form)


def _explain_missing_note(form):
    """Completing needs the outcome: say so, not just 'enter an update'."""
    if form.note.errors and not form.note.data and form.status.data == ActionStatus.COMPLETED.value:
        form.note.errors[:] = ["Enter the outcome to complete the action"]


@bp.route("/actions/<int:action_id>/due-date", methods=["POST"])
@requires(Capability.UPDATE_ACTIONS)
def due_date(action_id: int):
    action = _writable_or_404(action_id)
    form = DueDateForm(today=london_today(), prefix="due")
    if form.validate_on_submit():
        try:
            operations.change_due_date(
                action,
                by=current_user._get_current_object(),
                new_due=chosen(form.due_date.data),
                reason=form.reason.data,
                seen_version=form.version.data,
            )
        except operations.ActionChangedElsewhere:
            return _conflict(action, due=form)
        except operations.ActionClosed:
            return _closed(action)
        flash(f"Due date changed to {format_date(action.due_date)}.", "success")
        return redirect(url_for("actions.action", action_id=action.id))
    return _render_action(action, due=form)


@bp.route("/actions/<int:action_id>/owner", methods=["POST"])
@requires(Capability.UPDATE_ACTIONS)
def owner(action_id: int):
    action = _writable_or_404(action_id)
    if not may_assign_owner(current_user, action):
        abort(403)
    form = OwnerForm(members=queries.agency_members(action.owning_agency_id), prefix="owner")
    if form.validate_on_submit():
        from tracker.extensions import db
        from tracker.models import User

        new_owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else None
        try:
            operations.assign_owner(
                action, by=current_user._get_current_object(), owner=new_owner, seen_version=form.version.data
            )
        except operations.ActionChangedElsewhere:
            return _conflict(action, owner=form)
        except operations.ActionClosed:
            return _closed(action)
        flash("Named owner updated.", "success")
        return redirect(url_for("actions.action", action_id=action.id))
    return _render_action(action, owner=form)


def _reason_conflict(action, form, *, reopening: bool):
    """Someone changed the action meanwhile: show it as it is now, keep the typed reason, save nothing."""
    from tracker.extensions import db

    db.session.rollback()
    fresh = _action_or_404(action.id)
    form.version.data, form.version.raw_data = fresh.version, [str(fresh.version)]
    return render_template("actions/cancel.html", action=fresh, form=form, reopening=reopening, conflict=True), 409


@bp.route("/actions/<int:action_id>/cancel", methods=["GET", "POST"])
@requires(Capability.UPDATE_ACTIONS)
def cancel(action_id: int):
    """Chairs cancel an action after a confirmation page, giving a reason."""
    action = _writable_or_404(action_id)
    if not may_cancel_action(current_user):
        abort(403)
    if action.status.is_closed:
        return _closed(action)
    form = CancelActionForm(version=action.version)
    if form.validate_on_submit():
        try:
            operations.record_progress(
                action,
                by=current_user._get_current_object(),
                note=form.reason.data,
                new_status=ActionStatus.CANCELLED,
                seen_version=form.version.data,
            )
        except operations.ActionChangedElsewhere:
            return _reason_conflict(action, form, reopening=False)
        except operations.ActionClosed:
            return _closed(action)
        flash("Action cancelled. A chair can reopen it, giving a reason.", "success")
        return redirect(url_for("actions.action", action_id=action.id))
    return render_template("actions/cancel.html", action=action, form=form, reopening=False)


@bp.route("/actions/<int:action_id>/reopen", methods=["GET", "POST"])
@requires(Capability.UPDATE_ACTIONS)
def reopen(action_id: int):
    """Chairs bring a cancelled action back, giving a reason; it is open again on its due date."""
    action = _writable_or_404(action_id)
    if not may_cancel_action(current_user):
        abort(403)
    if action.status != ActionStatus.CANCELLED:
        flash("Only a cancelled action can be reopened.", "error")
        return redirect(url_for("actions.action", action_id=action.id))
    form = ReopenActionForm(version=action.version)
    if form.validate_on_submit():
        try:
            operations.reopen_action(
                action, by=current_user._get_current_object(), reason=form.reason.data, seen_version=form.version.data
            )
        except operations.ActionChangedElsewhere:
            return _reason_conflict(action, form, reopening=True)
        flash("Action reopened.", "success")
        return redirect(url_for("actions.action", action_id=action.id))
    return render_template("actions/cancel.html", action=action, form=form, reopening=True)

"""Actions: the filtered list, CSV export, the action page, its changes, and extension requests."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import audit, once
from tracker.actions import bp, operations, queries
from tracker.actions.filters import SORTS, STATUS_CHOICES, ActionFilter, OutOfScope, Problem
from tracker.actions.forms import (
    AGREE,
    KEEP_STATUS,
    ActionProgressForm,
    CancelActionForm,
    DueDateForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    OwnerForm,
    ReopenActionForm,
)
from tracker.forms import chosen
from tracker.models import ActionStatus, ExtensionStatus
from tracker.params import page_param
from tracker.permissions import (
    Capability,
    may_assign_owner,
    may_cancel_action,
    may_change_due_date,
    may_decide_extensions,
    may_request_extension,
    may_update_action,
    requires,
)
from tracker.redirects import is_safe_local_path
from tracker.spreadsheet import csv_response
from tracker.timeutil import LONDON, format_date, london_today

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
    "Original due date",
    "Extensions",
    "Status",
    "Overdue",
    "Meeting",
    "Case reference",
    "Raised",
    "Latest update",
    "Latest update text",
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
        owners=queries.owners_for_filter(current_user, filters.agency_id, filters.owner_id),
        statuses=STATUS_CHOICES,
        sorts=SORTS,
    )


def _csv_row(action) -> tuple:
    review = action.case_review
    return (
        action.reference,
        action.description,
        action.owning_agency.name,
        action.owner.display_name if action.owner else "",
        action.due_date.isoformat(),
        action.original_due_date.isoformat(),
        action.extension_count or 0,
        action.status.label,
        "Yes" if action.is_overdue else "No",
        action.meeting.starts_at.date().isoformat(),
        review.case.reference if review else "",
        action.created_at.date().isoformat(),
        action.latest_update_at.astimezone(LONDON).date().isoformat() if action.latest_update_at else "",
        action.latest_update_text or "",
    )


@bp.route("/actions/export.csv")
@requires(Capability.READ_ACTIONS)
def export():
    filters, _problems = _filter_or_404()  # the list page's links carry only the filters it could use
    audit.record("actions_exported", detail=filters.for_audit())
    filename = queries.filter_names(current_user, filters).filename("actions", filters, ".csv")
    rows = (_csv_row(action) for action in queries.actions_for_export(current_user, filters))
    return csv_response(filename, CSV_COLUMNS, rows)


def _action_or_404(action_id: int):
    action = queries.action_for(current_user, action_id)
    if action is None:
        abort(404)
    return action


def _forms_for(action, wanted: set[str], **overrides):
    """The forms the page shows this reader (``wanted``), each as posted when it is in ``overrides``:
    a reader who may change nothing gets none, and no list of the agency's members."""
    factories = {
        "progress": lambda: ActionProgressForm(formdata=None, action=action, version=action.version, prefix="progress"),
        "due": lambda: DueDateForm(formdata=None, today=london_today(), version=action.version, prefix="due"),
        "extension": lambda: ExtensionRequestForm(
            formdata=None, version=action.version, current_due=action.due_date, prefix="extension"
        ),
        "owner": lambda: OwnerForm(
            formdata=None,
            members=queries.agency_members(action.owning_agency_id),
            version=action.version,
            owner_id=action.owner_id,
            prefix="owner",
        ),
    }
    forms = {name: factories[name]() for name in sorted(wanted - overrides.keys())}
    forms.update(overrides)
    return forms


def _render_action(action, status=200, conflict=False, links_seen: tuple[bool, bool] | None = None, **form_overrides):
    """The action's page; ``links_seen`` (whether the reader may see its meeting and its case review)
    when the action was read with them (queries.action_page), else they are asked here."""
    user = current_user._get_current_object()
    may_update = may_update_action(user, action) and not action.status.is_closed
    may_assign = may_update and may_assign_owner(user, action)
    may_change_due = may_update and may_change_due_date(user)
    may_request = may_update and may_request_extension(user, action)
    shown = {"progress": may_update, "due": may_change_due, "extension": may_request, "owner": may_assign}
    forms = _forms_for(action, {name for name, shows in shown.items() if shows}, **form_overrides)
    extensions = queries.extension_requests(action)
    may_see_meeting, may_see_review = links_seen or queries.links_seen(user, action.meeting_id, action.case_review_id)
    return render_template(
        "actions/action.html",
        action=action,
        form=next((f for f in forms.values() if f.errors), None),
        trail=queries.trail(action),
        today=london_today(),
        forms=forms,
        may_update=may_update,
        may_assign=may_assign,
        may_change_due=may_change_due,
        may_request=may_request,
        may_decide=may_decide_extensions(user),
        extensions=extensions,
        pending=next((r for r in extensions if r.status == ExtensionStatus.PENDING), None),
        may_cancel=may_cancel_action(user) and not action.status.is_closed,
        may_reopen=may_cancel_action(user) and action.status == ActionStatus.CANCELLED,
        may_see_meeting=may_see_meeting,
        may_see_review=may_see_review,
        conflict=conflict,
        # An update from matters arising that needs correcting is corrected here, then goes back there.
        came_from=_came_from(),
    ), status


@bp.route("/actions/<int:action_id>")
@requires(Capability.READ_ACTIONS)
def action(action_id: int):
    page = queries.action_page(current_user, action_id)
    if page is None:
        abort(404)
    audit.record("action_viewed", page.action)
    return _render_action(page.action, links_seen=(page.may_see_meeting, page.may_see_review))


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


def _came_from() -> str | None:
    """The page an update was posted from (a meeting's matters arising), if it is one of ours."""
    came_from = request.form.get("next") if request.method == "POST" else None
    return came_from if came_from and is_safe_local_path(came_from) else None


def _after_progress(action, message: str):
    """Back to the page the update came from (a meeting's matters arising, the row marked), or the action."""
    if came_from := _came_from():
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
    """Chairs move a due date directly, with a reason; partners ask for an extension instead."""
    action = _writable_or_404(action_id)
    if not may_change_due_date(current_user):
        abort(403)
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


@bp.route("/actions/<int:action_id>/extension", methods=["POST"])
@requires(Capability.UPDATE_ACTIONS)
def request_extension(action_id: int):
    """A partner asks for a later due date; the action stays due on its current date until a chair agrees."""
    action = _writable_or_404(action_id)
    if not may_request_extension(current_user, action):
        abort(403)
    form = ExtensionRequestForm(today=london_today(), current_due=action.due_date, prefix="extension")
    if form.validate_on_submit():
        try:
            operations.request_extension(
                action,
                by=current_user._get_current_object(),
                new_due=chosen(form.requested_due_date.data),
                reason=form.reason.data,
                seen_version=form.version.data,
                service_url=current_app.config["SERVICE_URL"].rstrip("/"),
            )
        except operations.ActionChangedElsewhere:
            return _conflict(action, extension=form)
        except operations.ActionClosed:
            once.forget()
            return _closed(action)
        except operations.ExtensionAlreadyPending:
            once.forget()
            flash("This action already has an extension request waiting for a decision.", "error")
            return redirect(url_for("actions.action", action_id=action.id))
        flash(
            f"Extension requested. The action stays due on {format_date(action.due_date)} until a chair agrees.",
            "success",
        )
        return redirect(url_for("actions.action", action_id=action.id))
    return _render_action(action, extension=form)


@bp.route("/actions/<int:action_id>/extensions/<int:request_id>", methods=["GET", "POST"])
@requires(Capability.RECORD_MEETINGS)
def decide_extension(action_id: int, request_id: int):
    """A chair agrees (the due date moves) or declines (it stays), with a note."""
    if not may_decide_extensions(current_user):
        abort(403)
    extension = queries.extension_request_for(current_user, action_id, request_id)
    if extension is None:
        abort(404)
    action = extension.action
    if request.method == "GET":
        audit.record("action_viewed", action, detail=f"extension request {extension.id}")
    if extension.status != ExtensionStatus.PENDING or action.status.is_closed:
        return render_template("actions/extension.html", action=action, extension=extension, form=None)
    form = ExtensionDecisionForm(version=action.version)
    if form.validate_on_submit():
        agree = form.decision.data == AGREE
        try:
            operations.decide_extension(
                extension,
                by=current_user._get_current_object(),
                agree=agree,
                note=form.note.data,
                seen_version=form.version.data,
                service_url=current_app.config["SERVICE_URL"].rstrip("/"),
            )
        except (operations.ActionChangedElsewhere, operations.ExtensionAlreadyDecided, operations.ActionClosed):
            from tracker.extensions import db

            db.session.rollback()
            flash("The action changed while you were deciding: check it and decide again.", "error")
            return redirect(url_for("actions.decide_extension", action_id=action_id, request_id=request_id))
        if agree:
            flash(f"Extension agreed. {action.reference} is now due on {format_date(action.due_date)}.", "success")
        else:
            flash(f"Extension declined. {action.reference} stays due on {format_date(action.due_date)}.", "success")
        return redirect(url_for("actions.action", action_id=action.id))
    return render_template("actions/extension.html", action=action, extension=extension, form=form)


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

"""Admin area: users, agencies and the audit log. Thin views: parse, authorise, call, render."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import audit
from tracker.admin import bp, forms, operations, queries
from tracker.forms import chosen
from tracker.params import id_param, page_param
from tracker.permissions import Capability, requires
from tracker.settings import CONFIDENTIALITY_STATEMENT_KEY, confidentiality_statement
from tracker.spreadsheet import csv_response
from tracker.timeutil import london_today


def _user_or_404(user_id: int):
    user = queries.user_by_id(user_id)
    if user is None:
        abort(404)
    return user


def _agency_or_404(agency_id: int):
    agency = queries.agency_by_id(agency_id)
    if agency is None:
        abort(404)
    return agency


def _agency_choices_for(user=None):
    """Active agencies, plus the user's current one even if it has since been deactivated."""
    agencies = queries.active_agencies()
    if user is not None and user.agency not in agencies:
        agencies.append(user.agency)
    return agencies


# Users ------------------------------------------------------------------------------------


@bp.route("/users")
@requires(Capability.MANAGE_USERS)
def users():
    filters, ignored = queries.UserFilters.from_args(request.args)
    if ignored:
        flash(f"Some filters were not understood and have been ignored: {', '.join(ignored)}.", "info")
    page = queries.users_page(filters, page_param(request.args.get("page")), current_app.config["USERS_PER_PAGE"])
    return render_template("admin/users.html", page=page, filters=filters, agencies=queries.all_agencies())


def _check_user_form(form, *, except_user_id=None) -> bool:
    """Checks that need the database, added as field errors."""
    ok = True
    if queries.email_taken(form.email.data, except_user_id=except_user_id):
        form.email.errors.append("A user with this email address already exists")
        ok = False
    return ok


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Capability.MANAGE_USERS)
def new_user():
    form = forms.NewUserForm(agencies=queries.active_agencies())
    if form.validate_on_submit() and _check_user_form(form):
        user = operations.create_user(
            email=form.email.data,
            display_name=form.display_name.data,
            role=form.role.data,
            agency=chosen(queries.agency_by_id(form.agency_id.data)),
            is_spoc=form.is_spoc.data,
        )
        operations.invite_user(user)
        flash(
            "User created. We have emailed them an invitation to choose their password. The link works for 72 hours.",
            "success",
        )
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Capability.MANAGE_USERS)
def user(user_id: int):
    user = _user_or_404(user_id)
    form = forms.EditUserForm(obj=user, agencies=_agency_choices_for(user))
    if request.method == "GET":
        form.role.data = user.role.value
    if form.validate_on_submit() and _check_user_form(form, except_user_id=user.id):
        if user.id == current_user.id and form.role.data != user.role.value:
            form.role.errors.append("You cannot change your own role. Ask another administrator")
        else:
            changed = operations.update_user(
                user,
                email=form.email.data,
                display_name=form.display_name.data,
                role=form.role.data,
                agency=chosen(queries.agency_by_id(form.agency_id.data)),
                is_spoc=form.is_spoc.data,
            )
            flash("Changes saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template(
        "admin/user.html",
        user=user,
        form=form,
        confirm=forms.ConfirmForm(),
        status=queries.sign_in_status(user),
    )


@bp.route("/users/<int:user_id>/invitation", methods=["POST"])
@requires(Capability.MANAGE_USERS)
def send_invitation(user_id: int):
    user = _user_or_404(user_id)
    if not user.active:
        flash("Reactivate the account before sending an invitation.", "error")
    else:
        operations.invite_user(user)
        flash("Invitation sent. The link works for 72 hours; any earlier link has stopped working.", "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@requires(Capability.MANAGE_USERS)
def send_password_reset(user_id: int):
    user = _user_or_404(user_id)
    if not user.active:
        flash("Reactivate the account before sending a password reset link.", "error")
    else:
        operations.send_password_reset(user)
        flash("Password reset link sent. It works for 1 hour; any earlier link has stopped working.", "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<int:user_id>/second-factor/reset", methods=["GET", "POST"])
@requires(Capability.MANAGE_USERS)
def reset_second_factor(user_id: int):
    """Confirm, then remove the user's authenticator app: they set up a new one at their next sign-in."""
    user = _user_or_404(user_id)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        operations.reset_second_factor(user)
        flash("Two-step verification reset. The user has been signed out everywhere.", "success")
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_second_factor_reset.html", user=user, form=form)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@requires(Capability.MANAGE_USERS)
def deactivate_user(user_id: int):
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash("You cannot deactivate your own account. Ask another administrator.", "error")
    else:
        operations.set_user_active(user, False)
        flash("User deactivated and signed out everywhere.", "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@requires(Capability.MANAGE_USERS)
def reactivate_user(user_id: int):
    user = _user_or_404(user_id)
    operations.set_user_active(user, True)
    flash("User reactivated.", "success")
    return redirect(url_for("admin.user", user_id=user.id))


# Agencies ---------------------------------------------------------------------------------


def _check_agency_form(form, *, except_agency_id=None) -> bool:
    clash = queries.agency_clash(form.name.data, form.code.data, except_agency_id=except_agency_id)
    if clash["name"]:
        form.name.errors.append("An agency with this name already exists")
    if clash["code"]:
        form.code.errors.append("Another agency already uses this short code")
    return not (clash["name"] or clash["code"])


@bp.route("/agencies")
@requires(Capability.MANAGE_AGENCIES)
def agencies():
    return render_template("admin/agencies.html", rows=queries.agencies_with_user_counts())


@bp.route("/agencies/new", methods=["GET", "POST"])
@requires(Capability.MANAGE_AGENCIES)
def new_agency():
    form = forms.AgencyForm()
    if form.validate_on_submit() and _check_agency_form(form):
        operations.create_agency(name=form.name.data, code=form.code.data)
        flash("Agency created.", "success")
        return redirect(url_for("admin.agencies"))
    return render_template("admin/agency_form.html", form=form, agency=None)


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@requires(Capability.MANAGE_AGENCIES)
def agency(agency_id: int):
    agency = _agency_or_404(agency_id)
    form = forms.AgencyForm(obj=agency)
    if form.validate_on_submit() and _check_agency_form(form, except_agency_id=agency.id):
        changed = operations.update_agency(agency, name=form.name.data, code=form.code.data)
        flash("Changes saved." if changed else "Nothing was changed.", "success")
        return redirect(url_for("admin.agencies"))
    return render_template("admin/agency_form.html", form=form, agency=agency, confirm=forms.ConfirmForm())


@bp.route("/agencies/<int:agency_id>/deactivate", methods=["POST"])
@requires(Capability.MANAGE_AGENCIES)
def deactivate_agency(agency_id: int):
    agency = _agency_or_404(agency_id)
    operations.set_agency_active(agency, False)
    flash("Agency deactivated. It can no longer be chosen for new users.", "success")
    return redirect(url_for("admin.agencies"))


@bp.route("/agencies/<int:agency_id>/reactivate", methods=["POST"])
@requires(Capability.MANAGE_AGENCIES)
def reactivate_agency(agency_id: int):
    agency = _agency_or_404(agency_id)
    operations.set_agency_active(agency, True)
    flash("Agency reactivated.", "success")
    return redirect(url_for("admin.agencies"))


# Audit log --------------------------------------------------------------------------------


@bp.route("/audit")
@requires(Capability.READ_AUDIT_LOG)
def audit_log():
    """The audit log: filtered by account, agency, kind of event, record, case and dates; newest
    first, a page at a time (by keyset: ``before`` / ``after`` name the event at the edge)."""
    filters, ignored = queries.AuditFilters.from_args(request.args)
    if ignored:
        flash(f"Some filters were not understood and have been ignored: {', '.join(ignored)}.", "info")
    before, after = id_param(request.args.get("before") or ""), id_param(request.args.get("after") or "")
    page = queries.audit_page(filters, current_app.config["AUDIT_EVENTS_PER_PAGE"], before=before, after=after)
    if filters.case_reference:
        # A subject access request is itself a disclosure worth recording (the case's id only).
        audit.record("case_access_searched", page.case, detail="" if page.case else "no such case reference")
    return render_template(
        "admin/audit.html",
        page=page,
        filters=filters.naming(page.account),
        actions=queries.audit_actions(),
        object_types=list(queries.AUDIT_OBJECT_TYPES.items()),
        object_labels=queries.AUDIT_OBJECT_TYPES,
        agencies=queries.all_agencies(),
    )


AUDIT_CSV_COLUMNS = ["When (UTC)", "Account", "Email", "Agency", "Event", "Record type", "Record", "Detail", "From"]


@bp.route("/audit/export.csv")
@requires(Capability.READ_AUDIT_LOG)
def audit_export():
    """The events the filters select, as CSV (newest first), up to AUDIT_EXPORT_MAX_ROWS."""
    filters, _ignored = queries.AuditFilters.from_args(request.args)
    limit = current_app.config["AUDIT_EXPORT_MAX_ROWS"]
    events = queries.audit_events_for_export(filters, limit)
    if events is None:
        flash(f"More than {limit:,} events match. Narrow the filters (dates, account or kind) and try again.", "info")
        return redirect(url_for("admin.audit_log", **filters.as_args()))
    audit.record("audit_log_exported", detail=f"{len(events)} events {filters.for_audit()}")
    rows = (
        (
            event.at.isoformat(timespec="seconds"),
            event.user.display_name if event.user else "",
            event.user.email if event.user else "",
            event.user.agency.code if event.user else "",
            event.action,
            event.object_type or "",
            event.object_id or "",
            event.detail,
            event.ip_address or "",
        )
        for event in events
    )
    return csv_response(f"audit-log-{london_today().isoformat()}.csv", AUDIT_CSV_COLUMNS, rows)


# Retention: legal holds -------------------------------------------------------------------


@bp.route("/retention", methods=["GET", "POST"])
@requires(Capability.MANAGE_RETENTION)
def legal_holds():
    """Cases kept past their retention period, and a form to keep another."""
    form = forms.LegalHoldForm()
    if form.validate_on_submit():
        case = queries.case_by_reference(form.reference.data)
        if case is None:
            form.reference.errors.append("No case has this reference")
        elif queries.case_is_held(case):
            form.reference.errors.append("This case is already under a legal hold")
        else:
            operations.place_legal_hold(case, form.reason.data, by=current_user._get_current_object())
            flash("Legal hold placed. The retention purge will keep this case until the hold is released.", "success")
            return redirect(url_for("admin.legal_holds"))
    return render_template(
        "admin/legal_holds.html",
        form=form,
        holds=queries.active_legal_holds(),
        released=queries.recently_released_holds(),
    )


@bp.route("/retention/<int:hold_id>/release", methods=["POST"])
@requires(Capability.MANAGE_RETENTION)
def release_hold(hold_id: int):
    hold = queries.legal_hold_by_id(hold_id)
    if hold is None:
        abort(404)
    if forms.ConfirmForm().validate_on_submit():
        operations.release_legal_hold(hold, by=current_user._get_current_object())
        flash("Legal hold released. The case is erased once it is past its retention period.", "success")
    return redirect(url_for("admin.legal_holds"))


# Settings and learning themes -------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@requires(Capability.MANAGE_SETTINGS)
def settings():
    form = forms.SettingsForm()
    if request.method == "GET":
        form.confidentiality_statement.data = confidentiality_statement()
    if form.validate_on_submit():
        operations.set_setting(CONFIDENTIALITY_STATEMENT_KEY, form.confidentiality_statement.data)
        flash("Settings saved.", "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)


@bp.route("/themes", methods=["GET", "POST"])
@requires(Capability.MANAGE_SETTINGS)
def themes():
    form = forms.ThemeForm()
    if form.validate_on_submit():
        if queries.theme_name_taken(form.name.data):
            form.name.errors.append("This learning theme already exists")
        else:
            operations.create_theme(form.name.data)
            flash("Learning theme added.", "success")
            return redirect(url_for("admin.themes"))
    return render_template(
        "admin/themes.html",
        form=form,
        themes=queries.themes(),
        counts=queries.theme_review_counts(),
        confirm=forms.ConfirmForm(),
    )


@bp.route("/themes/<int:theme_id>/active", methods=["POST"])
@requires(Capability.MANAGE_SETTINGS)
def set_theme_active(theme_id: int):
    theme = queries.theme_by_id(theme_id)
    if theme is None:
        abort(404)
    active = request.form.get("active") == "1"
    operations.set_theme_active(theme, active)
    flash(f"Learning theme {'reactivated' if active else 'retired'}.", "success")
    return redirect(url_for("admin.themes"))


@bp.route("/themes/<int:theme_id>/merge", methods=["GET", "POST"])
@requires(Capability.MANAGE_SETTINGS)
def merge_theme(theme_id: int):
    """Two themes that mean the same: the reviews of one are re-tagged with the other, which stays."""
    theme = queries.theme_by_id(theme_id)
    if theme is None:
        abort(404)
    others = [other for other in queries.themes() if other.id != theme.id]
    form = forms.MergeThemeForm(others=others)
    if form.validate_on_submit():
        target = next(other for other in others if other.id == form.into_id.data)
        retagged = operations.merge_theme(theme, target)
        noun = "review" if retagged == 1 else "reviews"
        flash(f"Learning themes merged: {retagged} {noun} re-tagged.", "success")
        return redirect(url_for("admin.themes"))
    count = queries.theme_review_counts().get(theme.id, 0)
    return render_template("admin/theme_merge.html", theme=theme, form=form, count=count)

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from tracker.auth import bp, operations, passwords, pending, throttle, tokens, two_step
from tracker.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    ConfirmPasswordForm,
    ForgotPasswordForm,
    SetPasswordForm,
    SetUpForm,
    SignInForm,
)
from tracker.models import TokenPurpose
from tracker.permissions import Capability, public, requires, second_factor_required
from tracker.redirects import safe_next

GENERIC_SIGN_IN_ERROR = "Email address or password is wrong"
WRONG_CODE = "The code is wrong or has expired. Enter the code your app shows now"
USED_CODE = "That code has already been used. Wait for your app to show a new code, then enter it"
STEP_ENDPOINTS = {"code": "auth.sign_in_code", "set_up": "auth.sign_in_set_up", "offer": "auth.sign_in_set_up"}


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _throttled(waiting: throttle.Throttled):
    return render_template("auth/throttled.html", minutes=waiting.minutes), 429


def _finish_sign_in(user, method: str):
    """The last step passed: start the session and go where the user was going."""
    destination = pending.next_url(url_for("main.home"))
    operations.complete_sign_in(user, method)  # a fresh cookie: the pending state goes with the old one
    login_user(user)
    if user.must_change_password:
        return redirect(url_for("auth.change_password", next=destination))
    return redirect(destination)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        result = operations.check_password(form.email.data, form.password.data, _client_ip())
        if result.throttled:
            return _throttled(result.throttled)
        if result.user is None:
            form.email.errors.append(GENERIC_SIGN_IN_ERROR)
        else:
            destination = safe_next(request.args.get("next"), url_for("main.home"))
            step = operations.second_step(result.user)
            pending.begin(result.user, destination)
            if step is None:
                return _finish_sign_in(result.user, "none")
            return redirect(url_for(STEP_ENDPOINTS[step]))
    return render_template("auth/sign_in.html", form=form)


def _pending_user_or_sign_in():
    user = pending.pending_user()
    if user is None and not current_user.is_authenticated:
        flash("Sign in again to continue: signing in took too long, or had not started.", "info")
    return user


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def sign_in_code():
    """The second step: a code from the authenticator app, or a recovery code."""
    user = _pending_user_or_sign_in()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    if operations.second_step(user) != "code":
        return redirect(url_for("auth.sign_in_set_up"))
    form = CodeForm()
    if form.validate_on_submit():
        result = operations.check_second_factor(user, form.code.data, _client_ip())
        if result.throttled:
            return _throttled(result.throttled)
        if result.method:
            return _finish_sign_in(user, result.method)
        form.code.errors.append(USED_CODE if result.replayed else WRONG_CODE)
    return render_template("auth/code.html", form=form)


@bp.route("/sign-in/set-up", methods=["GET", "POST"])
@public
def sign_in_set_up():
    """Setting up an authenticator app at sign-in: required for some roles, offered to partners."""
    user = _pending_user_or_sign_in()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    step = operations.second_step(user)
    if step == "code":
        return redirect(url_for("auth.sign_in_code"))
    if step is None:
        return _finish_sign_in(user, "none")
    form = SetUpForm()
    optional = step == "offer"
    if not optional:
        form.skip.data = False  # only partners may put it off
    if optional and form.skip.data and form.validate_on_submit():
        operations.decline_second_factor(user)
        return _finish_sign_in(user, "none")
    if form.validate_on_submit():
        result = operations.confirm_set_up(user, form.code.data, _client_ip())
        if result.throttled:
            return _throttled(result.throttled)
        if result.recovery_codes:
            response = _finish_sign_in(user, "authenticator app (new)")
            return render_template(
                "auth/recovery_codes.html", codes=result.recovery_codes, continue_url=response.location, new_app=True
            )
        form.code.errors.append(WRONG_CODE)
    return _set_up_page(user, form, optional=optional, at_sign_in=True)


def _set_up_page(user, form, *, optional: bool, at_sign_in: bool):
    secret = operations.pending_secret_for(user)
    return render_template(
        "auth/set_up.html",
        form=form,
        qr_code=two_step.qr_code_data_uri(secret, user.email),
        secret=two_step.grouped(secret),
        optional=optional,
        at_sign_in=at_sign_in,
        changing=operations.second_step(user) == "code",
    )


@bp.route("/sign-out", methods=["POST"])
@requires(Capability.SIGNED_IN, while_password_change_pending=True)
def sign_out():
    operations.sign_out(current_user._get_current_object())
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Capability.SIGNED_IN, while_password_change_pending=True)
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # The current password is checked, and throttled, like signing in.
        checked = operations.confirm_password(user, form.current_password.data, _client_ip())
        if isinstance(checked, throttle.Throttled):
            return _throttled(checked)
        if not checked:
            form.current_password.errors.append("Your current password is wrong")
        elif form.new_password.data == form.current_password.data:
            form.new_password.errors.append("Your new password must be different from your current password")
        elif problem := passwords.password_problem(form.new_password.data, email=user.email, name=user.display_name):
            form.new_password.errors.append(problem)
        else:
            operations.change_own_password(user, form.new_password.data)
            login_user(user)
            flash("Your password has been changed. You have been signed out on every other device.", "success")
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    return render_template("auth/change_password.html", form=form, forced=user.must_change_password)


@bp.route("/account/calendar", methods=["GET", "POST"])
@requires(Capability.READ_MEETINGS)  # meetings and action due dates: administrators have neither
def calendar():
    """Create, replace or stop the user's private calendar feed.

    The address holds a secret that is stored only as a digest, so it is shown once, on the page
    that answers "create" (not after a redirect): it cannot be shown again later."""
    from tracker import calendar_feed
    from tracker.auth.forms import CalendarForm

    user = current_user._get_current_object()
    form = CalendarForm()
    if form.validate_on_submit():
        if form.stop.data:
            calendar_feed.revoke_token(user)
            flash("Your calendar link has been switched off.", "success")
            return redirect(url_for("auth.calendar"))
        token = calendar_feed.regenerate_token(user)
        feed_url = url_for("main.calendar_feed", token=token, _external=True)
        return render_template("auth/calendar.html", form=CalendarForm(formdata=None), feed_url=feed_url, has_feed=True)
    return render_template("auth/calendar.html", form=form, feed_url=None, has_feed=calendar_feed.has_feed(user))


# Two-step verification, from the account ------------------------------------------------------


def _reauthenticate():
    """Changing or removing the second factor needs the password typed again (a fresh sign-in)."""
    return redirect(url_for("auth.confirm_password", next=request.full_path.rstrip("?")))


@bp.route("/account/confirm-password", methods=["GET", "POST"])
@requires(Capability.SIGNED_IN)
def confirm_password():
    user = current_user._get_current_object()
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        result = operations.confirm_password(user, form.password.data, _client_ip())
        if isinstance(result, throttle.Throttled):
            return _throttled(result)
        if result:
            pending.mark_reauthenticated()
            return redirect(safe_next(request.args.get("next"), url_for("auth.two_step_verification")))
        form.password.errors.append("Your password is wrong")
    return render_template("auth/confirm_password.html", form=form)


@bp.route("/account/two-step")
@requires(Capability.SIGNED_IN)
def two_step_verification():
    user = current_user._get_current_object()
    return render_template(
        "auth/two_step.html",
        enrolled=operations.second_step(user) == "code",
        required=second_factor_required(user),
        codes_left=operations.unused_recovery_codes(user),
    )


@bp.route("/account/two-step/set-up", methods=["GET", "POST"])
@requires(Capability.SIGNED_IN)
def two_step_set_up():
    """Set up an authenticator app, or move to a new one (the old one works until the new one is proved)."""
    if not pending.recently_reauthenticated():
        return _reauthenticate()
    user = current_user._get_current_object()
    form = SetUpForm()
    form.skip.data = False
    if form.validate_on_submit():
        result = operations.confirm_set_up(user, form.code.data, _client_ip())
        if result.throttled:
            return _throttled(result.throttled)
        if result.recovery_codes:
            return render_template(
                "auth/recovery_codes.html",
                codes=result.recovery_codes,
                continue_url=url_for("auth.two_step_verification"),
                new_app=True,
            )
        form.code.errors.append(WRONG_CODE)
    return _set_up_page(user, form, optional=False, at_sign_in=False)


@bp.route("/account/two-step/recovery-codes", methods=["GET", "POST"])
@requires(Capability.SIGNED_IN)
def recovery_codes():
    if not pending.recently_reauthenticated():
        return _reauthenticate()
    user = current_user._get_current_object()
    if operations.second_step(user) != "code":
        return redirect(url_for("auth.two_step_verification"))
    form = ConfirmForm()
    if form.validate_on_submit():
        codes = operations.new_recovery_codes(user)
        return render_template(
            "auth/recovery_codes.html", codes=codes, continue_url=url_for("auth.two_step_verification"), new_app=False
        )
    return render_template("auth/recovery_codes_confirm.html", form=form)


@bp.route("/account/two-step/turn-off", methods=["GET", "POST"])
@requires(Capability.SIGNED_IN)
def two_step_turn_off():
    user = current_user._get_current_object()
    if second_factor_required(user) or operations.second_step(user) != "code":
        # Required for this role (or nothing to turn off): there is no such page for this user.
        abort(404)
    if not pending.recently_reauthenticated():
        return _reauthenticate()
    form = ConfirmForm()
    if form.validate_on_submit():
        operations.turn_off_second_factor(user)
        flash("Two-step verification is off. You can set it up again at any time.", "success")
        return redirect(url_for("auth.two_step_verification"))
    return render_template("auth/two_step_turn_off.html", form=form)


# Forgotten passwords and invitations ---------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password():
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        operations.request_password_reset(form.email.data)
        # The same words whether or not there is such an account.
        flash(
            "If there is an account with that email address, we have sent it a link to choose a new password. "
            f"The link works once, for {tokens.lifetime_hours(TokenPurpose.PASSWORD_RESET)} hour.",
            "success",
        )
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    """The page an invitation or reset e-mail links to: choose a password, once."""
    record = tokens.usable(token)
    if record is None:
        return render_template("auth/link_not_valid.html"), 404
    user = record.user
    form = SetPasswordForm()
    if form.validate_on_submit():
        if problem := passwords.password_problem(form.new_password.data, email=user.email, name=user.display_name):
            form.new_password.errors.append(problem)
        else:
            invitation = record.purpose == TokenPurpose.INVITATION
            if operations.set_password_with_link(record, form.new_password.data) is None:
                return render_template("auth/link_not_valid.html"), 404
            if current_user.is_authenticated:
                logout_user()
            flash(
                "Your password is saved. Sign in with it now."
                if invitation
                else "Your password has been changed and you have been signed out everywhere. Sign in with it now.",
                "success",
            )
            return redirect(url_for("auth.sign_in"))
    return render_template(
        "auth/set_password.html",
        form=form,
        invitation=record.purpose == TokenPurpose.INVITATION,
        email=user.email,
    )

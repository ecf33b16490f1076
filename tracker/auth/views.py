from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from tracker.auth import bp, operations, passwords
from tracker.auth.forms import ChangePasswordForm, SignInForm
from tracker.permissions import Capability, public, requires
from tracker.redirects import safe_next

GENERIC_SIGN_IN_ERROR = "Email address or password is wrong"


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        result = operations.attempt_sign_in(form.email.data, form.password.data, request.remote_addr or "unknown")
        if result.throttled:
            return render_template("auth/throttled.html", minutes=result.throttled.minutes), 429
        if result.user is None:
            form.email.errors.append(GENERIC_SIGN_IN_ERROR)
        else:
            login_user(result.user)
            destination = safe_next(request.args.get("next"), url_for("main.home"))
            if result.user.must_change_password:
                return redirect(url_for("auth.change_password", next=destination))
            return redirect(destination)
    return render_template("auth/sign_in.html", form=form)


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
        if not passwords.verify_password(user.password_hash, form.current_password.data):
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

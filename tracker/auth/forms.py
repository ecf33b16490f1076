from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError

from tracker.auth.passwords import MAX_LENGTH
from tracker.forms import FastGovSubmitInput, FastGovTextInput, TrackerForm


class SignInForm(TrackerForm):
    email = StringField(
        "Email address",
        widget=FastGovTextInput(),
        validators=[InputRequired(message="Enter your email address"), Length(max=254)],
    )
    # Length is not checked here: a wrong password of any length gets the same generic answer.
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[InputRequired(message="Enter your password")]
    )
    submit = SubmitField("Sign in", widget=FastGovSubmitInput())


class ChangePasswordForm(TrackerForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your current password"), Length(max=MAX_LENGTH)],
    )
    new_password = PasswordField(
        "New password",
        description="Use 12 characters or more. A few unrelated words together are easy to remember and hard to guess.",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password")],
    )
    confirm_password = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Confirm your new password")],
    )
    submit = SubmitField("Change password", widget=FastGovSubmitInput())

    def validate_confirm_password(self, field):
        if self.new_password.data and field.data != self.new_password.data:
            raise ValidationError("The passwords do not match")


class CalendarForm(TrackerForm):
    create = SubmitField("Create a new calendar link", widget=FastGovSubmitInput())
    stop = SubmitField("Switch off the calendar link", widget=FastGovSubmitInput())


class CodeForm(TrackerForm):
    code = StringField(
        "Code",
        description="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=FastGovTextInput(),
        validators=[InputRequired(message="Enter the code from your authenticator app"), Length(max=40)],
    )
    submit = SubmitField("Continue", widget=FastGovSubmitInput())


class SetUpForm(TrackerForm):
    code = StringField(
        "Code from the app",
        description="After adding the account, enter the 6-digit code the app shows.",
        widget=FastGovTextInput(),
        validators=[Length(max=40)],
    )
    submit = SubmitField("Check the code and finish setting up", widget=FastGovSubmitInput())
    # Offered to those for whom the second factor is optional (partners), at sign-in only.
    skip = SubmitField("Not now", widget=FastGovSubmitInput())

    def validate_code(self, field):
        if not self.skip.data and not (field.data or "").strip():
            raise ValidationError("Enter the 6-digit code from your authenticator app")


class ConfirmPasswordForm(TrackerForm):
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[InputRequired(message="Enter your password")]
    )
    submit = SubmitField("Continue", widget=FastGovSubmitInput())


class TwoStepForm(TrackerForm):
    """The buttons on the two-step verification page (each needs a recent password confirmation)."""

    new_codes = SubmitField("Get new recovery codes", widget=FastGovSubmitInput())
    turn_off = SubmitField("Turn off two-step verification", widget=FastGovSubmitInput())


class ForgotPasswordForm(TrackerForm):
    email = StringField(
        "Email address",
        widget=FastGovTextInput(),
        validators=[InputRequired(message="Enter your email address"), Length(max=254)],
    )
    submit = SubmitField("Send me a link", widget=FastGovSubmitInput())


class SetPasswordForm(TrackerForm):
    new_password = PasswordField(
        "New password",
        description="Use 12 characters or more. A few unrelated words together are easy to remember and hard to guess.",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password")],
    )
    confirm_password = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Confirm your new password")],
    )
    submit = SubmitField("Save password", widget=FastGovSubmitInput())

    def validate_confirm_password(self, field):
        if self.new_password.data and field.data != self.new_password.data:
            raise ValidationError("The passwords do not match")


class ConfirmForm(TrackerForm):
    """A bare form for a confirmation button: CSRF token and nothing else."""

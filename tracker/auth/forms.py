from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError

from tracker.auth.passwords import MAX_LENGTH
from tracker.forms import TrackerForm


class SignInForm(TrackerForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your email address"), Length(max=254)],
    )
    # Length is not checked here: a wrong password of any length gets the same generic answer.
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[InputRequired(message="Enter your password")]
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


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
    submit = SubmitField("Change password", widget=GovSubmitInput())

    def validate_confirm_password(self, field):
        if self.new_password.data and field.data != self.new_password.data:
            raise ValidationError("The passwords do not match")


class CalendarForm(TrackerForm):
    create = SubmitField("Create a new calendar link", widget=GovSubmitInput())
    stop = SubmitField("Switch off the calendar link", widget=GovSubmitInput())

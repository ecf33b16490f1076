from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Regexp, ValidationError

from tracker.forms import (
    FastGovCheckboxInput,
    FastGovRadios,
    FastGovSelect,
    FastGovSubmitInput,
    FastGovTextArea,
    FastGovTextInput,
    TrackerForm,
    optional_int,
    strip,
)
from tracker.models import Role
from tracker.permissions import may_be_spoc

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


def _email_validator(form, field):
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("Enter an email address in the correct format, like name@example.org") from None


class UserDetailsForm(TrackerForm):
    email = StringField(
        "Email address",
        widget=FastGovTextInput(),
        filters=[strip],
        validators=[
            InputRequired(message="Enter an email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            _email_validator,
        ],
    )
    display_name = StringField(
        "Full name",
        widget=FastGovTextInput(),
        filters=[strip],
        validators=[
            InputRequired(message="Enter the user's full name"),
            Length(max=120, message="Full name must be 120 characters or fewer"),
        ],
    )
    role = RadioField(
        "Role",
        choices=ROLE_CHOICES,
        widget=FastGovRadios(),
        validators=[InputRequired(message="Select a role")],
        validate_choice=False,  # checked below with a plain-English message
    )
    agency_id = SelectField(
        "Agency",
        coerce=optional_int,
        widget=FastGovSelect(),
        validate_choice=False,
    )
    is_spoc = BooleanField(
        "Single point of contact (SPOC) for their agency",
        description="Overdue actions of the agency are escalated to its SPOCs. Partner agency officers only.",
        widget=FastGovCheckboxInput(),
    )

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_id.choices = [SelectChoice("", "Select an agency")] + [
            SelectChoice(agency.id, agency.name) for agency in agencies
        ]
        self._agency_ids = {agency.id for agency in agencies}

    def validate_role(self, field):
        if field.data not in {choice.value for choice in ROLE_CHOICES}:
            raise ValidationError("Select a role from the list")

    def validate_agency_id(self, field):
        if field.data not in self._agency_ids:
            raise ValidationError("Select the user's agency from the list")

    def validate_is_spoc(self, field):
        if field.data and not may_be_spoc(self.role.data):
            raise ValidationError("Only partner agency officers can be a single point of contact")


class NewUserForm(UserDetailsForm):
    submit = SubmitField("Create user and send invitation", widget=FastGovSubmitInput())


class EditUserForm(UserDetailsForm):
    submit = SubmitField("Save changes", widget=FastGovSubmitInput())


class AgencyForm(TrackerForm):
    name = StringField(
        "Agency name",
        widget=FastGovTextInput(),
        filters=[strip],
        validators=[
            InputRequired(message="Enter the agency's name"),
            Length(max=120, message="Agency name must be 120 characters or fewer"),
        ],
    )
    code = StringField(
        "Short code",
        description="2 to 12 capital letters or digits, shown in tables. For example, POL or IDVA.",
        widget=FastGovTextInput(),
        filters=[lambda value: value.strip().upper() if isinstance(value, str) else value],
        validators=[
            InputRequired(message="Enter a short code"),
            Regexp(r"^[A-Z0-9]{2,12}$", message="Short code must be 2 to 12 capital letters or digits"),
        ],
    )
    submit = SubmitField("Save agency", widget=FastGovSubmitInput())


class ConfirmForm(TrackerForm):
    """A bare form for POST-only buttons (deactivate, reactivate): CSRF token and nothing else."""


class SettingsForm(TrackerForm):
    confidentiality_statement = TextAreaField(
        "Confidentiality statement",
        description="Shown at the top of every meeting page. The chair records that it was read out.",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            InputRequired(message="Enter the confidentiality statement"),
            Length(max=2000, message="Confidentiality statement must be 2000 characters or fewer"),
        ],
    )
    submit = SubmitField("Save settings", widget=FastGovSubmitInput())


class ThemeForm(TrackerForm):
    name = StringField(
        "New learning theme",
        description="For example, Coercive control not identified.",
        widget=FastGovTextInput(),
        filters=[strip],
        validators=[
            InputRequired(message="Enter the learning theme"),
            Length(max=80, message="Learning theme must be 80 characters or fewer"),
        ],
    )
    submit = SubmitField("Add learning theme", widget=FastGovSubmitInput())


class MergeThemeForm(TrackerForm):
    """Merge one learning theme into another: its reviews are re-tagged and it is removed."""

    into_id = SelectField("Merge it into", widget=FastGovSelect(), coerce=optional_int, validate_choice=False)
    submit = SubmitField("Merge themes", widget=FastGovSubmitInput())

    def __init__(self, *args, others=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.into_id.choices = [SelectChoice("", "Choose a theme")] + [
            SelectChoice(theme.id, theme.name if theme.active else f"{theme.name} (retired)") for theme in others
        ]
        self._ids = {theme.id for theme in others}

    def validate_into_id(self, field):
        if field.data is None:
            raise ValidationError("Choose the theme to merge it into")
        if field.data not in self._ids:
            raise ValidationError("Choose a theme from the list")


class LegalHoldForm(TrackerForm):
    reference = StringField(
        "Case reference",
        description="The case to keep, for example a crime or incident number",
        widget=FastGovTextInput(),
        filters=[lambda value: value.strip().upper() if isinstance(value, str) else value],
        validators=[
            InputRequired(message="Enter the case reference"),
            Length(max=40, message="Case reference must be 40 characters or fewer"),
        ],
    )
    reason = TextAreaField(
        "Why the case must be kept",
        description="For example, the claim or inquiry it is needed for. Do not write about the people in the case.",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            InputRequired(message="Enter why the case must be kept"),
            Length(max=500, message="The reason must be 500 characters or fewer"),
        ],
    )
    submit = SubmitField("Place a legal hold", widget=FastGovSubmitInput())

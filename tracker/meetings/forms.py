from __future__ import annotations

import re

from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from tracker.forms import (
    DateRequired,
    FastGovCheckboxes,
    FastGovCheckboxInput,
    FastGovRadios,
    FastGovSelect,
    FastGovSubmitInput,
    FastGovTextArea,
    FastGovTextInput,
    GovDateField,
    TrackerForm,
    WholeNumberField,
    choices,
    long_text,
    optional_int,
    strip,
)
from tracker.models import AttendanceStatus

MAX_SERIES_WEEKS = 52


def _time_of_day(form, field):
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", field.data or ""):
        raise ValidationError("Enter a time in 24-hour format, like 10:00 or 14:30")


class MeetingDetailsForm(TrackerForm):
    date = GovDateField("Date", validators=[DateRequired("Enter the date of the meeting")])
    time = StringField(
        "Start time",
        description="24-hour clock, UK time. For example, 10:00.",
        widget=FastGovTextInput(),
        filters=[strip],
        validators=[InputRequired(message="Enter the start time"), _time_of_day],
    )
    location = StringField(
        "Location or call link",
        widget=FastGovTextInput(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter where the meeting is held"),
            Length(max=200, message="Location must be 200 characters or fewer"),
        ],
    )
    chair_id = SelectField("Chair", coerce=optional_int, widget=FastGovSelect(), validate_choice=False)
    invited_agency_ids = SelectMultipleField(
        "Invited agencies",
        coerce=optional_int,
        widget=FastGovCheckboxes(),
        validate_choice=False,
    )

    def __init__(self, *args, chairs=(), agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.chair_id.choices = [SelectChoice("", "Select the chair")] + [
            SelectChoice(user.id, user.display_name) for user in chairs
        ]
        self._chair_ids = {user.id for user in chairs}
        self.invited_agency_ids.choices = [SelectChoice(agency.id, agency.name) for agency in agencies]
        self._agency_ids = {agency.id for agency in agencies}

    def validate_chair_id(self, field):
        if field.data not in self._chair_ids:
            raise ValidationError("Select the chair from the list")

    def validate_invited_agency_ids(self, field):
        if not field.data:
            raise ValidationError("Select at least one invited agency")
        if any(agency_id not in self._agency_ids for agency_id in field.data):
            raise ValidationError("Select invited agencies from the list")


class NewMeetingForm(MeetingDetailsForm):
    weeks = WholeNumberField(
        "How many weekly meetings?",
        not_a_number=f"Enter a number of weeks from 1 to {MAX_SERIES_WEEKS}",
        description="1 for a single meeting. More creates a weekly series at the same time, place and chair.",
        widget=FastGovTextInput(),
        default=1,
        validators=[
            InputRequired(message="Enter how many weekly meetings to create"),
            NumberRange(min=1, max=MAX_SERIES_WEEKS, message=f"Enter a number of weeks from 1 to {MAX_SERIES_WEEKS}"),
        ],
    )
    submit = SubmitField("Schedule", widget=FastGovSubmitInput())


class EditMeetingForm(MeetingDetailsForm):
    submit = SubmitField("Save changes", widget=FastGovSubmitInput())


class ReasonForm(TrackerForm):
    reason = TextAreaField(
        "Reason",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter the reason"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )
    submit = SubmitField("Confirm", widget=FastGovSubmitInput())


class MinutesTextForm(TrackerForm):
    general_notes = long_text("General notes", "General notes")
    any_other_business = long_text("Any other business", "Any other business")
    submit = SubmitField("Save notes", widget=FastGovSubmitInput())


def _case_reference(form, field):
    value = field.data or ""
    if "\n" in value or "\r" in value:
        raise ValidationError("Case reference must be on one line")
    if len(value) > 40:
        raise ValidationError("Case reference must be 40 characters or fewer")
    # A crime or incident number has digits; a name typed by mistake has none (and must not be kept).
    if value.strip() and not re.search(r"[0-9]", value):  # not str.isdigit: that takes "²" too
        raise ValidationError("Case reference must be a crime or incident number, with digits: never a person's name")


class AddCaseForm(TrackerForm):
    reference = StringField(
        "Case reference",
        description="The crime or incident number. Never a person's name.",
        widget=FastGovTextInput(),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(message="Enter the case reference"), _case_reference],
    )
    submit = SubmitField("Add case to the agenda", widget=FastGovSubmitInput())


class ActionForm(TrackerForm):
    description = TextAreaField(
        "What needs to happen",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Describe the action"),
            Length(max=2000, message="Description must be 2000 characters or fewer"),
        ],
    )
    owning_agency_id = SelectField("Owning agency", coerce=optional_int, widget=FastGovSelect(), validate_choice=False)
    owner_id = SelectField(
        "Named owner (optional)",
        coerce=optional_int,
        widget=FastGovSelect(),
        validate_choice=False,
        description="Listed by agency. Must belong to the owning agency.",
    )
    due_date = GovDateField("Due date", validators=[DateRequired("Enter the due date")])
    submit = SubmitField("Raise action", widget=FastGovSubmitInput())

    def __init__(self, *args, agencies=(), owners=(), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owning_agency_id.choices = [SelectChoice("", "Select an agency")] + [
            SelectChoice(a.id, a.name) for a in agencies
        ]
        # Grouped by agency; with JavaScript (app.js), only the chosen owning agency's group is offered.
        self.owner_id.choices = [SelectChoice("", "No named owner – the agency's SPOC follows it up")] + [
            SelectChoice(u.id, u.display_name, optgroup=u.agency_name) for u in owners
        ]
        self.owner_id.render_kw = {"data-owners-of": self.owning_agency_id.id}
        self._agency_ids = {a.id for a in agencies}
        self._owner_agency = {u.id: u.agency_id for u in owners}
        self._today = today

    def validate_owning_agency_id(self, field):
        if field.data not in self._agency_ids:
            raise ValidationError("Select the owning agency from the list")

    def validate_owner_id(self, field):
        if field.data is None:
            return
        if field.data not in self._owner_agency:
            raise ValidationError("Select the named owner from the list")
        if self._owner_agency[field.data] != self.owning_agency_id.data:
            raise ValidationError("The named owner must belong to the owning agency")

    def validate_due_date(self, field):
        if field.data is not None and self._today is not None and field.data < self._today:
            raise ValidationError("Due date must be today or in the future")


class MoveReviewForm(TrackerForm):
    review_id = HiddenField(validators=[InputRequired()])
    direction = HiddenField(validators=[InputRequired()])
    # The agenda as the chair saw it; a move on a stale agenda is refused.
    agenda = HiddenField(validators=[InputRequired()])


AGENDA_ROWS = 5  # blank lines for new cases on the agenda page (save, and five more appear)


class AgendaRowForm(Form):
    """One new case for the agenda: its reference and the agencies involved (they will be asked for
    their information once the agenda is published)."""

    reference = StringField(
        "Case reference",
        widget=FastGovTextInput(),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[_case_reference],
    )
    agency_ids = SelectMultipleField(
        "Agencies involved", coerce=optional_int, widget=FastGovCheckboxes(), validate_choice=False
    )


class AgendaForm(TrackerForm):
    rows = FieldList(FormField(AgendaRowForm), min_entries=AGENDA_ROWS, max_entries=AGENDA_ROWS)
    save = SubmitField("Save the agenda", widget=FastGovSubmitInput())
    publish = SubmitField("Save and publish the agenda", widget=FastGovSubmitInput())

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._agency_ids = {agency.id for agency in agencies}
        for row in self.rows:
            row.form.agency_ids.choices = [SelectChoice(a.id, a.code) for a in agencies]

    def validate_rows(self, field):
        for row in field:
            if row.form.agency_ids.data and not row.form.reference.data:
                row.form.reference.errors.append("Enter the case reference, or untick its agencies")
                raise ValidationError("")
            if any(agency_id not in self._agency_ids for agency_id in row.form.agency_ids.data or []):
                row.form.agency_ids.errors.append("Select agencies from the list")
                raise ValidationError("")

    def new_cases(self) -> list[tuple[str, list[int]]]:
        return [
            (row.form.reference.data, list(dict.fromkeys(row.form.agency_ids.data or [])))  # each agency once
            for row in self.rows
            if row.form.reference.data
        ]


ATTENDANCE_CHOICES = [(status.value, status.label) for status in AttendanceStatus]


class AttendanceSheetForm(TrackerForm):
    """The attendance form: one line per listed member of the invited agencies and per guest, a guest
    to add, and an invited agency whose members to list in full. Each line's status is posted as
    ``status-u<user id>`` or ``status-r<attendance row id>`` (see the view's _attendance_entries());
    the agencies already listed in full as ``in_full``, repeated."""

    statement_read = BooleanField(
        "The confidentiality statement was read at the start of the meeting", widget=FastGovCheckboxInput()
    )
    guest_name = StringField(
        "Name",
        widget=FastGovTextInput(),
        filters=[strip],
        validators=[Length(max=120, message="Name must be 120 characters or fewer")],
    )
    guest_agency_id = SelectField("Agency", coerce=optional_int, widget=FastGovSelect(), validate_choice=False)
    guest_deputy_for = StringField(
        "Deputising for (optional)",
        widget=FastGovTextInput(),
        filters=[strip],
        validators=[Length(max=120, message="Deputising for must be 120 characters or fewer")],
    )
    guest_status = RadioField(
        "Attendance", choices=choices(ATTENDANCE_CHOICES), widget=FastGovRadios(), validate_choice=False,
        default=AttendanceStatus.PRESENT.value,
    )  # fmt: skip
    save = SubmitField("Save attendance", widget=FastGovSubmitInput())
    everyone_else_present = SubmitField(
        "Save, marking everyone not yet recorded as present", widget=FastGovSubmitInput()
    )

    # Below the saving buttons: Enter in a text box presses the first of those, never this one.
    list_agency_id = SelectField(
        "Agency whose members to list", coerce=optional_int, widget=FastGovSelect(), validate_choice=False,
        description="Its members are added to the list above, to choose for; nothing is saved until you save",
    )  # fmt: skip
    list_members = SubmitField("List all members of the chosen agency", widget=FastGovSubmitInput())

    def __init__(self, *args, agencies=(), unlisted=(), invited=(), **kwargs):
        """``unlisted``: each invited agency with members not listed, and how many (AttendanceSheet)."""
        super().__init__(*args, **kwargs)
        self.guest_agency_id.choices = [SelectChoice("", "Select an agency")] + [
            SelectChoice(agency.id, agency.name) for agency in agencies
        ]
        self._agency_ids = {agency.id for agency in agencies}
        self.list_agency_id.choices = [SelectChoice("", "Select an agency")] + [
            SelectChoice(agency.id, f"{agency.name} ({count} not listed)") for agency, count in unlisted
        ]
        self._invited_ids = {agency.id for agency in invited}

    def check_agency_to_list(self) -> None:
        """For "List all members of the chosen agency", which saves nothing: the agency chosen must be
        one of those invited (the rest of the form, as the chair left it, is not checked yet)."""
        if self.list_agency_id.data not in self._invited_ids:
            self.list_agency_id.errors = ["Select an invited agency whose members to list"]

    def validate_guest_agency_id(self, field):
        if self.guest_name.data and field.data not in self._agency_ids:
            raise ValidationError("Select the guest's agency")

    def validate_guest_status(self, field):
        if self.guest_name.data and field.data not in {value for value, _ in ATTENDANCE_CHOICES}:
            raise ValidationError("Select present, apologies or absent")

    def statuses(self, formdata, key: str) -> str | None:
        """The status posted for one line: a known value, "" for not recorded, or None if tampered with."""
        value = str(formdata.get(key, "") or "")
        return value if value in {"", *(v for v, _ in ATTENDANCE_CHOICES)} else None


class ApprovalForm(TrackerForm):
    accepted = SelectMultipleField("Gaps accepted", widget=FastGovCheckboxes(), validate_choice=False, choices=[])
    submit = SubmitField("Approve the minutes", widget=FastGovSubmitInput())


class ConfirmForm(TrackerForm):
    """A confirmation page's single button (with its CSRF token)."""

    submit = SubmitField("Confirm", widget=FastGovSubmitInput())

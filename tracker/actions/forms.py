from functools import cache

from flask import url_for
from markupsafe import Markup
from wtforms import IntegerField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from tracker.escaping import escape
from tracker.forms import (
    DateRequired,
    FastGovRadios,
    FastGovSelect,
    FastGovSubmitInput,
    FastGovTextArea,
    GovDateField,
    TrackerForm,
    optional_int,
    strip,
)
from tracker.models import ActionStatus

KEEP_STATUS = ""


NOTE_HINT = "What has happened since the last update. When completing, the outcome."
_NOTE_HINT_HTML = escape(NOTE_HINT)


@cache  # a handful of statuses; matters arising asks once per row
def progress_choices(current: ActionStatus) -> tuple[tuple[str, str], ...]:
    """The statuses an update may move an action to (cancelling has its own page)."""
    keep = ((KEEP_STATUS, f"No change ({current.label.lower()})"),)
    return keep + tuple((status.value, status.label) for status in (ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED)
                        if status != current)  # fmt: skip


class ActionProgressForm(TrackerForm):
    """A progress note, optionally moving the status. Completing needs an outcome. (Cancelling has its
    own confirmation page: CancelActionForm.)"""

    note = TextAreaField(
        "Update",
        description=NOTE_HINT,
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter an update"),
            Length(max=2000, message="Update must be 2000 characters or fewer"),
        ],
    )
    status = SelectField("Status", widget=FastGovSelect(), validate_choice=False, default=KEEP_STATUS)
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Reload the page and try again")])
    submit = SubmitField("Save update", widget=FastGovSubmitInput())

    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        options = progress_choices(action.status if action is not None else ActionStatus.OPEN)
        self.status.choices = [SelectChoice(value, label) for value, label in options]
        self._allowed = {value for value, _ in options}

    def validate_status(self, field):
        if (field.data or KEEP_STATUS) not in self._allowed:
            raise ValidationError("Select a status from the list")


class DueDateForm(TrackerForm):
    due_date = GovDateField("New due date", validators=[DateRequired("Enter the new due date")])
    reason = TextAreaField(
        "Reason for the new date",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter the reason for changing the due date"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Reload the page and try again")])
    submit = SubmitField("Change due date", widget=FastGovSubmitInput())

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._today = today

    def validate_due_date(self, field):
        if field.data is not None and self._today is not None and field.data < self._today:
            raise ValidationError("New due date must be today or in the future")


class OwnerForm(TrackerForm):
    owner_id = SelectField("Named owner", widget=FastGovSelect(), coerce=optional_int, validate_choice=False)
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Reload the page and try again")])
    submit = SubmitField("Assign owner", widget=FastGovSubmitInput())

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = [SelectChoice("", "No named owner – the agency's SPOC follows it up")] + [
            SelectChoice(member.id, member.display_name) for member in members
        ]
        self._member_ids = {member.id for member in members}

    def validate_owner_id(self, field):
        # Not a member who may update actions (another agency's officer, a manager, an administrator).
        if field.data is not None and field.data not in self._member_ids:
            raise ValidationError("Select the named owner from the list")


class CancelActionForm(TrackerForm):
    """Cancelling an action (chairs only), after a confirmation page. The reason stays in the trail."""

    reason = TextAreaField(
        "Why is this action being cancelled?",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter the reason for cancelling the action"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Reload the page and try again")])
    submit = SubmitField("Cancel the action", widget=FastGovSubmitInput())


class ReopenActionForm(TrackerForm):
    """Bringing a cancelled action back (chairs only), with a reason."""

    reason = TextAreaField(
        "Why is this action being reopened?",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter the reason for reopening the action"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Reload the page and try again")])
    submit = SubmitField("Reopen the action", widget=FastGovSubmitInput())


class ExtensionRequestForm(TrackerForm):
    """A partner asks for a later due date. Until a chair agrees, the action stays due on its current date."""

    requested_due_date = GovDateField(
        "New due date you are asking for",
        validators=[DateRequired("Enter the new due date you are asking for")],
    )
    reason = TextAreaField(
        "Why is more time needed?",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[
            DataRequired(message="Enter why more time is needed"),
            Length(max=1000, message="Reason must be 1000 characters or fewer"),
        ],
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Reload the page and try again")])
    submit = SubmitField("Ask for more time", widget=FastGovSubmitInput())

    def __init__(self, *args, today=None, current_due=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._today, self._current_due = today, current_due
        if current_due is not None:  # the example must be a date the form accepts
            self.requested_due_date.example_after(current_due)

    def validate_requested_due_date(self, field):
        if field.data is None:
            return
        if self._current_due is not None and field.data <= self._current_due:
            raise ValidationError("New due date must be after the current due date")
        if self._today is not None and field.data < self._today:
            raise ValidationError("New due date must be today or in the future")


AGREE, DECLINE = "agree", "decline"


class ExtensionDecisionForm(TrackerForm):
    """A chair agrees or declines an extension request; declining needs a note for the agency."""

    decision = RadioField(
        "Decision",
        choices=[SelectChoice(AGREE, "Agree: move the due date"), SelectChoice(DECLINE, "Decline: the due date stays")],
        widget=FastGovRadios(),
        validators=[InputRequired(message="Select agree or decline")],
        validate_choice=False,
    )
    note = TextAreaField(
        "Note for the agency",
        description="Required when declining.",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[Length(max=1000, message="Note must be 1000 characters or fewer")],
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Reload the page and try again")])
    submit = SubmitField("Save decision", widget=FastGovSubmitInput())

    def validate_decision(self, field):
        if field.data not in (AGREE, DECLINE):
            raise ValidationError("Select agree or decline")

    def validate_note(self, field):
        if self.decision.data == DECLINE and not field.data:
            raise ValidationError("Enter a note saying why the request is declined")


@cache  # a handful of statuses
def _progress_options(status: ActionStatus) -> str:
    """The status select's options for an action in ``status`` (made once per status, not per row)."""
    choices = progress_choices(status)
    return "".join(f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in choices)


def progress_row_form(action, next_url: str, csrf_token: str, *, form_url=None) -> Markup:
    """A matters-arising row's progress form: ActionProgressForm's fields (posted to the one progress
    view, prefixed with the action so ids stay unique on the page), in plain GOV.UK markup written here:
    a page shows 25 of them, and a Jinja macro cost about 40 % of the page's rendering. ``form_url``:
    the progress view's URL for an id (templating.url_maker), when the caller makes many."""
    prefix = f"a{int(action.id)}"
    action_url = form_url(action.id) if form_url else url_for("actions.progress", action_id=action.id)
    options = _progress_options(action.status)
    return Markup(  # noqa: S704 - every value escaped; the prefix and version are integers  # nosec B704
        f'<form method="post" action="{escape(action_url)}" novalidate>'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<input type="hidden" name="{prefix}-version" value="{int(action.version)}">'
        f'<div class="govuk-form-group"><label class="govuk-label" for="{prefix}-note">Update</label>'
        f'<div class="govuk-hint" id="{prefix}-note-hint">{_NOTE_HINT_HTML}</div>'
        f'<textarea class="govuk-textarea" id="{prefix}-note" name="{prefix}-note" rows="2"'
        f' aria-describedby="{prefix}-note-hint"></textarea></div>'
        f'<div class="govuk-form-group"><label class="govuk-label" for="{prefix}-status">Status</label>'
        f'<select class="govuk-select" id="{prefix}-status" name="{prefix}-status">{options}</select></div>'
        '<button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button"'
        ' data-prevent-double-click="true">Save update</button></form>'
    )

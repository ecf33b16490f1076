from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea
from wtforms import HiddenField, IntegerField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from tracker.forms import strip
from tracker.models import ActionStatus

KEEP_STATUS = ""


class ActionProgressForm(FlaskForm):
    """A progress note, optionally moving the status. Completing needs an outcome; cancelling a reason."""

    note = TextAreaField(
        "Update", description="What has happened since the last update. When completing, the outcome; when cancelling, the reason.",
        widget=GovTextArea(), filters=[strip],
        validators=[DataRequired(message="Enter an update"), Length(max=2000, message="Update must be 2000 characters or fewer")],
    )
    status = SelectField("Status", widget=GovSelect(), validate_choice=False, default=KEEP_STATUS)
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Reload the page and try again")])
    submit = SubmitField("Save update", widget=GovSubmitInput())

    def __init__(self, *args, action=None, may_cancel=False, **kwargs):
        super().__init__(*args, **kwargs)
        current = action.status if action is not None else ActionStatus.OPEN
        options = [SelectChoice(KEEP_STATUS, f"No change ({current.label.lower()})")]
        for status in (ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED):
            if status != current:
                options.append(SelectChoice(status.value, status.label))
        if may_cancel:
            options.append(SelectChoice(ActionStatus.CANCELLED.value, ActionStatus.CANCELLED.label))
        self.status.choices = options
        self._allowed = {choice.value for choice in options}

    def validate_status(self, field):
        if (field.data or KEEP_STATUS) not in self._allowed:
            raise ValidationError("Select a status from the list")

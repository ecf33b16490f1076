from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from tracker.forms import (
    FastGovCheckboxes,
    FastGovCheckboxInput,
    FastGovRadios,
    FastGovSubmitInput,
    FastGovTextArea,
    FastGovTextInput,
    TrackerForm,
    WholeNumberField,
    choices,
    long_text,
    optional_int,
    strip,
)
from tracker.models import RISK_FLAGS, SCRUTINY_GRADES, RiskLevel


class CaseReviewForm(TrackerForm):
    dash_score = WholeNumberField(
        "DASH risk score",
        not_a_number="DASH score must be a whole number from 0 to 24",
        description="Number of ticks on the DASH risk checklist, from 0 to 24. Leave blank if not known.",
        widget=FastGovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=24, message="DASH score must be a whole number from 0 to 24")],
    )
    risk_overridden = BooleanField("Set the risk level by professional judgement", widget=FastGovCheckboxInput())
    risk_level = RadioField(
        "Risk level by professional judgement",
        choices=choices((r.value, r.label) for r in RiskLevel),
        widget=FastGovRadios(),
        validate_choice=False,
    )
    risk_override_reason = TextAreaField(
        "Reason for the professional judgement",
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[Length(max=500, message="Reason must be 500 characters or fewer")],
    )
    flags = SelectMultipleField(
        "Risk factors", choices=choices(RISK_FLAGS), widget=FastGovCheckboxes(), validate_choice=False
    )
    agency_ids = SelectMultipleField(
        "Agencies involved", coerce=optional_int, widget=FastGovCheckboxes(), validate_choice=False
    )
    summary = long_text("Summary", "Summary")
    findings = long_text("Findings and discussion", "Findings")
    scrutiny_grade = RadioField(
        "Scrutiny grade",
        choices=choices((str(k), f"{k} – {v}") for k, v in SCRUTINY_GRADES.items()),
        widget=FastGovRadios(),
        validate_choice=False,
    )
    theme_ids = SelectMultipleField(
        "Learning themes", coerce=optional_int, widget=FastGovCheckboxes(), validate_choice=False
    )
    feedback_to_officer = long_text("Feedback to the officer", "Feedback")
    save = SubmitField("Save the review", widget=FastGovSubmitInput())
    save_and_next = SubmitField("Save and go to the next case", widget=FastGovSubmitInput())
    save_and_action = SubmitField("Save and raise an action", widget=FastGovSubmitInput())
    save_draft = SubmitField("Save as a draft", widget=FastGovSubmitInput())

    @property
    def is_draft(self) -> bool:
        return bool(self.save_draft.data)

    def check_complete(self) -> bool:
        """A complete review has a risk level (from the DASH score or by judgement), a grade and findings.
        A draft may be saved without them."""
        complete = True
        if self.dash_score.data is None and not self.risk_overridden.data:
            self.dash_score.errors = [*self.dash_score.errors, "Enter the DASH score, or set the risk level by "
                                      "professional judgement (or save the review as a draft)"]  # fmt: skip
            complete = False
        if not self.scrutiny_grade.data:
            self.scrutiny_grade.errors = [*self.scrutiny_grade.errors, "Select a scrutiny grade (or save as a draft)"]
            complete = False
        if not self.findings.data:
            self.findings.errors = [*self.findings.errors, "Enter the findings (or save the review as a draft)"]
            complete = False
        return complete

    def __init__(self, *args, agencies=(), themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_ids.choices = [SelectChoice(a.id, a.name) for a in agencies]
        self.theme_ids.choices = [SelectChoice(t.id, t.name if t.active else f"{t.name} (retired)") for t in themes]
        self._agency_ids = {a.id for a in agencies}
        self._theme_ids = {t.id for t in themes}

    def validate_risk_level(self, field):
        if self.risk_overridden.data and field.data not in {r.value for r in RiskLevel}:
            raise ValidationError("Select the risk level you have judged")

    def validate_risk_override_reason(self, field):
        if self.risk_overridden.data and not field.data:
            raise ValidationError("Enter the reason for setting the risk level by professional judgement")

    def validate_flags(self, field):
        if any(flag not in {name for name, _ in RISK_FLAGS} for flag in field.data or []):
            raise ValidationError("Select risk factors from the list")

    def validate_agency_ids(self, field):
        if any(agency_id not in self._agency_ids for agency_id in field.data or []):
            raise ValidationError("Select agencies from the list")

    def validate_scrutiny_grade(self, field):
        if field.data not in (None, "") and field.data not in {str(k) for k in SCRUTINY_GRADES}:
            raise ValidationError("Select a scrutiny grade from 1 to 4")

    def validate_theme_ids(self, field):
        if any(theme_id not in self._theme_ids for theme_id in field.data or []):
            raise ValidationError("Select learning themes from the list")


class AgencyReturnForm(TrackerForm):
    """A partner agency's information on one agenda case, before the meeting."""

    no_information_held = BooleanField("Our agency holds no information on this case", widget=FastGovCheckboxInput())
    contact_made = BooleanField("We have been in contact with the people involved", widget=FastGovCheckboxInput())
    information = long_text(
        "What your agency holds and has done",
        "Information",
        description="Involvement, risk information, what you have done and when. No more than the panel needs.",
    )
    submit = SubmitField("Send your agency's information", widget=FastGovSubmitInput())

    def validate_information(self, field):
        if not field.data and not self.no_information_held.data:
            raise ValidationError("Enter what your agency holds, or tick that it holds no information")
        # Both would keep only "no information held": what was typed would be lost without a word.
        if field.data and self.no_information_held.data:
            raise ValidationError(
                "You ticked that your agency holds no information: untick it to send this information, "
                "or remove the information"
            )

"""Form pieces shared by every area."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import TypeVar

from flask import abort
from flask_wtf import FlaskForm
from govuk_frontend_wtf.main import wtforms_errors
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from markupsafe import Markup
from wtforms import DateField, Field, FieldList, FormField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, StopValidation

from tracker.escaping import escape
from tracker.params import EARLIEST_DATE, LATEST_DATE, UNSAFE_CHARACTERS
from tracker.templating import govuk_select
from tracker.timeutil import london_today

T = TypeVar("T")
LONG_TEXT = 5000  # the longest free text a form takes (summaries, findings, notes)


# Text inputs, text areas and date inputs ------------------------------------------------------
# The same idea as _FastChoices, for the fields every form page has: govuk-frontend-wtf renders each
# through its macro (a date input is four macros and a fieldset), about a millisecond a field. The plain
# case is written here in GOV.UK's markup; anything else goes through the macro, and
# tests/test_widgets.py checks that both give the same document in every state a field can be in.

_LABEL_KEYS = {"text", "classes"}
_TEXT_ONLY = {"text"}


def _attributes(attributes: dict) -> str:
    return "".join(f' {escape(name)}="{escape(value)}"' for name, value in attributes.items())


def _plain_text_params(params, allowed: set[str]) -> bool:
    """Only the keys this module writes, each in its simplest form (texts, not HTML; string attributes)."""
    return (
        set(params) <= allowed
        and _only(params.get("label") or {}, _LABEL_KEYS)
        and _only(params.get("hint") or {}, _TEXT_ONLY)
        and _only(params.get("errorMessage") or {}, _TEXT_ONLY)
        and isinstance(params.get("attributes", {}), dict)
        and all(isinstance(value, str) for value in params.get("attributes", {}).values())
    )


def _hint_and_error(field_id: str, params) -> tuple[list[str], list[str]]:
    """The hint and error message blocks, and the ids that the input is described by."""
    described_by, blocks = [], []
    if params.get("hint"):
        described_by.append(f"{field_id}-hint")
        blocks.append(f'<div id="{field_id}-hint" class="govuk-hint">{escape(params["hint"].get("text") or "")}</div>')
    if error := params.get("errorMessage"):
        described_by.append(f"{field_id}-error")
        blocks.append(
            f'<p id="{field_id}-error" class="govuk-error-message">'
            f'<span class="govuk-visually-hidden">Error:</span> {escape(error.get("text") or "")}</p>'
        )
    return described_by, blocks


def _label(field_id: str, label) -> str:
    if not label or not label.get("text"):
        return ""
    classes = f" {escape(label['classes'])}" if label.get("classes") else ""
    return f'<label class="govuk-label{classes}" for="{field_id}">{escape(label["text"])}</label>'


def _form_group(params, inner: str) -> Markup:
    error_class = " govuk-form-group--error" if params.get("errorMessage") else ""
    return Markup(f'<div class="govuk-form-group{error_class}">{inner}</div>')  # noqa: S704 - parts escaped  # nosec B704


class FastGovTextInput(GovTextInput):
    _ALLOWED = {
        "id", "name", "label", "attributes", "hint", "value", "type", "errorMessage", "classes",
        "spellcheck", "autocomplete", "inputmode",
    }  # fmt: skip

    def render(self, params):
        if not _plain_text_params(params, self._ALLOWED) or params.get("spellcheck") not in (None, True, False):
            return super().render(params)
        field_id = escape(params.get("id") or params["name"])
        described_by, blocks = _hint_and_error(field_id, params)
        classes = "govuk-input"
        if params.get("classes"):
            classes += f" {escape(params['classes'])}"
        if params.get("errorMessage"):
            classes += " govuk-input--error"
        optional = {
            "spellcheck": str(params["spellcheck"]).lower() if params.get("spellcheck") is not None else None,
            "value": params.get("value"),
            "aria-describedby": " ".join(described_by) or None,
            "autocomplete": params.get("autocomplete"),
            "inputmode": params.get("inputmode"),
        }
        attributes = {name: value for name, value in optional.items() if value is not None and value is not False}
        attributes.update(params.get("attributes") or {})
        element = (
            f'<input class="{classes}" id="{field_id}" name="{escape(params["name"])}"'
            f' type="{escape(params.get("type") or "text")}"{_attributes(attributes)}>'
        )
        return _form_group(params, _label(field_id, params.get("label")) + "".join(blocks) + element)


class FastGovTextArea(GovTextArea):
    _ALLOWED = {"id", "name", "label", "attributes", "hint", "value", "errorMessage", "classes", "rows"}

    def render(self, params):
        if not _plain_text_params(params, self._ALLOWED):
            return super().render(params)
        field_id = escape(params.get("id") or params["name"])
        described_by, blocks = _hint_and_error(field_id, params)
        classes = "govuk-textarea"
        if params.get("errorMessage"):
            classes += " govuk-textarea--error"
        if params.get("classes"):
            classes += f" {escape(params['classes'])}"
        described = f' aria-describedby="{" ".join(described_by)}"' if described_by else ""
        element = (
            f'<textarea class="{classes}" id="{field_id}" name="{escape(params["name"])}"'
            f' rows="{escape(params.get("rows") or 5)}"{described}{_attributes(params.get("attributes") or {})}>'
            f"{escape(params.get('value') if params.get('value') is not None else '')}</textarea>"
        )
        return _form_group(params, _label(field_id, params.get("label")) + "".join(blocks) + element)


class FastGovDateInput(GovDateInput):
    _ALLOWED = {"id", "name", "label", "attributes", "hint", "value", "errorMessage", "fieldset", "items"}
    _ITEM_KEYS = {"label", "id", "name", "classes", "value"}

    def render(self, params):
        fieldset = params.get("fieldset")
        if not (
            _plain_text_params(params, self._ALLOWED)
            and _only(fieldset, {"legend"})
            and _only(fieldset.get("legend") or {}, _LABEL_KEYS)
            and all(_only(item, self._ITEM_KEYS) and item.get("label") for item in params.get("items") or [None])
        ):
            return super().render(params)
        field_id = escape(params["id"])
        described_by, blocks = _hint_and_error(field_id, params)
        items = []
        for item in params["items"]:
            item_id = escape(item["id"])
            value = f' value="{escape(item["value"])}"' if item.get("value") is not None else ""
            items.append(
                f'<div class="govuk-date-input__item"><div class="govuk-form-group">'
                f'<label class="govuk-label govuk-date-input__label" for="{item_id}">{escape(item["label"])}</label>'
                f'<input class="govuk-input govuk-date-input__input {escape(item.get("classes") or "")}"'
                f' id="{item_id}" name="{escape(item["name"])}" type="text"{value} inputmode="numeric"></div></div>'
            )
        inputs = (
            f'<div class="govuk-date-input"{_attributes(params.get("attributes") or {})} id="{field_id}">'
            f"{''.join(items)}</div>"
        )
        legend = fieldset["legend"] or {}
        legend_html = ""
        if legend.get("text"):
            legend_classes = f" {escape(legend['classes'])}" if legend.get("classes") else ""
            legend_html = f'<legend class="govuk-fieldset__legend{legend_classes}">{escape(legend["text"])}</legend>'
        described = f' aria-describedby="{" ".join(described_by)}"' if described_by else ""
        inner = f"{legend_html}{''.join(blocks)}{inputs}"
        return _form_group(params, f'<fieldset class="govuk-fieldset" role="group"{described}>{inner}</fieldset>')


class FastGovSubmitInput(GovSubmitInput):
    """A form's button (``element`` "button"): text, classes, string attributes, preventDoubleClick."""

    _ALLOWED = {
        "id", "name", "label", "attributes", "hint", "value", "type", "text", "element", "classes",
        "preventDoubleClick",
    }  # fmt: skip

    def render(self, params):
        if not _plain_text_params(params, self._ALLOWED) or params.get("element") != "button":
            return super().render(params)
        classes = f"govuk-button {escape(params['classes'])}" if params.get("classes") else "govuk-button"
        optional = ""
        if params.get("value"):
            optional += f' value="{escape(params["value"])}"'
        if params.get("name"):
            optional += f' name="{escape(params["name"])}"'
        if "preventDoubleClick" in params and params["preventDoubleClick"] is not None:
            optional += f' data-prevent-double-click="{escape(str(params["preventDoubleClick"]).lower())}"'
        element_id = f' id="{escape(params["id"])}"' if params.get("id") else ""
        return Markup(  # noqa: S704 - every value and text escaped  # nosec B704
            f'<button type="{escape(params.get("type") or "submit")}"{optional} class="{classes}"'
            f' data-module="govuk-button"{_attributes(params.get("attributes") or {})}{element_id}>'
            f"{escape(params.get('text') or '')}</button>"
        )


def unsafe_character_message(field: Field) -> str:
    return (
        f"{field.label.text} must not contain hidden control characters or characters that change the direction of text"
    )


def _typed_text_fields(form) -> Iterator[Field]:
    """Every field that holds typed text, inside nested rows too (passwords are never stored or shown)."""
    for field in form:
        if isinstance(field, FormField):
            yield from _typed_text_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _typed_text_fields(entry.form) if isinstance(entry, FormField) else (entry,)
        elif isinstance(field, StringField) and not isinstance(field, PasswordField):
            yield field


class TrackerForm(FlaskForm):
    """The base of every form: on top of each field's own checks, typed text holding control or
    text-direction characters is refused with a message on that field (and nothing is saved)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in _typed_text_fields(self):
            if isinstance(field.data, str) and UNSAFE_CHARACTERS.search(field.data):
                if not isinstance(field.errors, list):
                    field.errors = list(field.errors)
                field.errors.append(unsafe_character_message(field))
                valid = False
        if not valid:
            _gather_row_errors(self)
        return valid


def _gather_row_errors(form) -> None:
    """A list of rows keeps the errors its rows had when it was checked: gather them again, so that
    errors added since (above, or by a form's own check of its rows) count in ``form.errors``, which
    gives the page its "Error: " title and its error summary."""
    for field in form:
        if isinstance(field, FieldList):
            own = [error for error in field.errors if not isinstance(error, dict)]  # the list's own messages
            rows = [entry.errors for entry in field.entries]
            field.errors = rows + own if any(rows) else own


def long_text(label: str, noun: str, **kwargs) -> TextAreaField:
    """An optional free-text field up to LONG_TEXT characters (notes, summary, findings, ...)."""
    return TextAreaField(
        label,
        widget=FastGovTextArea(),
        filters=[strip],
        validators=[Length(max=LONG_TEXT, message=f"{noun} must be {LONG_TEXT} characters or fewer")],
        **kwargs,
    )


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def strip(value):
    """Trim text; a field missing from the post becomes an empty string, never None."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def optional_int(value):
    """Coerce a posted id; anything that is not a whole number becomes None ('not chosen')."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def date_example(after: date | None = None) -> str:
    """An example date for a date input's hint and errors, two weeks after today (every date the forms
    ask for is today or later: a due date, a meeting's) or after ``after`` if that is later, as it is
    typed: "12 12 2026"."""
    example = max(london_today(), after or date.min) + timedelta(days=14)
    return f"{example.day} {example.month} {example.year}"


class GovDateField(DateField):
    """A GOV.UK date input (day, month, year) with plain-English errors, including 31/02.

    Its hint and error messages give an example date (date_example), worked out as the form is made:
    a fixed example soon lies in the past, where a due date may not be."""

    widget = FastGovDateInput()

    def __init__(self, label=None, validators=None, **kwargs):
        self.example = date_example()
        kwargs.setdefault("description", f"For example, {self.example}")
        super().__init__(label, validators, format="%d %m %Y", **kwargs)

    def example_after(self, day: date) -> None:
        """Give an example after ``day`` (a new due date after the current one)."""
        self.example = date_example(after=day)
        self.description = f"For example, {self.example}"

    def process_formdata(self, valuelist):
        if not valuelist:
            # Not posted at all (a hand-made request): blank, so the page can still be redisplayed.
            self.raw_data = ["", "", ""]
            return
        # Always three parts, so the widget can redisplay whatever was typed.
        parts = [str(part).strip() for part in list(valuelist)[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        try:
            day, month, year = (int(part) for part in parts)
            if year < 1000:
                raise ValueError
            self.data = date(year, month, day)
        except (ValueError, OverflowError):
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like {self.example}") from None
        if not EARLIEST_DATE <= self.data <= LATEST_DATE:
            # Year 9999 is a real date, and a typing mistake; it would also overflow date arithmetic.
            self.data = None
            raise ValueError(
                f"{self.label.text} must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}, like {self.example}"
            )


def error_href(field) -> str:
    """Where an error summary links for ``field``: the field, or for a date input its day box (GOV.UK's
    pattern: the link then puts the cursor in a box; a date input's own id is its wrapper's)."""
    return f"#{field.id}-day" if isinstance(field, GovDateField) else f"#{field.id}"


def error_summary(form) -> dict:
    """govuk-frontend-wtf's error summary parameters for ``form``, each date input linked to its day box."""
    params = wtforms_errors(form)
    dates = {f"#{field.id}": error_href(field) for field in form if isinstance(field, GovDateField)}
    for item in params["errorList"]:
        item["href"] = dates.get(item["href"], item["href"])
    return params


class DateRequired:
    """Like InputRequired, for a GovDateField: any of the three parts missing counts as missing."""

    field_flags = {"required": True}

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.data is None and not field.process_errors:
            field.errors[:] = []
            raise StopValidation(self.message)


class WholeNumberField(IntegerField):
    """An integer field whose 'not a number' message is written for people, not programmers."""

    def __init__(self, label=None, validators=None, *, not_a_number: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.not_a_number = not_a_number

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError:
            self.data = None
            raise ValueError(self.not_a_number) from None


def chosen(value: T | None) -> T:
    """A value a validated form guarantees (a chosen agency, a required date). If it has gone
    missing since validation (say, a record removed in between), the request is refused, not guessed."""
    if value is None:
        abort(400)
    return value


class FastGovSelect(GovSelect):
    """GOV.UK select markup written here in Python, for every select (an action's possible owners are
    every active account). govuk-frontend-wtf sends each option through the govukSelect macro, which
    for 300 accounts cost several milliseconds a page. The markup is the macro's: label, hint, error
    message and aria-describedby alike. Choices with an ``optgroup`` are written as option groups
    after the ungrouped ones (the macro has none), and ``data-`` attributes (the field's render_kw)
    are added to the select. Anything else passed as ``params`` goes through the macro."""

    def __call__(self, field, **kwargs):
        data_attributes = {key: str(value) for key, value in kwargs.items() if key.startswith("data-")}
        if len(data_attributes) < len(kwargs) or "required" in field.flags:  # beyond the plain select: the macro's
            return super().__call__(field, **kwargs)
        ungrouped, groups = [], []
        for group, choices in field.iter_groups() if field.has_groups() else [(None, field.iter_choices())]:
            options = [(choice.value, choice.label, choice.selected) for choice in choices]
            if group is None:
                ungrouped.extend(options)
            else:
                groups.append((group, options))
        return govuk_select(
            field.id,
            field.name,
            field.label.text,
            ungrouped,
            hint=field.description,
            error=field.errors[0] if field.errors else "",
            groups=groups,
            attributes=data_attributes,
        )


def _only(mapping, allowed: set[str]) -> bool:
    return isinstance(mapping, dict) and set(mapping) <= allowed


class _FastChoices:
    """GOV.UK checkboxes or radios markup written here in Python for the plain case: items with a value,
    a text and a checked state, a legend (text and classes), or no fieldset at all (a single checkbox),
    the field's hint and error message, classes on the group. govuk-frontend-wtf renders the
    govukCheckboxes (or govukRadios) macro, and its label, hint and fieldset macros, for every box:
    fifteen agencies cost about two milliseconds a group, and the agenda has five groups, a case review
    five. Anything else in ``params`` goes through the macro, as before. tests/test_widgets.py checks
    that both give the same document."""

    kind = ""  # "checkboxes" or "radios": the GOV.UK classes and the input's type

    def render(self, params):
        if not self._plain(params):
            return super().render(params)  # type: ignore[misc]
        kind, input_type = self.kind, "checkbox" if self.kind == "checkboxes" else "radio"
        name = escape(params["name"])
        described_by = []
        inner = []
        if params.get("hint"):  # as the macros: a hint block whenever a hint is given, even an empty one
            described_by.append(f"{name}-hint")
            inner.append(f'<div id="{name}-hint" class="govuk-hint">{escape(params["hint"].get("text") or "")}</div>')
        if error := params.get("errorMessage"):
            described_by.append(f"{name}-error")
            inner.append(
                f'<p id="{name}-error" class="govuk-error-message">'
                f'<span class="govuk-visually-hidden">Error:</span> {escape(error.get("text") or "")}</p>'
            )
        # Without a fieldset (a single checkbox, GovCheckboxInput), the input itself is described.
        fieldset = params.get("fieldset")
        input_described = f' aria-describedby="{" ".join(described_by)}"' if described_by and not fieldset else ""
        items = []
        for index, item in enumerate(params["items"], 1):
            item_id = f"{name}-{index}" if index > 1 else str(name)
            items.append(
                f'<div class="govuk-{kind}__item"><input class="govuk-{kind}__input" id="{item_id}"'
                f' name="{name}" type="{input_type}" value="{escape(item.get("value"))}"'
                f"{' checked' if item.get('checked') else ''}{input_described}>"
                f'<label class="govuk-label govuk-{kind}__label" for="{item_id}">{escape(item.get("text"))}'
                f"</label></div>"
            )
        classes = f" {escape(params['classes'])}" if params.get("classes") else ""
        inner.append(f'<div class="govuk-{kind}{classes}" data-module="govuk-{kind}">{"".join(items)}</div>')
        error_class = " govuk-form-group--error" if params.get("errorMessage") else ""
        if not fieldset:
            return Markup(  # noqa: S704 - every value and text escaped above  # nosec B704
                f'<div class="govuk-form-group{error_class}">{"".join(inner)}</div>'
            )
        legend = fieldset.get("legend") or {}
        legend_html = ""
        if legend.get("text"):
            legend_classes = f" {escape(legend['classes'])}" if legend.get("classes") else ""
            legend_html = f'<legend class="govuk-fieldset__legend{legend_classes}">{escape(legend["text"])}</legend>'
        described = f' aria-describedby="{" ".join(described_by)}"' if described_by else ""
        return Markup(  # noqa: S704 - every value and text escaped above  # nosec B704
            f'<div class="govuk-form-group{error_class}"><fieldset class="govuk-fieldset"{described}>'
            f"{legend_html}{''.join(inner)}</fieldset></div>"
        )

    @staticmethod
    def _plain(params) -> bool:
        fieldset = params.get("fieldset")
        return (
            set(params) <= {"name", "items", "hint", "errorMessage", "fieldset", "classes"}
            and all(_only(item, {"text", "value", "checked"}) for item in params.get("items", []))
            # A single checkbox has none (GovCheckboxInput removes it)
            and (fieldset is None or _only(fieldset, {"legend"}))
            and _only((fieldset or {}).get("legend") or {}, {"text", "classes"})
            and _only(params.get("hint") or {}, {"text"})
            and _only(params.get("errorMessage") or {}, {"text"})
        )


class FastGovCheckboxes(_FastChoices, GovCheckboxesInput):
    kind = "checkboxes"


class FastGovRadios(_FastChoices, GovRadioInput):
    kind = "radios"


class FastGovCheckboxInput(_FastChoices, GovCheckboxInput):
    """A single checkbox (a BooleanField): the macro took about 0.4 ms a box."""

    kind = "checkboxes"

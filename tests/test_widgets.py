"""The widgets that write GOV.UK markup in Python (tracker/forms.py) must give the document
govuk-frontend-wtf's macros give, in every state a form can be in."""

import copy
import re
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovCheckboxInput, GovRadioInput, GovSelect
from markupsafe import Markup
from wtforms import (
    BooleanField,
    Form,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from tracker.forms import DateRequired, FastGovSelect, GovDateField, optional_int
from tracker.timeutil import london_today

CHOICES = [
    SelectChoice("", "No named owner – the agency's SPOC follows it up"),
    SelectChoice(2, 'Ann <x> & "Co" (POL)'),
    SelectChoice(3, "Bob (HOU)"),
]


class OwnerForm(Form):
    owner = SelectField("Named owner (optional)", choices=CHOICES, description="Must belong to the owning agency.")
    bare = SelectField("Owner", choices=CHOICES)


@pytest.mark.parametrize("field_name", ["owner", "bare"])
@pytest.mark.parametrize("data", [None, "2"])
@pytest.mark.parametrize("errors", [[], ["Select the named owner from the list <b>"]])
def test_long_select_matches_govuk_frontend_wtf(app, field_name, data, errors):
    with app.test_request_context():
        form = OwnerForm(data={field_name: data} if data else None)
        field = form[field_name]
        field.errors = errors
        assert str(FastGovSelect()(field)) == str(GovSelect()(field))


def test_long_select_passes_params_to_the_macro(app):
    with app.test_request_context():
        field = OwnerForm().owner
        html = str(FastGovSelect()(field, params={"label": {"text": "Who follows it up"}}))
        assert "Who follows it up" in html and "Named owner" not in html


GROUPED = [
    SelectChoice("", "No named owner – the agency's SPOC follows it up"),
    SelectChoice(3, "Bob", optgroup="Housing <Options>"),
    SelectChoice(2, 'Ann <x> & "Co"', optgroup="Police"),
    SelectChoice(4, "Cy", optgroup="Police"),
]


@pytest.mark.parametrize("data", [None, "4"])
def test_a_grouped_select_writes_its_ungrouped_options_then_each_group(app, data):
    """Choices with an optgroup are written as option groups (govukSelect has none), escaped, the
    selected one marked; a data- attribute (render_kw) lands on the select, not on the macro's path."""

    class GroupedForm(Form):
        owner = SelectField(
            "Named owner",
            choices=GROUPED,
            coerce=optional_int,
            widget=FastGovSelect(),
            render_kw={"data-owners-of": 'agency"x'},
        )

    with app.test_request_context():
        form = GroupedForm(data={"owner": int(data)} if data else None)
        document = BeautifulSoup(str(form.owner()), "html.parser")
    select = document.select_one("select#owner.govuk-select")
    assert select["data-owners-of"] == 'agency"x'
    assert [child.name for child in select.find_all(recursive=False)] == ["option", "optgroup", "optgroup"]
    groups = {
        group["label"]: [(o["value"], o.text, o.has_attr("selected")) for o in group("option")]
        for group in select("optgroup")
    }
    assert groups == {
        "Housing <Options>": [("3", "Bob", False)],
        "Police": [("2", 'Ann <x> & "Co"', False), ("4", "Cy", data == "4")],
    }
    assert "<Options>" not in str(form.owner())  # escaped in the label


def test_a_select_given_attributes_other_than_data_goes_through_the_macro(app):
    with app.test_request_context():
        html = str(FastGovSelect()(OwnerForm().owner, **{"data-x": "1", "autocomplete": "off"}))
    assert 'autocomplete="off"' in html


def test_select_options_escape_labels_and_mark_the_selected_one():
    from tracker.templating import select_options

    html = str(select_options([(1, "Ann <b>"), (2, 'Bo "B" & Co')], 2))
    assert html == (
        '<option value="1">Ann &lt;b&gt;</option><option value="2" selected>Bo &#34;B&#34; &amp; Co</option>'
    )
    assert "selected" not in str(select_options([(1, "Ann")], None))


def test_small_inline_radios_label_check_and_escape_each_radio():
    from bs4 import BeautifulSoup
    from markupsafe import Markup

    from tracker.templating import SmallInlineRadios

    choices = [("present", "Present"), ("apologies", 'Apologies <sent> & "noted"'), ("", "Not recorded")]
    radios_for = SmallInlineRadios(choices)
    html = radios_for("status-u7", Markup('Ann <span class="govuk-body-s">(guest)</span>'), "apologies")
    group = BeautifulSoup(html, "html.parser").select_one("div.govuk-form-group")
    assert group.select_one("legend.govuk-fieldset__legend--s").get_text() == "Ann (guest)"
    radios = group.select("div.govuk-radios--inline.govuk-radios--small[data-module=govuk-radios] input[type=radio]")
    assert [(radio["id"], radio["name"], radio["value"]) for radio in radios] == [
        ("status-u7-1", "status-u7", "present"),
        ("status-u7-2", "status-u7", "apologies"),
        ("status-u7-3", "status-u7", ""),
    ]
    assert [radio.has_attr("checked") for radio in radios] == [False, True, False]
    labels = {label["for"]: label.get_text() for label in group.select("label.govuk-radios__label")}
    assert labels == {
        "status-u7-1": "Present",
        "status-u7-2": 'Apologies <sent> & "noted"',
        "status-u7-3": "Not recorded",
    }
    # A plain-text legend is escaped; so is a name.
    hostile = radios_for('x"><script>', "<b>Bob</b>", "", testid="attendance-line")
    assert "<script>" not in hostile and "<b>" not in hostile and 'data-testid="attendance-line"' in hostile
    # Each group of the same radios has its own name, and its own choice checked (none for a value
    # not among the choices, "" for "Not recorded").
    for checked, expected in [("present", [True, False, False]), ("", [False, False, True]), ("gone", [False] * 3)]:
        group = BeautifulSoup(radios_for("status-r3", "Guest", checked), "html.parser")
        assert [radio.has_attr("checked") for radio in group.select("input")] == expected
        assert {radio["name"] for radio in group.select("input")} == {"status-r3"}
        assert [label["for"] for label in group.select("label")] == ["status-r3-1", "status-r3-2", "status-r3-3"]


def canonical(html: str):
    """A document as nested (tag, attributes, children), whitespace between elements and around text
    ignored: what a browser and assistive technology get from it."""
    from bs4 import BeautifulSoup, NavigableString

    def walk(node):
        if isinstance(node, NavigableString):
            text = " ".join(str(node).split())
            return text or None
        attributes = {
            key: " ".join(value) if isinstance(value, list) else " ".join(str(value).split())
            for key, value in node.attrs.items()
        }
        children = [child for child in (walk(child) for child in node.children) if child is not None]
        return (node.name, tuple(sorted(attributes.items())), tuple(children))

    soup = BeautifulSoup(html, "html.parser")
    return tuple(child for child in (walk(child) for child in soup.children) if child is not None)


BLOCKS = "address,dd,details,div,dl,dt,fieldset,form,h1,h2,h3,h4,h5,h6,legend,li,p,section,summary,table,td,th,tr,ul"


def words(html: str) -> str:
    """A document's text as it is read out: block elements kept apart, and the whitespace between
    inline ones kept (as one space), so that two words run together in a line ("WarningKeep") are
    told apart from two words apart."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for block in soup.select(BLOCKS):
        block.insert_before(" ")
        block.insert_after(" ")
    return " ".join(soup.get_text().split())


def both(fast_widget, macro_widget, field, params) -> tuple[str, str]:
    """``field`` written by the fast widget and by govuk-frontend-wtf's, with the same ``params``."""
    extra = {"params": params} if params else {}
    return str(fast_widget(field, **copy.deepcopy(extra))), str(macro_widget(field, **copy.deepcopy(extra)))


AGENCIES = [SelectChoice("1", "POL"), SelectChoice("2", 'IDVA <x> & "Co"'), SelectChoice("3", "HOU")]


class AgenciesForm(Form):
    agency_ids = SelectMultipleField("Agencies involved", choices=AGENCIES, widget=GovCheckboxesInput())
    flags = SelectMultipleField(
        "Risk factors",
        choices=[SelectChoice("stalking", "Stalking")],
        description="Tick all that apply",
        widget=GovCheckboxesInput(),
    )


@pytest.mark.parametrize("field_name", ["agency_ids", "flags"])
@pytest.mark.parametrize("data", [None, ["2", "3"]])
@pytest.mark.parametrize("errors", [[], ["Select agencies from the list <b>"]])
@pytest.mark.parametrize(
    "params",
    [
        None,
        {
            "classes": "govuk-checkboxes--small",
            "fieldset": {"legend": {"text": "Agencies", "classes": "govuk-fieldset__legend--s"}},
        },
    ],
)
def test_fast_checkboxes_give_the_same_document_as_govuk_frontend_wtf(app, field_name, data, errors, params):
    from tracker.forms import FastGovCheckboxes

    with app.test_request_context():
        form = AgenciesForm(data={field_name: data} if data else None)
        field = form[field_name]
        field.errors = errors
        fast, macro = both(FastGovCheckboxes(), GovCheckboxesInput(), field, params)
    assert canonical(fast) == canonical(macro)
    assert "<x>" not in fast and "<b>" not in fast


def test_fast_checkboxes_pass_other_params_to_the_macro(app):
    from tracker.forms import FastGovCheckboxes

    with app.test_request_context():
        field = AgenciesForm().agency_ids
        html = str(FastGovCheckboxes()(field, params={"items": [{"hint": {"text": "The force"}}]}))
    assert "The force" in html


class StatementForm(Form):
    read = BooleanField("The statement was read <aloud>", widget=GovCheckboxInput())
    held = BooleanField("No information held", description="Tick if <none>", widget=GovCheckboxInput())


@pytest.mark.parametrize("field_name", ["read", "held"])
@pytest.mark.parametrize("posted", [None, "y", '"><b>'])
@pytest.mark.parametrize("errors", [[], ["Say whether it was read <b>"]])
def test_a_fast_single_checkbox_gives_the_same_document_as_govuk_frontend_wtf(app, field_name, posted, errors):
    from werkzeug.datastructures import MultiDict

    from tracker.forms import FastGovCheckboxInput

    with app.test_request_context():
        form = StatementForm(formdata=MultiDict({field_name: posted}) if posted else None)
        field = form[field_name]
        field.errors = errors
        fast, macro = both(FastGovCheckboxInput(), GovCheckboxInput(), field, None)
    assert canonical(fast) == canonical(macro)
    assert words(fast) == words(macro)
    assert "<aloud>" not in fast and "<none>" not in fast and "<b>" not in fast
    assert ("checked" in fast) == bool(posted)


class GradeForm(Form):
    grade = RadioField(
        "Scrutiny grade",
        choices=[SelectChoice("1", "1 – Consistent"), SelectChoice("2", 'Appropriate <with> "observations"')],
        widget=GovRadioInput(),
    )
    risk = RadioField(
        "Risk level", choices=[SelectChoice("high", "High")], description="By judgement", widget=GovRadioInput()
    )


@pytest.mark.parametrize("field_name", ["grade", "risk"])
@pytest.mark.parametrize("data", [None, "2", "high"])
@pytest.mark.parametrize("errors", [[], ["Choose a grade <b>"]])
@pytest.mark.parametrize(
    "params", [None, {"classes": "govuk-radios--inline", "fieldset": {"legend": {"text": "Grade"}}}]
)
def test_fast_radios_give_the_same_document_as_govuk_frontend_wtf(app, field_name, data, errors, params):
    from tracker.forms import FastGovRadios

    with app.test_request_context():
        form = GradeForm(data={field_name: data} if data else None)
        field = form[field_name]
        field.errors = errors
        fast, macro = both(FastGovRadios(), GovRadioInput(), field, params)
    assert canonical(fast) == canonical(macro)
    assert "<with>" not in fast and "<b>" not in fast


def test_small_inline_radios_escape_a_plain_label_after_the_same_text_as_markup():
    from markupsafe import Markup

    from tracker.templating import SmallInlineRadios

    trusted = SmallInlineRadios([("x", Markup("<b>Bold</b>"))])("a", "A", "")
    plain = SmallInlineRadios([("x", "<b>Bold</b>")])("a", "A", "")
    assert "<b>Bold</b>" in trusted and "<b>" not in plain and "&lt;b&gt;Bold&lt;/b&gt;" in plain


class TextForm(Form):
    reference = StringField("Case reference <ref>")
    email = StringField("Email address", description='Your work "email" <address>', validators=[InputRequired()])
    notes = TextAreaField("Notes & updates", description="What has been done <since>")
    reason = TextAreaField("Reason", validators=[InputRequired()])
    due = GovDateField("Due date", description="For example, 27 11 2026")
    meeting_day = GovDateField("Date <of meeting>", validators=[DateRequired("Enter the date")])


TEXT_STATES = [None, 'A-1 <b> & "quoted"', ""]
TEXT_PARAMS = [
    None,
    {"classes": "govuk-input--width-20", "spellcheck": False, "autocomplete": "off"},
    {"type": "email", "autocomplete": "username", "spellcheck": False, "classes": "govuk-!-width-two-thirds"},
    {"label": {"text": "Reference <new>", "classes": "govuk-label--s"}, "inputmode": "numeric"},
    {"attributes": {"autocapitalize": "none"}},
]


@pytest.mark.parametrize("field_name", ["reference", "email"])
@pytest.mark.parametrize("data", TEXT_STATES)
@pytest.mark.parametrize("errors", [[], ["Enter the reference <b>"]])
@pytest.mark.parametrize("params", TEXT_PARAMS)
def test_fast_text_inputs_give_the_same_document_as_govuk_frontend_wtf(app, field_name, data, errors, params):
    from govuk_frontend_wtf.wtforms_widgets import GovTextInput

    from tracker.forms import FastGovTextInput

    with app.test_request_context():
        form = TextForm(data={field_name: data} if data is not None else None)
        field = form[field_name]
        field.errors = errors
        fast, macro = both(FastGovTextInput(), GovTextInput(), field, params)
    assert canonical(fast) == canonical(macro)
    assert "<b>" not in fast and "<ref>" not in fast and "<address>" not in fast


@pytest.mark.parametrize("field_name", ["notes", "reason"])
@pytest.mark.parametrize("data", [*TEXT_STATES, "First line\nsecond <line>"])
@pytest.mark.parametrize("errors", [[], ["Enter the notes <b>"]])
@pytest.mark.parametrize("params", [None, {"rows": 2}, {"label": {"text": "Reason", "classes": "govuk-label--s"}}])
def test_fast_text_areas_give_the_same_document_as_govuk_frontend_wtf(app, field_name, data, errors, params):
    from govuk_frontend_wtf.wtforms_widgets import GovTextArea

    from tracker.forms import FastGovTextArea

    with app.test_request_context():
        form = TextForm(data={field_name: data} if data is not None else None)
        field = form[field_name]
        field.errors = errors
        fast, macro = both(FastGovTextArea(), GovTextArea(), field, params)
    assert canonical(fast) == canonical(macro)
    assert "<b>" not in fast and "<line>" not in fast and "<since>" not in fast


@pytest.mark.parametrize("field_name", ["due", "meeting_day"])
@pytest.mark.parametrize("posted", [None, ["27", "11", "2026"], ["31", "2", "x<y"], ["", "", ""]])
@pytest.mark.parametrize("errors", [[], ["Due date must be a real date <b>"]])
@pytest.mark.parametrize(
    "params", [None, {"hint": {"text": "For example, 1 12 2026"}}, {"fieldset": {"legend": {"text": "When"}}}]
)
def test_fast_date_inputs_give_the_same_document_as_govuk_frontend_wtf(app, field_name, posted, errors, params):
    from govuk_frontend_wtf.wtforms_widgets import GovDateInput
    from werkzeug.datastructures import MultiDict

    from tracker.forms import FastGovDateInput

    with app.test_request_context():
        formdata = MultiDict([(field_name, part) for part in posted]) if posted is not None else None
        form = TextForm(formdata=formdata, data={"due": date(2026, 11, 27)} if posted is None else None)
        field = form[field_name]
        field.errors = errors
        fast, macro = both(FastGovDateInput(), GovDateInput(), field, params)
    assert canonical(fast) == canonical(macro)
    assert "<b>" not in fast and "<y" not in fast and "<of meeting>" not in fast


def test_fast_text_widgets_pass_other_params_to_the_macro(app):
    from tracker.forms import FastGovDateInput, FastGovTextArea, FastGovTextInput

    with app.test_request_context():
        form = TextForm()
        prefixed = str(FastGovTextInput()(form.reference, params={"prefix": {"text": "£"}}))
        counted = str(FastGovTextArea()(form.notes, params={"label": {"html": "<em>Notes</em>"}}))
        dated = str(
            FastGovDateInput()(form.due, params={"fieldset": {"legend": {"isPageHeading": True, "text": "Due"}}})
        )
    assert "govuk-input__prefix" in prefixed
    assert "<em>Notes</em>" in counted
    assert "govuk-fieldset__heading" in dated


def test_plain_fields_are_written_without_a_template(app):
    """The fast widgets are used, not merely equal: the plain cases render no template at all."""
    from flask import template_rendered

    from tracker.forms import (
        FastGovCheckboxes,
        FastGovCheckboxInput,
        FastGovDateInput,
        FastGovRadios,
        FastGovSelect,
        FastGovSubmitInput,
        FastGovTextArea,
        FastGovTextInput,
    )

    rendered = []

    def note(_sender, template, **_extra):
        rendered.append(template.name)

    with app.test_request_context(), template_rendered.connected_to(note, app):
        form = TextForm()
        form.reason.errors = ["Enter the reason"]
        FastGovTextInput()(form.reference, params={"classes": "govuk-input--width-20", "spellcheck": False})
        FastGovTextInput()(form.email, params={"type": "email", "autocomplete": "username"})
        FastGovTextArea()(form.notes, params={"rows": 2})
        FastGovTextArea()(form.reason)
        FastGovDateInput()(form.due)
        FastGovDateInput()(form.meeting_day, params={"hint": {"text": "For example, 1 12 2026"}})
        FastGovCheckboxes()(AgenciesForm().agency_ids, params={"classes": "govuk-checkboxes--small"})
        FastGovRadios()(GradeForm().grade, params={"classes": "govuk-radios--inline"})
        FastGovCheckboxInput()(StatementForm().held)
        FastGovSelect()(OwnerForm().owner)
        FastGovSubmitInput()(ButtonForm().submit, params={"preventDoubleClick": True})
        assert rendered == []
        FastGovTextInput()(form.reference, params={"prefix": {"text": "£"}})
    assert rendered, "a param the fast widget does not write goes through the macro"


class ButtonForm(Form):
    submit = SubmitField("Save & go <on>")


@pytest.mark.parametrize(
    "params",
    [
        None,
        {"preventDoubleClick": True},
        {"classes": "govuk-button--secondary", "attributes": {"data-prevent-double-click": "true"}},
        {"text": "Take <it> off", "classes": "govuk-button--warning", "preventDoubleClick": False},
        {"attributes": {"data-testid": 'save "now"'}},
    ],
)
def test_fast_buttons_give_the_same_document_as_govuk_frontend_wtf(app, params):
    from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput

    from tracker.forms import FastGovSubmitInput

    with app.test_request_context():
        field = ButtonForm().submit
        fast, macro = both(FastGovSubmitInput(), GovSubmitInput(), field, params)
    assert canonical(fast) == canonical(macro)
    assert "<on>" not in fast and "<it>" not in fast


@pytest.mark.parametrize(
    "navigation",
    [
        [],
        [{"text": "Home", "href": "/", "active": True}],
        [
            {"text": "Home", "href": "/", "active": False},
            {"text": "Meetings & <cases>", "href": "/meetings?x=1&y=2", "active": True},
            {"text": "Reports", "href": "/reports", "active": False},
        ],
    ],
)
@pytest.mark.parametrize("service_url", ["/", None])
def test_service_navigation_gives_the_same_document_as_the_macro(app, navigation, service_url):
    from tracker.templating import govuk_service_navigation

    params = {"serviceName": "Scrutiny <tracker>", "navigation": navigation, "navigationLabel": "Menu"}
    if service_url:
        params["serviceUrl"] = service_url
    with app.app_context():
        macro = app.jinja_env.from_string(
            '{% from "govuk_frontend_jinja/components/service-navigation/macro.html" import govukServiceNavigation %}'
            "{{ govukServiceNavigation(params) }}"
        ).render(params=params)
    fast = str(govuk_service_navigation(params))
    assert canonical(fast) == canonical(macro)
    assert "<tracker>" not in fast and "<cases>" not in fast


def test_service_navigation_refuses_params_it_does_not_draw():
    from tracker.templating import govuk_service_navigation

    with pytest.raises(ValueError):
        govuk_service_navigation({"serviceName": "x", "slots": {"end": "<b>"}})
    with pytest.raises(ValueError):
        govuk_service_navigation({"navigation": [{"text": "x", "current": True}]})


@pytest.mark.parametrize("current", ["", "2", "none of them"])
def test_filter_select_gives_the_document_govuk_select_gives(app, current):
    from tracker.templating import filter_select

    choices = [("", "Any agency"), ("2", 'IDVA <x> & "Co"'), ("3", "HOU")]
    macro = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/select/macro.html" import govukSelect %}'
        '{{ govukSelect({"id": "agency-filter", "name": "agency", "label": {"text": label}, "items": items}) }}'
    )
    with app.test_request_context():
        expected = macro.render(
            label="Agency <involved>",
            items=[{"value": value, "text": text, "selected": value == current} for value, text in choices],
        )
    fast = str(filter_select("agency", "Agency <involved>", choices, current, id="agency-filter"))
    assert canonical(fast) == canonical(expected)
    assert "<x>" not in fast and "<involved>" not in fast
    assert fast.count(" selected") == (1 if current in {"", "2"} else 0)


@pytest.mark.parametrize("value", ["", "2026-11-26", 'a "b" <c>'])
def test_filter_input_gives_the_document_govuk_input_gives(app, value):
    from tracker.templating import filter_input

    macro = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/input/macro.html" import govukInput %}'
        '{{ govukInput({"id": "from", "name": "from", "type": "date", "label": {"text": label}, "value": value}) }}'
    )
    with app.test_request_context():
        expected = macro.render(label="From <date>", value=value)
    assert canonical(str(filter_input("from", "From <date>", value, type="date"))) == canonical(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"hint": "With a <kind> of record", "classes": "govuk-input--width-10", "spellcheck": False,
         "inputmode": "numeric"},
        {"hint": "For a subject access request", "spellcheck": True},
        {"classes": "govuk-input--width-20"},
        {"hint": "The whole address", "spellcheck": False, "autocomplete": "off"},
    ],
)  # fmt: skip
@pytest.mark.parametrize("value", ["", "5 <b>"])
def test_filter_input_with_a_hint_width_spellcheck_and_inputmode_gives_the_macros_document(app, params, value):
    from tracker.templating import filter_input

    macro = app.jinja_env.from_string(
        '{% from "govuk_frontend_jinja/components/input/macro.html" import govukInput %}{{ govukInput(p) }}'
    )
    macro_params = {"id": "record", "name": "record", "label": {"text": "Record <number>"}, "value": value}
    for key in ("classes", "spellcheck", "inputmode", "autocomplete"):
        if key in params:
            macro_params[key] = params[key]
    if "hint" in params:
        macro_params["hint"] = {"text": params["hint"]}
    with app.test_request_context():
        expected = macro.render(p=macro_params)
    fast = str(filter_input("record", "Record <number>", value, **params))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert "<b>" not in fast and "<kind>" not in fast and "<number>" not in fast


# The pagination the list pages drew with a template macro over govukPagination, kept here to compare.
PAGINATION_MACRO = """
{% from "govuk_frontend_jinja/components/pagination/macro.html" import govukPagination %}
{% if page.total is none %}
  {% if page.has_prev or page.has_next %}
  {{ govukPagination({
    "previous": {"href": url_for(endpoint, page=page.prev_num, **filters)} if page.has_prev else None,
    "next": {"href": url_for(endpoint, page=page.next_num, **filters)} if page.has_next else None
  }) }}
  {% endif %}
  {% if page.items %}<p class="govuk-body-s">Showing {{ page.first }} to {{ page.last }}.</p>{% endif %}
{% elif page.pages > 1 %}
  {% set items = [] %}
  {% for number in page.iter_pages(left_edge=1, left_current=1, right_current=2, right_edge=1) %}
    {% if number %}
      {% set href = url_for(endpoint, page=number, **filters) %}
      {% do items.append({"number": number, "href": href, "current": number == page.page}) %}
    {% else %}
      {% do items.append({"ellipsis": true}) %}
    {% endif %}
  {% endfor %}
  {{ govukPagination({
    "items": items,
    "previous": {"href": url_for(endpoint, page=page.prev_num, **filters)} if page.has_prev else None,
    "next": {"href": url_for(endpoint, page=page.next_num, **filters)} if page.has_next else None
  }) }}
{% endif %}
{% if page.total %}
<p class="govuk-body-s">Showing {{ page.first }} to {{ page.last }} of {{ page.total }}.</p>
{% endif %}
"""  # (It said "Showing 0 to 0 of 0" under an empty list's own "No cases match"; an empty list says nothing.)


@pytest.mark.parametrize(
    ("page_number", "total"), [(1, 0), (1, 20), (1, 60), (2, 60), (3, 60), (7, 400), (1, None), (2, None), (3, None)]
)
def test_app_pagination_gives_the_document_govuk_pagination_gives(app, page_number, total):
    from flask_sqlalchemy.pagination import Pagination

    from tracker.templating import app_pagination

    class Page(Pagination):
        def _query_items(self):
            shown = 60 if total is None else total
            return list(range(max(0, min(self.per_page, shown - self._query_offset))))

        def _query_count(self):
            return total if total is not None else 0

    filters = {"status": "open", "q": 'a "b" & <c>'}
    with app.test_request_context():
        page = Page(page=page_number, per_page=25, error_out=False, count=total is not None)
        if total is None:
            page.total = None
        expected = app.jinja_env.from_string(PAGINATION_MACRO).render(
            page=page, endpoint="cases.cases", filters=filters
        )
        fast = str(app_pagination(page, "cases.cases", filters))
    assert canonical(fast) == canonical(expected)
    assert "<c>" not in fast
    assert ("Showing" in fast) == (total != 0)


def test_list_rows_made_in_python_give_the_cells_the_template_loops_gave(app):
    """tracker/rows.py: the meetings list's and the case search's rows, as the templates' loops made them."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from tracker.models import MeetingStatus
    from tracker.rows import case_rows, meeting_rows

    meetings = [
        SimpleNamespace(
            id=7, starts_at=datetime(2026, 11, 24, 10, tzinfo=UTC), location='Room <1> & "B"',
            chair=SimpleNamespace(display_name="Ann <b>"), status=MeetingStatus.APPROVED,
        ),
        SimpleNamespace(id=8, starts_at=datetime(2026, 6, 2, 9, tzinfo=UTC), location="", chair=None,
                        status=MeetingStatus.SCHEDULED),
    ]  # fmt: skip
    hits = [
        SimpleNamespace(case=SimpleNamespace(id=3, reference="CR/<X>"), last_reviewed=meetings[0].starts_at, reviews=2)
    ]
    loops = app.jinja_env.from_string(
        """{% set rows = [] %}{% for meeting in meetings %}
  {% set date_link %}<a class="govuk-link"
    href="{{ url_for('meetings.meeting', meeting_id=meeting.id) }}">{{ meeting.starts_at|datetime }}</a>{% endset %}
  {% do rows.append([{"html": date_link}, {"text": meeting.location},
    {"text": meeting.chair.display_name if meeting.chair else ""},
    {"text": counts.get(meeting.id, 0), "format": "numeric"}, {"html": meeting_status(meeting)}]) %}
{% endfor %}{{ govukTable({"rows": rows}) }}
{% set rows = [] %}{% for hit in hits %}
  {% set reference_link %}<a class="govuk-link"
    href="{{ url_for('cases.case', case_id=hit.case.id) }}">{{ hit.case.reference }}</a>{% endset %}
  {% do rows.append([{"html": reference_link}, {"text": hit.last_reviewed|date},
    {"text": hit.reviews, "format": "numeric"}]) %}
{% endfor %}{{ govukTable({"rows": rows}) }}"""
    )
    made = app.jinja_env.from_string(
        '{{ govukTable({"rows": meeting_rows(meetings, counts)}) }}{{ govukTable({"rows": case_rows(hits)}) }}'
    )
    with app.test_request_context():
        values = {"meetings": meetings, "hits": hits, "counts": {7: 3}}
        expected, fast = loops.render(**values), made.render(**values)
    assert canonical(fast) == canonical(expected)
    assert "<b>" not in fast and "<X>" not in fast and "24 November 2026 at 10:00" in fast
    assert meeting_rows([], {}) == [] and case_rows([]) == []


# The macros the actions list, a partner's home page and the summary PDF called beside an action's due
# date and status, kept here to compare with tracker/rows.py.
FOLLOW_UP_MACROS = """
{% macro due_history(action) -%}
{% if action.original_due_date != action.due_date %}<br><span class="govuk-!-font-size-16">Originally
{{ action.original_due_date|date }}</span>{% endif %}
{% if action.extension_count %}<br><span class="govuk-!-font-size-16">Extended {{ action.extension_count }}
{{ "time" if action.extension_count == 1 else "times" }}</span>{% endif %}
{%- endmacro %}
{% macro latest_update(action) -%}
{% if action.latest_update_at %}<strong>{{ action.latest_update_at|date }}:</strong>
{{ action.latest_update_text|truncate(120, true) }}{% else %}No updates yet{% endif %}
{%- endmacro %}
<p>{{ due_history(action) }}</p><p>{{ latest_update(action) }}</p>
"""


@pytest.mark.parametrize(
    ("moved", "extensions", "text"),
    [(False, 0, None), (True, 1, "Short <note> & more"), (True, 3, "x" * 125), (False, 2, "y" * 126), (True, 0, "")],
)
def test_follow_up_in_python_gives_what_the_macros_gave(app, moved, extensions, text):
    from datetime import UTC, date, datetime
    from types import SimpleNamespace

    from tracker.rows import due_history, latest_update

    action = SimpleNamespace(
        due_date=date(2026, 12, 1),
        original_due_date=date(2026, 11, 1) if moved else date(2026, 12, 1),
        extension_count=extensions,
        latest_update_at=datetime(2026, 11, 20, 23, 30, tzinfo=UTC) if text is not None else None,
        latest_update_text=text,
    )
    with app.test_request_context():
        expected = app.jinja_env.from_string(FOLLOW_UP_MACROS).render(action=action)
    fast = f"<p>{due_history(action)}</p><p>{latest_update(action)}</p>"
    assert canonical(fast) == canonical(expected)
    assert "<note>" not in fast


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("govukSummaryList", {"rows": [
            {"key": {"text": "Place <b>"}, "value": {"text": 'Room "1" & 2'}},
            None,
            {"key": {"text": "Chair"}, "value": {"html": "<em>Ann</em>", "classes": "app-x"}, "classes": "app-row"},
        ], "attributes": {"data-testid": "details"}, "classes": "govuk-summary-list--no-border"}),
        ("govukSummaryList", {"rows": []}),
        ("govukInsetText", {"text": "Published <today> & \"then\"", "attributes": {"data-testid": "locked"}}),
        ("govukInsetText", {"html": "<a href='/x'>Reopen</a> ", "id": "inset", "classes": "app-inset"}),
        ("govukWarningText", {"text": "Not represented: <POL>", "attributes": {"data-testid": "unrepresented"}}),
        ("govukWarningText", {"html": "<b>Careful</b>", "iconFallbackText": "Caution", "classes": "app-w"}),
        ("govukDetails", {"summaryText": "Who attended (3) <x>", "html": "<table></table>"}),
        ("govukDetails", {"summaryText": "Raise an action", "text": "a < b", "open": True, "id": "d", "classes": "c"}),
    ],
)  # fmt: skip
def test_components_in_python_give_the_document_the_macros_give(app, name, params):
    """govukSummaryList, govukInsetText, govukWarningText and govukDetails written in Python
    (tracker/templating.py), against govuk-frontend-jinja's macros with the same params."""
    import copy

    component = {"govukSummaryList": "summary-list", "govukInsetText": "inset-text",
                 "govukWarningText": "warning-text", "govukDetails": "details"}[name]  # fmt: skip
    macro = app.jinja_env.from_string(
        f'{{% from "govuk_frontend_jinja/components/{component}/macro.html" import {name} %}}{{{{ {name}(params) }}}}'
    )

    with app.test_request_context():
        expected = macro.render(params=copy.deepcopy(params))
        fast = str(app.jinja_env.globals[name](copy.deepcopy(params)))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)  # what a screen reader reads, words kept apart
    assert "<b>Place" not in fast and "<POL>" not in fast and "<today>" not in fast


def test_components_in_python_refuse_params_they_do_not_draw(app):
    from tracker.templating import govuk_details, govuk_summary_list

    with pytest.raises(ValueError):
        govuk_summary_list({"rows": [{"key": {"text": "a"}, "value": {"text": "b"}, "actions": {"items": []}}]})
    with pytest.raises(ValueError):
        govuk_summary_list({"rows": [], "card": {"title": {"text": "x"}}})
    with pytest.raises(ValueError):
        govuk_details({"summaryText": "x", "text": "y", "unknown": 1})


# The block the matters arising page wrote for each matter, kept here to compare with tracker/rows.py.
MATTER_BLOCK = """
<div class="app-item" data-testid="matter-arising" id="action-{{ matter.id }}">
  <h3 class="govuk-heading-s govuk-!-margin-bottom-1"><a class="govuk-link"
    href="{{ url_for('actions.action', action_id=matter.id) }}">{{ matter.reference }}</a>
    {{ action_status(matter, today) }}</h3>
  {% if just_updated %}<p class="govuk-body govuk-!-margin-bottom-1" data-testid="row-saved" role="status">
    {{ tag("Update saved", "green") }}</p>{% endif %}
  <p class="govuk-body govuk-!-margin-bottom-1">{{ matter.description }}</p>
  <p class="govuk-body-s govuk-!-margin-bottom-1">
    Due {{ matter.due_date|date }}{% if matter.owner_name %} · Owner: {{ matter.owner_name }}{% endif %}
    · Raised on {{ matter.raised_on|date }}{% if matter.case_reference %} for case
    {{ matter.case_reference }}{% endif %}
  </p>
  <p class="govuk-body-s" data-testid="latest-update">
    {% if matter.latest_at %}Latest update ({{ matter.latest_at|datetime }}{% if matter.latest_author %},
    {{ matter.latest_author }}{% endif %}): {{ matter.latest_note }}{% else %}No updates yet.{% endif %}
  </p>
  {% if form %}
    <details class="govuk-details">
      <summary class="govuk-details__summary"><span class="govuk-details__summary-text">Record progress on
        {{ matter.reference }}</span></summary>
      <div class="govuk-details__text">{{ form }}</div>
    </details>
  {% endif %}
</div>
"""


@pytest.mark.parametrize("full", [True, False])
def test_a_matter_arising_in_python_gives_the_block_the_page_wrote(app, full):
    from datetime import UTC, date, datetime

    from markupsafe import Markup

    from tracker.meetings.queries import MatterRow
    from tracker.models import ActionStatus
    from tracker.rows import matter_item

    matter = MatterRow(
        id=42, description="Refer <to> the MARAC & report", status=ActionStatus.IN_PROGRESS,
        due_date=date(2026, 11, 20), version=3, owning_agency_id=2, agency_name="IDVA",
        owner_name='Ann "<b>"' if full else None, raised_on=datetime(2026, 10, 1, 9, tzinfo=UTC),
        case_reference="CR/<1>" if full else None,
        latest_at=datetime(2026, 11, 2, 14, 5, tzinfo=UTC) if full else None,
        latest_author="Bob <i>" if full else None, latest_note="Called <the> client" if full else None,
    )  # fmt: skip
    form = Markup('<form method="post"><button>Save</button></form>') if full else None
    today = date(2026, 11, 26)
    with app.test_request_context():
        expected = app.jinja_env.from_string(MATTER_BLOCK).render(
            matter=matter, today=today, form=form, just_updated=full
        )
        fast = str(matter_item(matter, today, form, full))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert "<to>" not in fast and "<b>" not in fast and "<1>" not in fast and "<i>" not in fast


# The loop the matters arising page wrote, kept here to compare with matters_list (tracker/rows.py).
MATTERS_LOOP = """{% for matter in items %}
  {% if loop.first or matter.owning_agency_id != items[loop.index0 - 1].owning_agency_id %}
    <h2 class="govuk-heading-m govuk-!-margin-top-6" data-testid="matters-agency">{{ matter.agency_name }}</h2>
  {% endif %}
  {{ matter_item(matter, today, progress(matter, this_page, csrf) if matter.id in updatable else none,
     just_updated == matter.id) }}
{% endfor %}"""


def test_the_matters_list_in_python_gives_the_loop_the_page_wrote(app):
    from datetime import UTC, date, datetime

    from flask import url_for
    from markupsafe import Markup, escape

    from tracker.meetings.queries import MatterRow
    from tracker.models import ActionStatus
    from tracker.rows import matter_item, matters_list

    def matter(action_id, agency_id, agency_name):
        return MatterRow(
            id=action_id, description=f"Work <{action_id}>", status=ActionStatus.OPEN, due_date=date(2026, 11, 20),
            version=1, owning_agency_id=agency_id, agency_name=agency_name, owner_name=None,
            raised_on=datetime(2026, 10, 1, 9, tzinfo=UTC), case_reference=None, latest_at=None,
            latest_author=None, latest_note=None,
        )  # fmt: skip

    def progress(row, next_url, csrf, form_url=None):  # as progress_row_form: url_for's URL either way
        posted_to = form_url(row.id) if form_url else url_for("actions.progress", action_id=row.id)
        inputs = f'<input name="{escape(next_url)}" value="{escape(csrf)}">'
        return Markup(f'<form action="{escape(posted_to)}">{inputs}{row.id}</form>')  # noqa: S704 - escaped

    items = [matter(1, 7, "Housing <&> Co"), matter(2, 7, "Housing <&> Co"), matter(3, 4, "IDVA"), matter(4, 9, "Z")]
    values = dict(items=items, today=date(2026, 11, 26), updatable={1, 3}, just_updated=3, this_page="/m?a=<1>",
                  csrf="t<k>")  # fmt: skip
    with app.test_request_context():
        expected = app.jinja_env.from_string(MATTERS_LOOP).render(matter_item=matter_item, progress=progress, **values)
        fast = str(matters_list(items, values["today"], {1, 3}, 3, progress, values["this_page"], values["csrf"]))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert fast.count('data-testid="matters-agency"') == 3 and "Housing &lt;&amp;&gt; Co" in fast
    assert fast.count("<form") == 2 and 'data-testid="row-saved"' in fast


# The loop the meeting page wrote for its cases, kept here to compare with tracker/rows.py. It ran the
# summary and the feedback into the words before them (trim_blocks took the newline): the Python version
# keeps a space there, and so does this copy ({{ " " }}).
CASE_TASKS_LOOP = """
<ul class="govuk-task-list" data-testid="tasks-cases">
{% for task in tasks %}{% set review = task.review %}
  <li class="govuk-task-list__item govuk-task-list__item--with-link">
    <div class="govuk-task-list__name-and-hint">
      <a class="govuk-link govuk-task-list__link"
        href="{{ url_for('reviews.review', meeting_id=meeting_id, review_id=review.id) }}"
        aria-describedby="cases-{{ loop.index }}-hint cases-{{ loop.index }}-status"><span data-testid="case-review"
        id="review-{{ review.id }}">{{ loop.index }}. Case {{ review.case_reference }}</span></a>
      <div id="cases-{{ loop.index }}-hint" class="govuk-task-list__hint">
        {{ risk(review) }} {{ repeat(review) }} {% if review.scrutiny_grade %}Grade {{ review.scrutiny_grade }}:
        {{ review.grade_label }}.{% else %}Not graded.{% endif %} {{ task.actions }}
        {{ "action" if task.actions == 1 else "actions" }}.
        {%- if task.agency_codes %} Agencies: {{ task.agency_codes }}.{% endif %}
        {%- if task.theme_names %} Themes: {{ task.theme_names }}.{% endif %}
        {%- if task.missing_returns %} No information yet from {{ task.missing_returns }}.{% endif %}
        {{ " " }}{% if review.summary %}<span class="app-task-text"
        data-testid="review-summary"><strong>Summary:</strong> {{ review.summary }}</span>{% endif %}
        {{ " " }}{% if show_feedback and review.feedback_to_officer %}<span class="app-task-text"
        data-testid="review-feedback"><strong>Feedback to the officer (police only):</strong>
        {{ review.feedback_to_officer }}</span>{% endif %}
      </div>
    </div>
    <div class="govuk-task-list__status" id="cases-{{ loop.index }}-status">
    {%- if task.progress == "complete" %}Completed{% else %}<strong class="govuk-tag govuk-tag--
    {{- "blue" if task.progress == "not_started" else "light-blue" }}">{{ task.progress.label }}</strong>{% endif -%}
    </div>
  </li>
{% endfor %}
</ul>
"""


@pytest.mark.parametrize("show_feedback", [True, False])
def test_the_meeting_pages_cases_in_python_give_the_list_the_loop_gave(app, show_feedback):
    from types import SimpleNamespace

    from tracker.meetings.queries import CaseTask
    from tracker.models import ReviewProgress, RiskLevel
    from tracker.rows import case_task_list

    def review(review_id, reference, **values):
        fields = {"risk_level": None, "is_repeat": False, "scrutiny_grade": None, "grade_label": "Not graded",
                  "summary": "", "feedback_to_officer": ""} | values  # fmt: skip
        return SimpleNamespace(id=review_id, case_reference=reference, **fields)

    tasks = [
        CaseTask(review(5, "CR/<1>", risk_level=RiskLevel.HIGH, is_repeat=True, scrutiny_grade=2,
                        grade_label="Good <practice>", summary="Assault <at> home",
                        feedback_to_officer="Arrest <sooner>"),
                 ReviewProgress.COMPLETE, 1, "POL, IDVA", "Delay <x>", "HOU"),
        CaseTask(review(6, "CR/2"), ReviewProgress.NOT_STARTED, 0, "", "", ""),
        CaseTask(review(7, "CR/3", risk_level=RiskLevel.STANDARD), ReviewProgress.IN_PROGRESS, 3, "POL", "", ""),
    ]  # fmt: skip
    with app.test_request_context():
        values = {"tasks": tasks, "meeting_id": 9, "show_feedback": show_feedback}
        expected = app.jinja_env.from_string(CASE_TASKS_LOOP).render(**values)
        fast = str(case_task_list(tasks, 9, show_feedback))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert ("Arrest" in fast) == show_feedback
    assert "<1>" not in fast and "<practice>" not in fast and "<at>" not in fast and "<x>" not in fast


# The task list macro the meeting page called (templates/components/tasks.html), kept here to compare.
TASK_LIST_MACRO = """
{% macro task_list(params) -%}
{% set prefix = params.idPrefix or "task-list" %}
<ul class="govuk-task-list{% if params.classes %} {{ params.classes }}{% endif %}"{% for name, value in (params.attributes or {}).items() %} {{ name }}="{{ value }}"{% endfor %}>
{% for item in params["items"] if item %}
  {% set hint_id = prefix ~ "-" ~ loop.index ~ "-hint" %}
  {% set status_id = prefix ~ "-" ~ loop.index ~ "-status" %}
  <li class="govuk-task-list__item{% if item.href %} govuk-task-list__item--with-link{% endif %}">
    <div class="govuk-task-list__name-and-hint">
    {% if item.href %}
      <a class="govuk-link govuk-task-list__link" href="{{ item.href }}" aria-describedby="{% if item.hint %}{{ hint_id }} {% endif %}{{ status_id }}">{{ item.title.html or item.title.text }}</a>
    {% else %}
      <div>{{ item.title.html or item.title.text }}</div>
    {% endif %}
    {% if item.hint %}<div id="{{ hint_id }}" class="govuk-task-list__hint">{{ item.hint.html or item.hint.text }}</div>{% endif %}
    </div>
    <div class="govuk-task-list__status{% if item.status.classes %} {{ item.status.classes }}{% endif %}" id="{{ status_id }}">
    {%- if item.status.tag %}<strong class="govuk-tag{% if item.status.tag.classes %} {{ item.status.tag.classes }}{% endif %}">{{ item.status.tag.text }}</strong>{% else %}{{ item.status.text }}{% endif -%}
    </div>
  </li>
{% endfor %}
</ul>
{%- endmacro %}

{{ task_list(params) }}
"""  # noqa: E501 - the macro as it was


@pytest.mark.parametrize("with_prefix", [True, False])
def test_the_task_list_in_python_gives_the_list_the_macro_gave(app, with_prefix):
    import copy

    from markupsafe import Markup

    from tracker import task_status
    from tracker.templating import task_list

    params = {
        "attributes": {"data-testid": "tasks-before"},
        "classes": "app-tasks",
        "items": [
            {"title": {"text": "Meeting <details>"}, "href": "/meetings/1/edit?a=1&b=2",
             "hint": {"text": "15 agencies <invited>"}, "status": task_status("Completed")},
            None,
            {"title": {"html": Markup('<span data-testid="case-review">1. Case CR/1</span>')}, "href": "/r/1",
             "hint": {"html": Markup("HOU · <strong>sent</strong>")},
             "status": task_status("Information needed", "blue")},
            {"title": {"text": "Publish"}, "href": None, "hint": {"text": "Not yet"},
             "status": task_status("Cannot start yet")},
            {"title": {"text": "No hint"}, "href": "/x", "status": task_status("3 to fix", "red")},
        ],
    }  # fmt: skip
    if with_prefix:
        params["idPrefix"] = "during"
    with app.test_request_context():
        expected = app.jinja_env.from_string(TASK_LIST_MACRO).render(params=copy.deepcopy(params))
        fast = str(task_list(copy.deepcopy(params)))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert "<details>" not in fast and "<invited>" not in fast


def test_the_actions_tables_rows_in_python_give_the_cells_the_loop_gave(app):
    from datetime import date
    from types import SimpleNamespace

    from tracker.models import ActionStatus
    from tracker.rows import action_rows

    actions = [
        SimpleNamespace(id=1, reference="A-00001", description="Refer <to> MARAC & report", status=ActionStatus.OPEN,
                        due_date=date(2026, 11, 20), owning_agency=SimpleNamespace(code="I<D>VA"),
                        owner=SimpleNamespace(display_name='Ann "<b>"')),
        SimpleNamespace(id=2, reference="A-00002", description="Later", status=ActionStatus.COMPLETED,
                        due_date=date(2026, 12, 20), owning_agency=SimpleNamespace(code="HOU"), owner=None),
    ]  # fmt: skip
    loop = app.jinja_env.from_string(
        """{% set rows = [] %}{% for action in actions %}
  {% set described %}<a class="govuk-link" href="{{ url_for('actions.action', action_id=action.id) }}">
    {{- action.reference }}</a> {{ action.description }}{% endset %}
  {% do rows.append([{"html": described}, {"text": action.owning_agency.code},
    {"text": action.owner.display_name if action.owner else "Agency SPOC"}, {"text": action.due_date|date},
    {"html": action_status(action, today)}]) %}
{% endfor %}{{ govukTable({"rows": rows}) }}"""
    )
    today = date(2026, 11, 26)
    with app.test_request_context():
        expected = loop.render(actions=actions, today=today)
        fast = app.jinja_env.from_string('{{ govukTable({"rows": action_rows(actions, today)}) }}').render(
            actions=actions, today=today
        )
    assert canonical(fast) == canonical(expected)
    assert "<to>" not in fast and "<D>" not in fast and "<b>" not in fast and action_rows([], today) == []


# The macro the meeting page called for its attendance (templates/components/attendance.html), kept
# here to compare with tracker/rows.py.
ATTENDANCE_MACRO = """
{% macro attendance_table(attendance, caption, caption_classes="govuk-table__caption--m") -%}
<table class="govuk-table" data-testid="attendance-table">
  <caption class="govuk-table__caption {{ caption_classes }}">{{ caption }}</caption>
  <thead class="govuk-table__head">
    <tr class="govuk-table__row">
      {% for heading in ("Agency", "Name", "Attendance", "Role", "Deputising for") %}
      <th scope="col" class="govuk-table__header">{{ heading }}</th>{% endfor %}
    </tr>
  </thead>
  <tbody class="govuk-table__body">
  {% for row in attendance %}
    <tr class="govuk-table__row">
      <td class="govuk-table__cell">{{ row.agency_name }}</td><td class="govuk-table__cell">{{ row.name }}</td>
      <td class="govuk-table__cell">{{ row.status.label }}</td><td class="govuk-table__cell">{{ row.role.label }}</td>
      <td class="govuk-table__cell">{{ row.deputy_for }}</td>
    </tr>
  {% endfor %}
  </tbody>
</table>
{%- endmacro %}"""


@pytest.mark.parametrize("caption_classes", [None, "govuk-visually-hidden"])
def test_the_attendance_table_in_python_gives_the_table_the_macro_gave(app, caption_classes):
    from tracker.meetings.queries import AttendedLine
    from tracker.models import AttendanceStatus, MeetingRole
    from tracker.rows import attendance_table

    lines = [
        AttendedLine(1, "Police <agency>", "Panel Chair", AttendanceStatus.PRESENT, MeetingRole.CHAIR, ""),
        AttendedLine(2, "Housing", "Guest <b>Name</b>", AttendanceStatus.APOLOGIES, MeetingRole.MEMBER, "Lead & co"),
        AttendedLine(3, "IDVA", "Officer", AttendanceStatus.ABSENT, MeetingRole.MINUTE_TAKER, ""),
    ]
    extra = (caption_classes,) if caption_classes else ()
    with app.test_request_context():
        call = "attendance_table(lines, 'Who <came>'" + (", classes)" if extra else ")")
        template = app.jinja_env.from_string(ATTENDANCE_MACRO + "{{ " + call + " }}")
        expected = template.render(lines=lines, classes=caption_classes)
        fast = str(attendance_table(lines, "Who <came>", *extra))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert "<b>" not in fast and "<came>" not in fast and "<agency>" not in fast


# The loop the attendance form wrote for its lines (templates/meetings/attendance_sheet.html), kept here to
# compare with tracker/rows.py.
ATTENDANCE_LOOP = """
  {% for agency, lines in sheet.by_agency() %}
    <h3 class="govuk-heading-s govuk-!-margin-bottom-2" id="agency-{{ agency.id }}" tabindex="-1"
      data-testid="attendance-agency">{{ agency.name }}</h3>
    {% for line in lines %}
      {% set field_name, status = line.field_name, line.status %}
      <input type="hidden" name="seen-{{ field_name }}" value="{{ status }}">
      {% set legend %}{{ line.name }}{% if not line.user %} <span class="govuk-body-s">(guest)</span>{% endif %}
      {%- endset %}
      {{ small_inline_radios(field_name, legend, choices, status, testid="attendance-line") }}
      {% if line.row and not line.user %}<p class="govuk-body-s"><a class="govuk-link"
        href="{{ url_for('meetings.remove_attendance', meeting_id=meeting_id, row_id=line.row.id) }}">Remove<span
        class="govuk-visually-hidden"> {{ line.name }}</span> from the list</a></p>{% endif %}
    {% endfor %}
  {% else %}
    <p class="govuk-body">No invited agency has members yet. Add people as guests below.</p>
  {% endfor %}
"""


@pytest.mark.parametrize("empty", [False, True])
def test_the_attendance_lines_in_python_give_the_form_the_loop_gave(app, empty):
    from types import SimpleNamespace

    from tracker.meetings.forms import ATTENDANCE_CHOICES
    from tracker.meetings.queries import AttendanceLine, AttendanceSheet, Member
    from tracker.models import AttendanceStatus
    from tracker.rows import attendance_lines
    from tracker.templating import SmallInlineRadios

    police, housing = SimpleNamespace(id=1, name="Police <force>"), SimpleNamespace(id=2, name="Housing")
    guest = SimpleNamespace(id=7, name="Guest <i>Name</i>", status=AttendanceStatus.APOLOGIES)
    recorded = SimpleNamespace(id=8, name="Ignored", status=AttendanceStatus.PRESENT)
    lines = [
        AttendanceLine(police, Member(3, "Officer <b>One</b>", 1), None),
        AttendanceLine(police, Member(4, "Officer Two", 1), recorded),
        AttendanceLine(housing, None, guest),
    ]
    sheet = AttendanceSheet([] if empty else lines, [])
    choices = [*ATTENDANCE_CHOICES, ("", "Not recorded")]
    with app.test_request_context():
        radios = SmallInlineRadios(choices)
        expected = app.jinja_env.from_string(ATTENDANCE_LOOP).render(
            sheet=sheet,
            meeting_id=5,
            choices=choices,
            small_inline_radios=lambda name, legend, _choices, checked, testid: radios(
                name, legend, checked, testid=testid
            ),
        )
        fast = str(attendance_lines(sheet, 5, choices))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert "<b>" not in fast and "<i>" not in fast and "<force>" not in fast


# The loop the audit log wrote for its rows (templates/admin/audit.html), kept here to compare.
AUDIT_LOOP = """{% set rows = [] %}
{% for event in page.events %}
  {% set record %}{% if event.object_type %}{{ object_labels.get(event.object_type, event.object_type) }}
  {{- " " }}{{ event.object_id }}{% if page.references.get((event.object_type, event.object_id)) %}
  {{- " " }}({{ page.references[(event.object_type, event.object_id)] }}){% endif %}{% endif %}{% endset %}
  {% do rows.append([
    {"text": event.at|datetime},
    {"text": (event.user.display_name ~ " (" ~ event.user.agency.code ~ ")") if event.user else "Not signed in"},
    {"text": event.action.replace("_", " ")},
    {"text": record|trim},
    {"text": event.detail},
    {"text": event.ip_address or ""}
  ]) %}
{% endfor %}{{ govukTable({
  "caption": "Events, newest first",
  "captionClasses": "govuk-table__caption--m",
  "attributes": {"data-testid": "audit-table"},
  "head": [{"text": "When"}, {"text": "Who"}, {"text": "Event"}, {"text": "Record"}, {"text": "Detail"},
           {"text": "From"}],
  "rows": rows
}) }}"""


def test_the_audit_table_in_python_gives_the_cells_the_loop_gave(app):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    at = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
    officer = SimpleNamespace(display_name="Ann <b>", agency=SimpleNamespace(code="P&D"))
    # Each event as the loop read it (an AuditEvent's user and agency) and as the page reads it now (an
    # AuditLine's user_name and agency_code).
    named = {"user": officer, "user_name": officer.display_name, "agency_code": officer.agency.code}
    nobody = {"user": None, "user_name": None, "agency_code": None}
    events = [
        SimpleNamespace(at=at, **named, action="case_viewed", object_type="case", object_id=4,
                        detail='Viewed <i>"all"</i>', ip_address="10.0.0.1"),
        SimpleNamespace(at=at, **nobody, action="sign_in_refused", object_type=None, object_id=None,
                        detail="", ip_address=None),
        SimpleNamespace(at=at, **named, action="meeting_viewed", object_type="odd<type>", object_id=9,
                        detail="x", ip_address=""),
    ]  # fmt: skip
    page = SimpleNamespace(events=events, references={("case", 4): "CR/<4>"})
    labels = {"case": "Case <record>"}
    with app.test_request_context():
        expected = app.jinja_env.from_string(AUDIT_LOOP).render(page=page, object_labels=labels)
        fast = app.jinja_env.from_string("{{ audit_table(events, references, labels) }}").render(
            events=events, references=page.references, labels=labels
        )
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert "<b>" not in fast and "<i>" not in fast and "<4>" not in fast and "<type>" not in fast
    assert "Case &lt;record&gt; 4 (CR/&lt;4&gt;)" in fast


# The loop the agenda page wrote for its rows (templates/meetings/agenda.html), kept here to compare.
AGENDA_LOOP = """{% set rows = [] %}
{% for review in reviews %}
  {% set first, last = loop.first, loop.last %}
  {% set case_html %}<a class="govuk-link" href="{{ url_for('reviews.review', meeting_id=meeting.id,
    review_id=review.id) }}">{{ review.case_reference }}</a> {{ repeat(review) }}{% endset %}
  {% set order_html %}
    <span class="app-inline-forms">
    {% for direction, label in (("up", "Move up"), ("down", "Move down")) %}
      {% if (direction == "up" and not first) or (direction == "down" and not last) %}
      <form method="post" action="{{ url_for('meetings.move_review', meeting_id=meeting.id) }}" class="app-inline-form">
        <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
        <input type="hidden" name="review_id" value="{{ review.id }}">
        <input type="hidden" name="direction" value="{{ direction }}">
        <input type="hidden" name="agenda" value="{{ agenda }}">
        <button type="submit" class="app-link-button">{{ label }}<span class="govuk-visually-hidden"> case
          {{- " " }}{{ review.case_reference }}</span></button>
      </form>
      {% endif %}
    {% endfor %}
    <a class="govuk-link" href="{{ url_for('meetings.remove_review', meeting_id=meeting.id,
      review_id=review.id) }}">Take off<span class="govuk-visually-hidden"> case {{ review.case_reference }}</span></a>
    </span>
  {% endset %}
  {% do rows.append([{"text": loop.index}, {"html": case_html}, {"text": review.agency_codes or "None yet"},
    {"html": order_html}]) %}
{% endfor %}{{ govukTable({"rows": rows}) }}"""


@pytest.mark.parametrize("count", [1, 3])
def test_the_agenda_rows_in_python_give_the_cells_the_loop_gave(app, count):
    from types import SimpleNamespace

    from tracker.meetings.queries import AgendaLine

    lines = [
        AgendaLine(11, 1, "CR/<1>", True, "IDVA, POL"),
        AgendaLine(12, 2, "CR/2", False, ""),
        AgendaLine(13, 3, "CR/3 & co", False, "HOU"),
    ][:count]
    values = {"reviews": lines, "meeting": SimpleNamespace(id=4), "agenda": "11,12,<13>"}
    with app.test_request_context():
        expected = app.jinja_env.from_string(AGENDA_LOOP).render(**values)
        fast = app.jinja_env.from_string(
            '{{ govukTable({"rows": agenda_rows(reviews, meeting.id, agenda, csrf_token())}) }}'
        ).render(**values)
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert "<1>" not in fast and "<13>" not in fast


# The loop the actions list wrote for its rows, kept here to compare with tracker/rows.py.
ACTIONS_LIST_LOOP = """
  {% for action in actions %}
    <tr class="govuk-table__row">
      <td class="govuk-table__cell"><a class="govuk-link" href="{{ url_for('actions.action', action_id=action.id) }}">{{ action.reference }}</a> {{ action.description }}{% if action.case_reference %}<br><span class="govuk-body-s">Case {{ action.case_reference }}</span>{% endif %}</td>
      <td class="govuk-table__cell"><abbr title="{{ action.agency_name }}">{{ action.agency_code }}</abbr></td>
      <td class="govuk-table__cell">{{ action.owner_name or "Agency SPOC" }}</td>
      <td class="govuk-table__cell" data-testid="due">{{ action.due_date|date }}{{ due_history(action) }}</td>
      <td class="govuk-table__cell">{{ action_status(action, today) }}</td>
      <td class="govuk-table__cell govuk-body-s" data-testid="latest-update">{{ latest_update(action) }}</td>
    </tr>
  {% endfor %}
"""  # noqa: E501


def test_the_actions_lists_rows_in_python_give_the_rows_the_loop_gave(app):
    from datetime import UTC, date, datetime

    from tracker.actions.queries import ActionRow
    from tracker.models import ActionStatus
    from tracker.rows import actions_list_rows

    actions = [
        ActionRow(
            id=7, description='Refer <to> the "MARAC" & report', status=ActionStatus.OPEN, due_date=date(2026, 11, 20),
            original_due_date=date(2026, 11, 1), owning_agency_id=2, agency_name="IDVA <service>",
            agency_code="ID<VA", owner_name="Ann <b>", case_reference="CR/<1>",
            latest_update_at=datetime(2026, 11, 2, 14, 5, tzinfo=UTC), latest_update_text="Called <the> client " * 10,
            extension_count=2,
        ),
        ActionRow(
            id=8, description="Plain", status=ActionStatus.COMPLETED, due_date=date(2026, 12, 20),
            original_due_date=date(2026, 12, 20), owning_agency_id=3, agency_name="Housing", agency_code="HOU",
            owner_name=None, case_reference=None, latest_update_at=None, latest_update_text=None, extension_count=0,
        ),
    ]  # fmt: skip
    today = date(2026, 11, 26)
    with app.test_request_context():
        expected = app.jinja_env.from_string(ACTIONS_LIST_LOOP).render(actions=actions, today=today)
        fast = str(actions_list_rows(actions, today))
    assert canonical(fast) == canonical(expected)
    assert words(fast) == words(expected)
    assert "<to>" not in fast and "<b>" not in fast and "<1>" not in fast and "<service>" not in fast


@pytest.mark.parametrize(
    ("endpoint", "key", "values"),
    [
        ("actions.action", "action_id", {}),
        ("actions.progress", "action_id", {}),
        ("reviews.review", "review_id", {"meeting_id": 12}),
        ("meetings.meeting", "meeting_id", {}),
        ("cases.case", "case_id", {}),
    ],
)
def test_url_maker_gives_the_url_url_for_gives_for_every_id(app, endpoint, key, values):
    from flask import url_for

    from tracker.templating import url_maker

    with app.test_request_context("/"):
        make = url_maker(endpoint, key, **values)
        for record_id in (1, 9, 10, 987, 2**31 - 1):
            assert make(record_id) == url_for(endpoint, **values, **{key: record_id})


def test_url_maker_refuses_an_endpoint_whose_url_does_not_hold_the_id_once(app, monkeypatch):
    import tracker.templating
    from tracker.templating import url_maker

    for made in ("/actions", "/actions/9876543210123/9876543210123"):
        monkeypatch.setattr(tracker.templating, "url_for", lambda endpoint, made=made, **values: made)
        with pytest.raises(ValueError, match="is not in its URL once"):
            url_maker("actions.action", "action_id")


class _Hostile(str):
    """A str subclass: escaped through markupsafe's own path, not the plain-str one."""


class _HasHtml:
    def __html__(self):
        return "<em>kept</em>"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "<script>alert(\"x\")</script> & 'quotes'",
        'Ann <x> & "Co" – £5 ☂',
        _Hostile("<b>sub</b>"),
        Markup("<b>already safe</b>"),
        _HasHtml(),
        12345,
        None,
        3.5,
    ],
)
def test_the_fast_escape_gives_what_markupsafe_gives(value):
    from markupsafe import escape as markupsafe_escape

    from tracker.escaping import escape

    escaped = escape(value)
    assert type(escaped) is Markup  # so nothing is escaped twice, wherever it goes
    assert escaped == markupsafe_escape(value)


def test_a_tag_kept_once_made_is_the_same_markup_and_escapes_its_text():
    from tracker.tags import tag

    assert tag("Overdue", "red") is tag("Overdue", "red")
    # Markup and the same characters as text are equal: the tag kept for one is not the other's.
    assert tag(Markup("<i>x</i>"), "red") == Markup('<strong class="govuk-tag govuk-tag--red"><i>x</i></strong>')
    assert tag("<i>x</i>", "red") == Markup('<strong class="govuk-tag govuk-tag--red">&lt;i&gt;x&lt;/i&gt;</strong>')
    assert tag(True) == Markup('<strong class="govuk-tag">True</strong>')
    assert tag("<b>", 'x" onclick="y') == Markup(
        '<strong class="govuk-tag govuk-tag--x&#34; onclick=&#34;y">&lt;b&gt;</strong>'
    )


def test_every_table_on_a_web_page_sits_in_a_sideways_scrolling_container():
    """On a phone a wide table scrolls inside the page (.app-table-scroll), not the page past its header."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    opening = re.compile(r"\{\{\s*(govukTable|audit_table|attendance_table)\(|<table\b")
    unwrapped = []
    for template in sorted(root.rglob("*.html")):
        if template.is_relative_to(root / "pdf"):
            continue  # printed: no scrolling
        text = template.read_text()
        for match in opening.finditer(text):
            if not text[: match.start()].rstrip().endswith('<div class="app-table-scroll">'):
                unwrapped.append(f"{template.relative_to(root)}:{text.count(chr(10), 0, match.start()) + 1}")
    assert unwrapped == []


def test_a_date_inputs_example_is_two_weeks_ahead_never_in_the_past(app):
    """The hint and the 'real date' error give the same example, worked out as the form is made."""

    class DueForm(Form):
        due = GovDateField("Due date")

    from werkzeug.datastructures import MultiDict

    with app.test_request_context():
        form = DueForm(formdata=MultiDict([("due", "31"), ("due", "2"), ("due", "2027")]))
        form.validate()
    ahead = london_today() + timedelta(days=14)
    assert form.due.description == f"For example, {ahead.day} {ahead.month} {ahead.year}"
    assert form.due.errors == [f"Due date must be a real date, like {ahead.day} {ahead.month} {ahead.year}"]

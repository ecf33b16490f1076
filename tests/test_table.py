"""govukTable is drawn in Python (tracker/templating.py) for speed: it must give the same table as
GOV.UK Frontend's own macro, for every parameter the templates use, with text escaped."""

import re

import pytest
from markupsafe import Markup

from tracker.templating import govuk_table

CASES = [
    {"rows": []},
    {
        "caption": "Meetings <soon>",
        "captionClasses": "govuk-table__caption--m",
        "attributes": {"data-testid": "meetings-table", "aria-hidden": True},
        "head": [{"text": "Date"}, {"text": "Cases", "format": "numeric", "classes": "app-narrow"}],
        "rows": [
            [{"html": Markup('<a href="/m/1">1 May</a>')}, {"text": 3, "format": "numeric"}],
            [],
            [{"text": "Tom & <Jerry>", "colspan": 2, "attributes": {"id": 'x"y'}}],
        ],
    },
    {
        "classes": "app-table",
        "firstCellIsHeader": True,
        "head": [{"html": "<span>Agency</span>"}, {"text": "Rate", "rowspan": 2}],
        "rows": [[{"text": "Police", "classes": "app-bold"}, {"text": "0"}], [{"text": 0}, {"text": "90%"}]],
    },
]


def normalise(html: str) -> str:
    """The same markup, whatever the whitespace between and inside tags."""
    html = re.sub(r"\s+", " ", str(html))
    return re.sub(r"\s*(<|>)\s*", r"\1", html).strip()


@pytest.mark.parametrize("params", CASES)
def test_govuk_table_matches_the_govuk_frontend_macro(app, params):
    with app.app_context():
        macro = app.jinja_env.from_string(
            '{% from "govuk_frontend_jinja/components/table/macro.html" import govukTable as macro %}'
            "{{ macro(params) }}"
        )
        assert normalise(govuk_table(params)) == normalise(macro.render(params=params))


def test_templates_get_the_python_table():
    from tracker import create_app

    assert create_app("testing").jinja_env.globals["govukTable"] is govuk_table

"""The rows of the list pages' tables (meetings, cases), made in Python for govukTable: a Jinja loop
building each row's cells (a captured link block, filters, a dict per cell) cost about a tenth of a
millisecond a row, and a list page has 20 or 25. Templates call them by name; text is escaped by
govukTable, and each link here is escaped as it is made."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from tracker.tags import meeting_status
from tracker.timeutil import format_date, format_datetime


def _link(href: str, text: str) -> Markup:
    return Markup(f'<a class="govuk-link" href="{escape(href)}">{escape(text)}</a>')  # noqa: S704 - escaped  # nosec B704


def meeting_rows(meetings, counts: dict[int, int]) -> list[list[dict]]:
    """The meetings list: date (a link to the meeting), location, chair, the cases the reader may see
    (``counts``, by meeting id) and status."""
    return [
        [
            {"html": _link(url_for("meetings.meeting", meeting_id=meeting.id), format_datetime(meeting.starts_at))},
            {"text": meeting.location},
            {"text": meeting.chair.display_name if meeting.chair else ""},
            {"text": counts.get(meeting.id, 0), "format": "numeric"},
            {"html": meeting_status(meeting)},
        ]
        for meeting in meetings
    ]


def case_rows(hits) -> list[list[dict]]:
    """The case search: reference (a link to the case), the date of its latest matching review, and
    how many reviews match."""
    return [
        [
            {"html": _link(url_for("cases.case", case_id=hit.case.id), hit.case.reference)},
            {"text": format_date(hit.last_reviewed)},
            {"text": hit.reviews, "format": "numeric"},
        ]
        for hit in hits
    ]


TEMPLATE_GLOBALS = {function.__name__: function for function in (meeting_rows, case_rows)}

"""Status tags (GOV.UK's tag markup), for the templates as globals: ``{{ action_status(action, today) }}``.

Status tags always carry their meaning in words, never colour alone. They are written here in Python
rather than as Jinja macros because pages show dozens (a meeting's cases, 25 matters arising, a page
of actions) and a macro call costs dozens of Python calls where a function costs a few.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from markupsafe import Markup

from tracker.escaping import escape

MEETING_COLOURS = {"scheduled": "blue", "in_progress": "yellow", "approved": "green", "cancelled": "grey"}
ACTION_COLOURS = {"open": "light-blue", "in_progress": "yellow", "completed": "green", "cancelled": "grey"}
RISK_COLOURS = {"standard": "green", "medium": "yellow", "high": "red"}


def _make_tag(text: str, colour: str) -> Markup:
    # Markup.format would run a pure-Python formatter: the f-string escapes each value instead.
    modifier = f" govuk-tag--{escape(colour)}" if colour else ""
    return Markup(f'<strong class="govuk-tag{modifier}">{escape(text)}</strong>')  # noqa: S704 - escaped  # nosec B704


# Pages show the same few tags dozens of times (a page of actions, the meeting's cases): kept once made
# (a Markup is immutable). Only for plain text: a Markup equals the same characters as text, so a cache
# keyed by both would hand text the tag made from markup, unescaped.
_kept_tag = lru_cache(maxsize=512)(_make_tag)


def tag(text: str, colour: str = "") -> Markup:
    """A tag in words and colour."""
    if type(text) is str and type(colour) is str:
        return _kept_tag(text, colour)
    return _make_tag(text, colour)


def active_status(active: bool) -> Markup:
    """An account or agency: active, or deactivated."""
    return tag("Active", "green") if active else tag("Deactivated", "grey")


def meeting_status(meeting) -> Markup:
    return tag(meeting.status.label, MEETING_COLOURS[meeting.status.value])


def action_status(action, today: date) -> Markup:
    """Overdue, due within a week, or the status; ``today`` is the page's (action.is_overdue would read
    the clock again for every row)."""
    status = action.status
    if not status.is_closed and action.due_date < today:
        return tag("Overdue", "red")
    if not status.is_closed and (action.due_date - today).days <= 7:
        return tag("Due soon", "orange") + Markup(" ") + tag(status.label, ACTION_COLOURS[status.value])
    return tag(status.label, ACTION_COLOURS[status.value])


def risk(review) -> Markup:
    if review.risk_level:
        return tag(f"{review.risk_level.label} risk", RISK_COLOURS[review.risk_level.value])
    return tag("Risk not recorded", "grey")


def repeat(review) -> Markup:
    return tag("Repeat", "purple") if review.is_repeat else Markup("")


TEMPLATE_GLOBALS = {
    function.__name__: function for function in (tag, active_status, meeting_status, action_status, risk, repeat)
}

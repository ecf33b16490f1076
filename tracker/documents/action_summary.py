"""The action summary: per-agency figures, a bar chart of overdue actions, then every action by agency."""

from __future__ import annotations

import statistics
import textwrap
from dataclasses import dataclass, field

from flask import current_app

from tracker.actions import queries as action_queries
from tracker.actions.filters import ActionFilter
from tracker.documents.render import HtmlPart, RenderedPdf, html_parts_to_pdf, new_document_id, render_html, render_pdf
from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Action, ActionStatus, Agency, User
from tracker.timeutil import LONDON, format_date, london_today


class TooManyRows(Exception):
    def __init__(self, count: int, limit: int):
        super().__init__(f"{count} actions match; the limit is {limit}")
        self.count, self.limit = count, limit


@dataclass
class AgencyFigures:
    agency: Agency
    actions: list[Action] = field(default_factory=list)
    open: int = 0
    overdue: int = 0
    completed: int = 0
    completed_on_time: int = 0
    days_overdue: list[int] = field(default_factory=list)

    @property
    def on_time_percent(self) -> str:
        return f"{round(100 * self.completed_on_time / self.completed)}%" if self.completed else "–"

    @property
    def median_days_overdue(self) -> str:
        return f"{statistics.median(self.days_overdue):g}" if self.days_overdue else "–"


def summary_data(user: User, action_filter: ActionFilter) -> list[AgencyFigures]:
    """The actions the filter selects (the same ones as the actions list and its CSV), by agency."""
    limit = current_app.config["ACTION_SUMMARY_MAX_ROWS"]
    count = action_queries.count_filtered(user, action_filter)
    if count > limit:
        raise TooManyRows(count, limit)
    today = london_today()
    actions = db.session.scalars(action_queries.filtered_actions(user, action_filter)).unique()
    by_agency: dict[int, AgencyFigures] = {}
    for action in actions:
        figures = by_agency.setdefault(action.owning_agency_id, AgencyFigures(action.owning_agency))
        figures.actions.append(action)
        if action.status in OPEN_STATUSES:
            figures.open += 1
            if action.due_date < today:
                figures.overdue += 1
                figures.days_overdue.append((today - action.due_date).days)
        elif action.status == ActionStatus.COMPLETED:
            figures.completed += 1
            # On time means by the date first set: an agreed extension does not make a late action on time.
            if action.closed_at is not None and action.closed_at.astimezone(LONDON).date() <= action.original_due_date:
                figures.completed_on_time += 1
    for figures in by_agency.values():
        # Overdue first (most overdue at the top), then by due date.
        figures.actions.sort(key=lambda a: (not a.is_overdue, a.due_date, a.id))
    return sorted(by_agency.values(), key=lambda f: f.agency.name)


@dataclass
class ChartBar:
    label_lines: list[str]
    value: int
    y: float
    width: float
    height: float


CHART_LINE_HEIGHT = 13
CHART_LABEL_CHARACTERS = 26  # about what fits in the label column at 11 px
CHART_LABEL_MAX_LINES = 3


def chart_label(name: str) -> list[str]:
    """An agency's name wrapped to the label column (a long word is broken); the full name is always
    in the chart's text alternative and in the table beside it."""
    lines = textwrap.wrap(name, CHART_LABEL_CHARACTERS, break_long_words=True, break_on_hyphens=True) or [""]
    if len(lines) > CHART_LABEL_MAX_LINES:
        lines = lines[:CHART_LABEL_MAX_LINES]
        lines[-1] = lines[-1][: CHART_LABEL_CHARACTERS - 1].rstrip() + "…"
    return lines


def overdue_chart(
    counts: list[tuple[Agency, int]],
    width: float = 480,
    bar_height: float = 16,
    gap: float = 8,
    label_width: float = 180,
) -> dict:
    """Geometry for the horizontal bar chart of overdue actions by agency (drawn as SVG in a template).
    Bars are labelled with the agency's name, wrapped over up to three lines."""
    most = max((overdue for _, overdue in counts), default=0) or 1
    plot = width - label_width - 40
    bars = []
    y = gap
    for agency, overdue in counts:
        lines = chart_label(agency.name)
        row_height = max(bar_height, len(lines) * CHART_LINE_HEIGHT)
        bars.append(ChartBar(lines, overdue, y, plot * overdue / most, row_height))
        y += row_height + gap
    values = "; ".join(f"{agency.name}: {overdue}" for agency, overdue in counts)
    return {
        "bars": bars,
        "width": width,
        "height": y + 4,
        "bar_height": bar_height,
        "line_height": CHART_LINE_HEIGHT,
        "label_width": label_width,
        "title": "Overdue actions by agency",
        # The text alternative carries every value, so the chart loses nothing without sight.
        "description": f"Number of overdue actions. {values}." if counts else "No actions.",
    }


def summary_filename(reader: User, action_filter: ActionFilter) -> str:
    return action_queries.filter_names(reader, action_filter).filename("action-summary", action_filter, ".pdf")


@dataclass
class ActionGroup:
    """An agency's table of actions, or the piece of it in one part of a summary made in parts."""

    figures: AgencyFigures
    actions: list[Action]
    continued: bool = False  # the table goes on from the part before: no heading, its header row a repeat


def parts_of(figures: list[AgencyFigures], part_actions: int) -> list[list[ActionGroup]]:
    """The agencies' tables in parts of at most ``part_actions`` actions, in order. A part starts on a
    new page, so a table that does not fit in what is left of a part starts the next part; only a
    table longer than a part is cut, and goes on in the next."""
    parts: list[list[ActionGroup]] = [[]]
    room = part_actions
    for agency in figures:
        actions, continued = agency.actions, False
        if len(actions) > room and len(actions) <= part_actions and parts[-1]:
            room = 0
        while True:
            if room == 0:
                parts.append([])
                room = part_actions
            piece, actions = actions[:room], actions[room:]
            parts[-1].append(ActionGroup(agency, piece, continued))
            room -= len(piece)
            if not actions:
                break
            continued = True
    return parts


def render_summary(user: User, action_filter: ActionFilter, *, produced_for: str) -> RenderedPdf:
    figures = summary_data(user, action_filter)
    names = action_queries.filter_names(user, action_filter)
    context = dict(
        title=f"Action summary, {format_date(london_today())}"
        + (f", {names.agency_name}" if names.agency_name else ""),
        filters_in_words=names.words(action_filter),
        subject="Summary of actions from the domestic abuse response scrutiny meetings",
        figures=figures,
        chart=overdue_chart([(f.agency, f.overdue) for f in figures]),
        filters=action_filter,
        today=london_today(),
        document_id=new_document_id("ACT"),
        revision=None,
        produced_for=produced_for,
        service_name=current_app.config["SERVICE_NAME"],
    )
    part_actions = current_app.config["ACTION_SUMMARY_PART_ACTIONS"]
    if sum(len(f.actions) for f in figures) <= part_actions:
        return render_pdf(
            "pdf/action_summary.html", draft=False, groups=[ActionGroup(f, f.actions) for f in figures], **context
        )
    parts = [
        HtmlPart(
            render_html("pdf/action_summary.html", draft=False, groups=groups, front_matter=index == 0, **context),
            continues_table=groups[0].continued,
        )
        for index, groups in enumerate(parts_of(figures, part_actions))
    ]
    return html_parts_to_pdf(parts, draft=False)

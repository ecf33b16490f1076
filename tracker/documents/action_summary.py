"""The action summary: per-agency figures, a bar chart of overdue actions, then every action by agency."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from flask import current_app

from tracker.actions import queries as action_queries
from tracker.actions.filters import ActionFilter
from tracker.documents.render import RenderedPdf, new_document_id, render_pdf
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
    label: str
    value: int
    y: float
    width: float


def overdue_chart(
    counts: list[tuple[Agency, int]],
    width: float = 480,
    bar_height: float = 16,
    gap: float = 6,
    label_width: float = 80,
) -> dict:
    """Geometry for the horizontal bar chart of overdue actions by agency (drawn as SVG in a template)."""
    most = max((overdue for _, overdue in counts), default=0) or 1
    plot = width - label_width - 40
    bars = [
        ChartBar(agency.code, overdue, gap + i * (bar_height + gap), plot * overdue / most)
        for i, (agency, overdue) in enumerate(counts)
    ]
    return {
        "bars": bars,
        "width": width,
        "height": gap + len(bars) * (bar_height + gap) + 4,
        "bar_height": bar_height,
        "label_width": label_width,
        "description": "; ".join(f"{agency.name}: {overdue} overdue" for agency, overdue in counts) or "No actions",
    }


def render_summary(user: User, action_filter: ActionFilter, *, produced_for: str) -> RenderedPdf:
    figures = summary_data(user, action_filter)
    return render_pdf(
        "pdf/action_summary.html",
        title=f"Action summary, {format_date(london_today())}",
        subject="Summary of actions from the domestic abuse response scrutiny meetings",
        figures=figures,
        chart=overdue_chart([(f.agency, f.overdue) for f in figures]),
        filters=action_filter,
        today=london_today(),
        draft=False,
        document_id=new_document_id("ACT"),
        revision=None,
        produced_for=produced_for,
        service_name=current_app.config["SERVICE_NAME"],
    )

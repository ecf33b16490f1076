"""The action summary: per-agency figures, a bar chart of overdue actions, then every action by agency."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from tracker.documents.render import RenderedPdf, new_document_id, render_pdf
from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Action, ActionStatus, Agency, CaseReview, Meeting
from tracker.permissions import action_scope, sees_every_agency
from tracker.timeutil import LONDON, format_date, london_today


class OutOfScope(Exception):
    """The filters name an agency the user may not see (answered with 404)."""


class BadFilters(ValueError):
    """Filters that make no sense (for example an inverted date range); the message says why."""


class TooManyRows(Exception):
    def __init__(self, count: int, limit: int):
        super().__init__(f"{count} actions match; the limit is {limit}")
        self.count, self.limit = count, limit


STATUS_CHOICES = [
    ("", "Any status"),
    ("open", "Open or in progress"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
]


def _date(raw, label):
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadFilters(f"{label} must be a real date") from None


@dataclass(frozen=True)
class SummaryFilters:
    agency_id: int | None = None
    status: str = ""
    overdue_only: bool = False
    due_from: date | None = None
    due_to: date | None = None
    meetings_from: date | None = None
    meetings_to: date | None = None

    @classmethod
    def from_args(cls, args, user) -> SummaryFilters:
        agency_id = None
        if raw := (args.get("agency") or "").strip():
            if not raw.isdigit():
                raise BadFilters("Choose an agency from the list")
            agency_id = int(raw)
            if not sees_every_agency(user) and agency_id != user.agency_id:
                raise OutOfScope()
        if not sees_every_agency(user):
            agency_id = user.agency_id
        status = args.get("status") or ""
        if status not in {value for value, _ in STATUS_CHOICES}:
            raise BadFilters("Choose a status from the list")
        filters = cls(
            agency_id=agency_id,
            status=status,
            overdue_only=args.get("overdue") in ("1", "y", "on"),
            due_from=_date(args.get("due_from"), "Due from"),
            due_to=_date(args.get("due_to"), "Due by"),
            meetings_from=_date(args.get("meetings_from"), "Meetings from"),
            meetings_to=_date(args.get("meetings_to"), "Meetings to"),
        )
        if filters.due_from and filters.due_to and filters.due_from > filters.due_to:
            raise BadFilters("The due date range is the wrong way round: the start is after the end")
        if filters.meetings_from and filters.meetings_to and filters.meetings_from > filters.meetings_to:
            raise BadFilters("The meeting date range is the wrong way round: the start is after the end")
        return filters

    def describe(self) -> list[str]:
        parts = []
        if self.status:
            parts.append(dict(STATUS_CHOICES)[self.status])
        if self.overdue_only:
            parts.append("overdue only")
        if self.due_from or self.due_to:
            parts.append(f"due {format_date(self.due_from) or 'any time'} to {format_date(self.due_to) or 'any time'}")
        if self.meetings_from or self.meetings_to:
            parts.append(
                f"raised at meetings {format_date(self.meetings_from) or 'any time'} to "
                f"{format_date(self.meetings_to) or 'any time'}"
            )
        return parts or ["all actions"]


def _query(user, filters: SummaryFilters):
    today = london_today()
    query = select(Action).join(Meeting, Action.meeting_id == Meeting.id).where(action_scope(user))
    if filters.agency_id is not None:
        query = query.where(Action.owning_agency_id == filters.agency_id)
    if filters.status == "open":
        query = query.where(Action.status.in_(OPEN_STATUSES))
    elif filters.status:
        query = query.where(Action.status == ActionStatus(filters.status))
    if filters.overdue_only:
        query = query.where(Action.status.in_(OPEN_STATUSES), Action.due_date < today)
    if filters.due_from:
        query = query.where(Action.due_date >= filters.due_from)
    if filters.due_to:
        query = query.where(Action.due_date <= filters.due_to)
    if filters.meetings_from:
        query = query.where(Meeting.starts_at >= datetime.combine(filters.meetings_from, datetime.min.time(), LONDON))
    if filters.meetings_to:
        query = query.where(
            Meeting.starts_at < datetime.combine(filters.meetings_to + timedelta(days=1), datetime.min.time(), LONDON)
        )
    return query


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


def summary_data(user, filters: SummaryFilters) -> list[AgencyFigures]:
    limit = current_app.config["ACTION_SUMMARY_MAX_ROWS"]
    count = db.session.scalar(select(func.count()).select_from(_query(user, filters).subquery()))
    if count > limit:
        raise TooManyRows(count, limit)
    today = london_today()
    actions = db.session.scalars(
        _query(user, filters).options(
            joinedload(Action.owning_agency),
            joinedload(Action.owner),
            joinedload(Action.meeting),
            joinedload(Action.case_review).joinedload(CaseReview.case),
        )
    ).unique()
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
            if action.closed_at is not None and action.closed_at.astimezone(LONDON).date() <= action.due_date:
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


def render_summary(user, filters: SummaryFilters, *, produced_for: str) -> RenderedPdf:
    figures = summary_data(user, filters)
    return render_pdf(
        "pdf/action_summary.html",
        title=f"Action summary, {format_date(london_today())}",
        subject="Summary of actions from the domestic abuse response scrutiny meetings",
        figures=figures,
        chart=overdue_chart([(f.agency, f.overdue) for f in figures]),
        filters=filters,
        today=london_today(),
        draft=False,
        document_id=new_document_id("ACT"),
        revision=None,
        produced_for=produced_for,
        service_name=current_app.config["SERVICE_NAME"],
    )

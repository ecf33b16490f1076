"""Reads for the period reports: what the panel is learning and whether agencies do what they agreed.

Every figure is counted in SQL for the period and the one before it together (one query per table of
figures), scoped to what the reader may see: chairs and managers see every agency; a partner sees the
reviews its agency may see, its own attendance and its own actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, func, select, union_all
from sqlalchemy.orm import aliased

from tracker.extensions import db
from tracker.models import (
    IS_OPEN,
    RISK_FLAGS,
    SCRUTINY_GRADES,
    Action,
    ActionStatus,
    ActionUpdate,
    Agency,
    Attendance,
    AttendanceStatus,
    CaseReview,
    ExtensionRequest,
    LearningTheme,
    Meeting,
    MeetingStatus,
    RiskLevel,
    User,
)
from tracker.models.case import case_review_agencies, case_review_themes
from tracker.models.extension import ExtensionStatus
from tracker.models.meeting import meeting_invited_agencies
from tracker.permissions import action_scope, case_review_scope, visible_agency_ids
from tracker.reports.periods import Period, quarters_ending_with
from tracker.sqlfunctions import days_between, london_date
from tracker.timeutil import london_today

# Meetings that took place: their reviews and actions count; scheduled and cancelled ones do not.
HELD = (MeetingStatus.IN_PROGRESS, MeetingStatus.APPROVED)
CURRENT, PREVIOUS = 1, 0


@dataclass(frozen=True)
class Compared:
    """One figure for the period and for the period before it."""

    now: int
    before: int

    @property
    def change(self) -> str:
        difference = self.now - self.before
        if difference == 0:
            return "no change"
        return f"{'up' if difference > 0 else 'down'} {abs(difference)}"


@dataclass(frozen=True)
class Share:
    """A count out of a total, for rates (repeat rate, attendance rate, on-time rate)."""

    part: int
    whole: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.part / self.whole) if self.whole else None

    @property
    def text(self) -> str:
        return f"{self.percent}%" if self.whole else "–"


@dataclass
class ScrutinyFigures:
    meetings: Compared
    reviews: Compared
    repeats: Compared
    repeat_rate_now: Share
    repeat_rate_before: Share
    grades: list[tuple[str, Compared]]  # (label, counts), grades 1–4 then "Not graded"
    risks: list[tuple[str, Compared]]
    flags: list[tuple[str, Compared]]


def _bucket(column, period: Period):
    """1 for the period, 0 for the one before (the query's WHERE keeps both and nothing else)."""
    return case((column >= period.starts_at, CURRENT), else_=PREVIOUS)


def _both_periods(column, period: Period):
    return and_(column >= period.previous().starts_at, column < period.ends_before)


def _compared(rows: dict[int, int], *, default: int = 0) -> Compared:
    return Compared(rows.get(CURRENT, default), rows.get(PREVIOUS, default))


def _held_reviews(user: User, period: Period):
    """Reviews at meetings held in the period or the one before, that ``user`` may see."""
    return (
        select(CaseReview.id)
        .join(Meeting, Meeting.id == CaseReview.meeting_id)
        .where(Meeting.status.in_(HELD), _both_periods(Meeting.starts_at, period), case_review_scope(user))
    )


def scrutiny_figures(user: User, period: Period) -> ScrutinyFigures:
    bucket = _bucket(Meeting.starts_at, period).label("bucket")
    flag_columns = [getattr(CaseReview, column) for column, _ in RISK_FLAGS]
    columns = [
        func.count(func.distinct(Meeting.id)),
        func.count(CaseReview.id),
        func.count(CaseReview.id).filter(CaseReview.is_repeat.is_(True)),
        *(func.count(CaseReview.id).filter(CaseReview.scrutiny_grade == grade) for grade in SCRUTINY_GRADES),
        func.count(CaseReview.id).filter(CaseReview.scrutiny_grade.is_(None)),
        *(func.count(CaseReview.id).filter(CaseReview.risk_level == level) for level in RiskLevel),
        func.count(CaseReview.id).filter(CaseReview.risk_level.is_(None)),
        *(func.count(CaseReview.id).filter(column.is_(True)) for column in flag_columns),
    ]
    rows = db.session.execute(
        select(bucket, *columns)
        .select_from(CaseReview)
        .join(Meeting, Meeting.id == CaseReview.meeting_id)
        .where(Meeting.status.in_(HELD), _both_periods(Meeting.starts_at, period), case_review_scope(user))
        .group_by(bucket)
    ).all()
    by_bucket = {row[0]: list(row[1:]) for row in rows}
    width = len(columns)
    now, before = by_bucket.get(CURRENT, [0] * width), by_bucket.get(PREVIOUS, [0] * width)
    pairs = [Compared(a, b) for a, b in zip(now, before, strict=True)]
    meetings, reviews, repeats, *rest = pairs
    grade_labels = [f"{grade}: {label}" for grade, label in SCRUTINY_GRADES.items()] + ["Not graded"]
    risk_labels = [level.label for level in RiskLevel] + ["Not recorded"]
    grades, rest = rest[: len(grade_labels)], rest[len(grade_labels) :]
    risks, flags = rest[: len(risk_labels)], rest[len(risk_labels) :]
    # Partners: meetings counted are those where a review they may see was held.
    return ScrutinyFigures(
        meetings=meetings,
        reviews=reviews,
        repeats=repeats,
        repeat_rate_now=Share(repeats.now, reviews.now),
        repeat_rate_before=Share(repeats.before, reviews.before),
        grades=list(zip(grade_labels, grades, strict=True)),
        risks=list(zip(risk_labels, risks, strict=True)),
        flags=list(zip([label for _, label in RISK_FLAGS], flags, strict=True)),
    )


@dataclass
class ThemeFigures:
    name: str
    active: bool
    counts: Compared
    trend: list[int]  # reviews tagged per quarter, oldest first (the 8 quarters to the period's end)


@dataclass
class Themes:
    rows: list[ThemeFigures]  # every theme with a review in the period, the one before or the trend
    quarters: list[Period]

    @property
    def top(self) -> list[ThemeFigures]:
        """The five themes most often recorded in the period."""
        ranked = sorted((row for row in self.rows if row.counts.now), key=lambda row: (-row.counts.now, row.name))
        return ranked[:5]


def learning_themes(user: User, period: Period) -> Themes:
    """Reviews tagged with each theme: the period against the one before, and by quarter for 8 quarters."""
    quarters = quarters_ending_with(period)
    earliest = min(quarters[0].starts_at, period.previous().starts_at)
    latest = max(quarters[-1].ends_before, period.ends_before)
    quarter_index = case(
        *((Meeting.starts_at < quarter.ends_before, index) for index, quarter in enumerate(quarters)),
        else_=None,
    )
    in_quarters = Meeting.starts_at >= quarters[0].starts_at
    rows = db.session.execute(
        select(
            LearningTheme.name,
            LearningTheme.active,
            quarter_index.label("quarter"),
            func.count(CaseReview.id).filter(
                Meeting.starts_at >= period.starts_at, Meeting.starts_at < period.ends_before
            ),
            func.count(CaseReview.id).filter(
                Meeting.starts_at >= period.previous().starts_at, Meeting.starts_at < period.starts_at
            ),
            func.count(CaseReview.id).filter(in_quarters),
        )
        .select_from(CaseReview)
        .join(Meeting, Meeting.id == CaseReview.meeting_id)
        .join(case_review_themes, case_review_themes.c.case_review_id == CaseReview.id)
        .join(LearningTheme, LearningTheme.id == case_review_themes.c.theme_id)
        .where(
            Meeting.status.in_(HELD),
            Meeting.starts_at >= earliest,
            Meeting.starts_at < latest,
            case_review_scope(user),
        )
        .group_by(LearningTheme.name, LearningTheme.active, quarter_index)
    ).all()
    themes: dict[str, ThemeFigures] = {}
    for name, active, quarter, now, before, in_trend in rows:
        theme = themes.setdefault(name, ThemeFigures(name, active, Compared(0, 0), [0] * len(quarters)))
        theme.counts = Compared(theme.counts.now + now, theme.counts.before + before)
        if quarter is not None and in_trend:
            theme.trend[quarter] += in_trend
    ordered = sorted(themes.values(), key=lambda theme: (-theme.counts.now, -theme.counts.before, theme.name))
    return Themes(ordered, quarters)


@dataclass
class AgencyInvolvement:
    agency: Agency
    reviews: Compared


def agencies_involved(user: User, period: Period) -> list[AgencyInvolvement]:
    """How many reviewed cases each agency was involved in."""
    bucket = _bucket(Meeting.starts_at, period).label("bucket")
    visible = visible_agency_ids(user)
    query = (
        select(Agency, bucket, func.count(CaseReview.id))
        .select_from(CaseReview)
        .join(Meeting, Meeting.id == CaseReview.meeting_id)
        .join(case_review_agencies, case_review_agencies.c.case_review_id == CaseReview.id)
        .join(Agency, Agency.id == case_review_agencies.c.agency_id)
        .where(Meeting.status.in_(HELD), _both_periods(Meeting.starts_at, period), case_review_scope(user))
        .group_by(Agency.id, bucket)
    )
    if visible is not None:
        query = query.where(Agency.id.in_(visible))
    counts: dict[int, dict[int, int]] = {}
    agencies: dict[int, Agency] = {}
    for agency, which, count in db.session.execute(query):
        agencies[agency.id] = agency
        counts.setdefault(agency.id, {})[which] = count
    return sorted(
        (AgencyInvolvement(agencies[agency_id], _compared(by_bucket)) for agency_id, by_bucket in counts.items()),
        key=lambda row: (-row.reviews.now, row.agency.name),
    )


@dataclass
class AgencyAttendance:
    agency: Agency
    invited: Compared
    attended: Compared
    apologies: Compared

    @property
    def absent(self) -> Compared:
        return Compared(
            self.invited.now - self.attended.now - self.apologies.now,
            self.invited.before - self.attended.before - self.apologies.before,
        )

    @property
    def rate_now(self) -> Share:
        return Share(self.attended.now, self.invited.now)

    @property
    def rate_before(self) -> Share:
        return Share(self.attended.before, self.invited.before)


def attendance_by_agency(user: User, period: Period) -> list[AgencyAttendance]:
    """For each agency, the held meetings it was invited to, and whether someone came or sent apologies."""
    invited = meeting_invited_agencies
    present, apologised = aliased(Attendance), aliased(Attendance)
    came = exists().where(
        present.meeting_id == invited.c.meeting_id,
        present.agency_id == invited.c.agency_id,
        present.status == AttendanceStatus.PRESENT,
    )
    sent_apologies = exists().where(
        apologised.meeting_id == invited.c.meeting_id,
        apologised.agency_id == invited.c.agency_id,
        apologised.status == AttendanceStatus.APOLOGIES,
    )
    bucket = _bucket(Meeting.starts_at, period).label("bucket")
    query = (
        select(Agency, bucket, func.count(), func.count().filter(came), func.count().filter(~came, sent_apologies))
        .select_from(invited)
        .join(Meeting, Meeting.id == invited.c.meeting_id)
        .join(Agency, Agency.id == invited.c.agency_id)
        .where(Meeting.status.in_(HELD), _both_periods(Meeting.starts_at, period))
        .group_by(Agency.id, bucket)
    )
    visible = visible_agency_ids(user)
    if visible is not None:
        query = query.where(Agency.id.in_(visible))
    figures: dict[int, dict[int, tuple[int, int, int]]] = {}
    agencies: dict[int, Agency] = {}
    for agency, which, invited_count, attended, apologies in db.session.execute(query):
        agencies[agency.id] = agency
        figures.setdefault(agency.id, {})[which] = (invited_count, attended, apologies)
    rows = []
    for agency_id, by_bucket in figures.items():
        now, before = by_bucket.get(CURRENT, (0, 0, 0)), by_bucket.get(PREVIOUS, (0, 0, 0))
        rows.append(
            AgencyAttendance(
                agencies[agency_id],
                Compared(now[0], before[0]),
                Compared(now[1], before[1]),
                Compared(now[2], before[2]),
            )
        )
    return sorted(rows, key=lambda row: row.agency.name)


@dataclass
class AgencyAccountability:
    agency: Agency
    raised: Compared
    completed: Compared
    on_time: Compared
    open_at_end: Compared
    overdue_at_end: Compared
    extended: Compared
    days_added: Compared
    median_days: dict[int, float | None] = field(default_factory=dict)

    @property
    def on_time_now(self) -> Share:
        return Share(self.on_time.now, self.completed.now)

    @property
    def on_time_before(self) -> Share:
        return Share(self.on_time.before, self.completed.before)

    def median_text(self, which: int) -> str:
        value = self.median_days.get(which)
        return "–" if value is None else f"{value:g}"


def _median_days_to_complete(user: User, period: Period) -> dict[tuple[int, int], float]:
    """Median days from the meeting that raised an action to its completion, per agency and period,
    with window functions in SQL."""
    days = days_between(london_date(Action.closed_at), london_date(Meeting.starts_at))
    bucket = _bucket(Action.closed_at, period)
    # Closed actions of both periods, read by the closed_at index (the status is partitioned on, not
    # filtered on, so that no index by status can look the narrower to the planner).
    partition = [Action.owning_agency_id, bucket, Action.status]
    ranked = (
        select(
            Action.owning_agency_id.label("agency_id"),
            bucket.label("bucket"),
            Action.status.label("status"),
            days.label("days"),
            func.row_number().over(partition_by=partition, order_by=days).label("position"),
            func.count().over(partition_by=partition).label("total"),
        )
        .join(Meeting, Meeting.id == Action.meeting_id)
        .where(_both_periods(Action.closed_at, period), action_scope(user))
        .subquery()
    )
    # The middle row (odd count) or the mean of the two middle rows (even count).
    middle = ranked.c.position.between((ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2)
    rows = db.session.execute(
        select(ranked.c.agency_id, ranked.c.bucket, func.avg(ranked.c.days))
        .where(middle, ranked.c.status == ActionStatus.COMPLETED)
        .group_by(ranked.c.agency_id, ranked.c.bucket)
    )
    return {(agency_id, which): float(median) for agency_id, which, median in rows}


def accountability_by_agency(user: User, period: Period) -> list[AgencyAccountability]:
    """Actions raised, completed (on time against the original due date), open and overdue at the end
    of each period, and extensions agreed, by owning agency."""
    previous = period.previous()
    figures: dict[int, dict[str, dict[int, int]]] = {}

    def add(agency_id: int, name: str, which: int, value: int) -> None:
        figures.setdefault(agency_id, {}).setdefault(name, {})[which] = int(value or 0)

    # Each bucket expression is built once and used in both SELECT and GROUP BY: PostgreSQL matches
    # them by identity, bound parameters included.
    raised_in = _bucket(Meeting.starts_at, period)
    raised = db.session.execute(
        select(Action.owning_agency_id, raised_in, func.count(Action.id))
        .join(Meeting, Meeting.id == Action.meeting_id)
        .where(Meeting.status.in_(HELD), _both_periods(Meeting.starts_at, period), action_scope(user))
        .group_by(Action.owning_agency_id, raised_in)
    )
    for agency_id, which, count in raised:
        add(agency_id, "raised", which, count)

    completed_on = london_date(Action.closed_at)
    is_completed = Action.status == ActionStatus.COMPLETED
    closed_in = _bucket(Action.closed_at, period)
    completed = db.session.execute(
        select(
            Action.owning_agency_id,
            closed_in,
            func.count(Action.id).filter(is_completed),
            func.count(Action.id).filter(is_completed, completed_on <= Action.original_due_date),
        )
        # Closed in either period, from the closed_at index; completed (not cancelled) counted above.
        .where(_both_periods(Action.closed_at, period), action_scope(user))
        .group_by(Action.owning_agency_id, closed_in)
    )
    for agency_id, which, count, on_time in completed:
        add(agency_id, "completed", which, count)
        add(agency_id, "on_time", which, on_time)

    # Open at the end of a period: raised by then and not closed by then (whatever happened since).
    # Only actions open now or closed since the period ended can qualify: both are read from the
    # closed_at index, so the count does not grow with years of long-closed actions.
    # (An action cancelled after the period ended was open at its end, and counts.)
    for which, each in ((CURRENT, period), (PREVIOUS, previous)):
        end = min(each.last, london_today())
        not_closed_by_end = union_all(
            select(Action.id.label("id")).where(Action.closed_at.is_(None)),
            select(Action.id.label("id")).where(Action.closed_at >= each.ends_before),
        ).subquery()
        rows = db.session.execute(
            select(
                Action.owning_agency_id,
                func.count(Action.id),
                func.count(Action.id).filter(Action.due_date < end),
            )
            .join(not_closed_by_end, not_closed_by_end.c.id == Action.id)
            .join(Meeting, Meeting.id == Action.meeting_id)
            .where(Meeting.starts_at < each.ends_before, action_scope(user))
            .group_by(Action.owning_agency_id)
        )
        for agency_id, count, overdue in rows:
            add(agency_id, "open_at_end", which, count)
            add(agency_id, "overdue_at_end", which, overdue)

    decided_in = _bucket(ExtensionRequest.decided_at, period)
    extensions = db.session.execute(
        select(
            Action.owning_agency_id,
            decided_in,
            func.count(ExtensionRequest.id),
            func.sum(days_between(ExtensionRequest.requested_due_date, ExtensionRequest.current_due_date)),
        )
        .join(Action, Action.id == ExtensionRequest.action_id)
        .where(
            ExtensionRequest.status == ExtensionStatus.AGREED,
            _both_periods(ExtensionRequest.decided_at, period),
            action_scope(user),
        )
        .group_by(Action.owning_agency_id, decided_in)
    )
    for agency_id, which, count, days_added in extensions:
        add(agency_id, "extended", which, count)
        add(agency_id, "days_added", which, days_added)

    medians = _median_days_to_complete(user, period)
    agencies = {agency.id: agency for agency in db.session.scalars(select(Agency).where(Agency.id.in_(figures)))}
    names = ["raised", "completed", "on_time", "open_at_end", "overdue_at_end", "extended", "days_added"]
    accountability = []
    for agency_id, by_name in figures.items():
        counts = {name: _compared(by_name.get(name, {})) for name in names}
        accountability.append(
            AgencyAccountability(
                agencies[agency_id],
                **counts,
                median_days={which: medians.get((agency_id, which)) for which in (CURRENT, PREVIOUS)},
            )
        )
    return sorted(accountability, key=lambda row: row.agency.name)


@dataclass
class OverdueAction:
    action: Action
    days_overdue: int
    latest_update_at: object | None
    latest_update_note: str


def overdue_actions(user: User, *, limit: int) -> tuple[list[OverdueAction], int]:
    """Actions overdue today, most overdue first, each with its latest update (one query, no N+1)."""
    today = london_today()
    # The latest update of each listed action, looked up from the action_updates index row by row.
    update = aliased(ActionUpdate)
    latest = select(func.max(update.id)).where(update.action_id == Action.id).correlate(Action).scalar_subquery()
    overdue = and_(IS_OPEN, Action.due_date < today, action_scope(user))
    total = db.session.scalar(select(func.count(Action.id)).where(overdue)) or 0
    rows = db.session.execute(
        select(Action, ActionUpdate.at, ActionUpdate.note)
        .outerjoin(ActionUpdate, ActionUpdate.id == latest)
        .where(overdue)
        .order_by(Action.due_date, Action.id)
        .limit(limit)
    ).all()
    return [OverdueAction(action, (today - action.due_date).days, at, note or "") for action, at, note in rows], total


def headline(scrutiny: ScrutinyFigures, accountability: list[AgencyAccountability]) -> list[tuple[str, Compared]]:
    """The figures a board reads first."""

    def total(name: str) -> Compared:
        values = [getattr(row, name) for row in accountability]
        return Compared(sum(v.now for v in values), sum(v.before for v in values))

    return [
        ("Meetings held", scrutiny.meetings),
        ("Cases reviewed", scrutiny.reviews),
        ("Repeat cases", scrutiny.repeats),
        ("Actions raised", total("raised")),
        ("Actions completed", total("completed")),
        ("Completed on time", total("on_time")),
        ("Overdue at the end of the period", total("overdue_at_end")),
        ("Extensions agreed", total("extended")),
    ]

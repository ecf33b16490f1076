"""Reads for meetings, already scoped to the user by tracker.permissions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    Action,
    ActionUpdate,
    Agency,
    Attendance,
    AttendanceStatus,
    CaseReview,
    LearningTheme,
    Meeting,
    MeetingStatus,
    MinutesDocument,
    User,
)
from tracker.params import date_param
from tracker.permissions import (
    action_scope,
    can_see_action,
    can_see_feedback,
    case_review_scope,
    may_chair_condition,
    meeting_scope,
    redaction_for,
)
from tracker.timeutil import LONDON, london_today, utcnow


@dataclass(frozen=True)
class MeetingFilters:
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args) -> tuple[MeetingFilters, list[str]]:
        ignored = []
        status = args.get("status") or ""
        if status and status not in {s.value for s in MeetingStatus}:
            ignored.append("status")
            status = ""
        dates: dict[str, date | None] = {}
        for name in ("from", "to"):
            raw = (args.get(name) or "").strip()
            dates[name] = date_param(raw) if raw else None
            if raw and dates[name] is None:
                ignored.append(f"{name} date")
        if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
            ignored.append("date range (the start is after the end)")
            dates = {"from": None, "to": None}
        return cls(status=status, date_from=dates["from"], date_to=dates["to"]), ignored

    def as_args(self) -> dict:
        return {
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=LONDON)


def meetings_page(user: User, filters: MeetingFilters, page: int, per_page: int):
    """Upcoming meetings first (soonest first), then past ones (most recent first)."""
    now = utcnow()
    upcoming = Meeting.starts_at >= now
    query = (
        select(Meeting)
        .options(joinedload(Meeting.chair))
        .where(meeting_scope(user))
        .order_by(
            case((upcoming, 0), else_=1),
            case((upcoming, Meeting.starts_at), else_=None).asc(),
            Meeting.starts_at.desc(),
        )
    )
    if filters.status:
        query = query.where(Meeting.status == MeetingStatus(filters.status))
    if filters.date_from:
        query = query.where(Meeting.starts_at >= _london_midnight(filters.date_from))
    if filters.date_to:
        query = query.where(Meeting.starts_at < _london_midnight(filters.date_to + timedelta(days=1)))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def review_counts(meeting_ids: list[int]) -> dict[int, int]:
    if not meeting_ids:
        return {}
    rows = db.session.execute(
        select(CaseReview.meeting_id, func.count(CaseReview.id))
        .where(CaseReview.meeting_id.in_(meeting_ids))
        .group_by(CaseReview.meeting_id)
    )
    return dict(rows.all())


def meeting_for(user: User, meeting_id: int) -> Meeting | None:
    """The meeting, or None if it does not exist or is outside the user's scope (both are 404)."""
    return db.session.scalar(
        select(Meeting)
        .options(joinedload(Meeting.chair), selectinload(Meeting.invited_agencies))
        .where(Meeting.id == meeting_id, meeting_scope(user))
    )


def review_for(user: User, meeting: Meeting, review_id: int) -> CaseReview | None:
    return db.session.scalar(
        select(CaseReview)
        .options(joinedload(CaseReview.case), selectinload(CaseReview.agencies), selectinload(CaseReview.themes))
        .where(CaseReview.id == review_id, CaseReview.meeting_id == meeting.id, case_review_scope(user))
    )


@dataclass
class MatterArising:
    action: Action
    latest_update: ActionUpdate | None


@dataclass
class MeetingRecord:
    """What one reader sees of a meeting: the full record, or a partner agency's redacted copy.

    Built by meeting_record() alone; the meeting page, the minutes PDF and the redacted PDF all use it.
    """

    meeting: Meeting
    redacted_for: Agency | None  # None: the full record
    reviews: list[CaseReview]
    actions_by_review: dict[int, list[Action]]
    meeting_actions: list[Action]
    # Other agencies' actions, shown only as a count beside the actions they sit with (redacted copies).
    hidden_by_review: dict[int, int]
    hidden_meeting_actions: int
    hidden_on_other_reviews: int  # on cases the reader does not see: one count, after the cases
    attendance: list[Attendance]
    unrepresented: list[Agency]
    matters_arising: list[MatterArising]
    to_regrade: list[CaseReview] = field(default_factory=list)
    previous_meeting: Meeting | None = None
    next_meeting: Meeting | None = None
    # The next meeting's time and place are not sensitive: a redacted copy names it even when the
    # reader's agency has not attended it yet (next_meeting is then None: no link to a page they cannot see).
    next_meeting_when: Meeting | None = None
    show_feedback: bool = False

    @property
    def hidden_actions(self) -> int:
        return self.hidden_meeting_actions + sum(self.hidden_by_review.values()) + self.hidden_on_other_reviews


def _latest_updates(action_ids: list[int]) -> dict[int, ActionUpdate]:
    if not action_ids:
        return {}
    latest_ids = (
        select(func.max(ActionUpdate.id)).where(ActionUpdate.action_id.in_(action_ids)).group_by(ActionUpdate.action_id)
    )
    updates = db.session.scalars(
        select(ActionUpdate).options(joinedload(ActionUpdate.author)).where(ActionUpdate.id.in_(latest_ids))
    )
    return {update.action_id: update for update in updates}


def matters_arising(user: User, meeting: Meeting) -> list[MatterArising]:
    """Every action still open from earlier meetings: overdue first, then by due date."""
    today = london_today()
    actions = list(
        db.session.scalars(
            select(Action)
            .join(Meeting, Action.meeting_id == Meeting.id)
            .options(
                joinedload(Action.owning_agency),
                joinedload(Action.owner),
                joinedload(Action.meeting),
                joinedload(Action.case_review).joinedload(CaseReview.case),
            )
            .where(Action.status.in_(OPEN_STATUSES), Meeting.starts_at < meeting.starts_at, action_scope(user))
            .order_by(case((Action.due_date < today, 0), else_=1), Action.due_date, Action.id)
        ).unique()
    )
    latest = _latest_updates([action.id for action in actions])
    return [MatterArising(action, latest.get(action.id)) for action in actions]


def _neighbour(user: User, meeting: Meeting, later: bool) -> Meeting | None:
    condition = Meeting.starts_at > meeting.starts_at if later else Meeting.starts_at < meeting.starts_at
    order = Meeting.starts_at.asc() if later else Meeting.starts_at.desc()
    return db.session.scalar(
        select(Meeting)
        .where(condition, Meeting.status != MeetingStatus.CANCELLED, meeting_scope(user))
        .order_by(order)
        .limit(1)
    )


def meeting_record(reader: User, meeting: Meeting) -> MeetingRecord:
    """The one place that decides what ``reader`` sees of ``meeting`` (see MeetingRecord)."""
    reviews = list(
        db.session.scalars(
            select(CaseReview)
            .options(joinedload(CaseReview.case), selectinload(CaseReview.agencies), selectinload(CaseReview.themes))
            .where(CaseReview.meeting_id == meeting.id, case_review_scope(reader))
            .order_by(CaseReview.position)
        )
    )
    all_actions = db.session.scalars(
        select(Action)
        .options(joinedload(Action.owning_agency), joinedload(Action.owner))
        .where(Action.meeting_id == meeting.id)
        .order_by(Action.id)
    )
    visible_review_ids = {review.id for review in reviews}
    actions_by_review: dict[int, list[Action]] = defaultdict(list)
    hidden_by_review: dict[int, int] = defaultdict(int)
    meeting_actions: list[Action] = []
    hidden_meeting_actions = hidden_on_other_reviews = 0
    for action in all_actions:
        on_review = action.case_review_id
        if on_review is not None and on_review not in visible_review_ids:
            hidden_on_other_reviews += 1  # a case the reader does not see: counted, never described
        elif not can_see_action(reader, action):
            if on_review is None:
                hidden_meeting_actions += 1
            else:
                hidden_by_review[on_review] += 1
        elif on_review is None:
            meeting_actions.append(action)
        else:
            actions_by_review[on_review].append(action)

    attendance = list(
        db.session.scalars(
            select(Attendance)
            .options(joinedload(Attendance.agency), joinedload(Attendance.user))
            .where(Attendance.meeting_id == meeting.id)
            .order_by(Attendance.id)
        )
    )
    represented = {row.agency_id for row in attendance if row.status == AttendanceStatus.PRESENT}
    unrepresented = [agency for agency in meeting.invited_agencies if agency.id not in represented]

    previous_meeting = _neighbour(reader, meeting, later=False)
    to_regrade = []
    if previous_meeting is not None:
        to_regrade = list(
            db.session.scalars(
                select(CaseReview)
                .options(joinedload(CaseReview.case))
                .where(
                    CaseReview.meeting_id == previous_meeting.id,
                    CaseReview.scrutiny_grade == 4,
                    case_review_scope(reader),
                )
                .order_by(CaseReview.position)
            )
        )
    next_meeting = _neighbour(reader, meeting, later=True)
    return MeetingRecord(
        meeting=meeting,
        redacted_for=redaction_for(reader),
        reviews=reviews,
        actions_by_review=dict(actions_by_review),
        meeting_actions=meeting_actions,
        hidden_by_review=dict(hidden_by_review),
        hidden_meeting_actions=hidden_meeting_actions,
        hidden_on_other_reviews=hidden_on_other_reviews,
        attendance=attendance,
        unrepresented=unrepresented,
        matters_arising=matters_arising(reader, meeting),
        to_regrade=to_regrade,
        previous_meeting=previous_meeting,
        next_meeting=next_meeting,
        next_meeting_when=next_meeting or _next_scheduled(meeting),
        show_feedback=can_see_feedback(reader),
    )


def _next_scheduled(meeting: Meeting) -> Meeting | None:
    """The next meeting that is going ahead, whoever may open it (its time and place only)."""
    return db.session.scalar(
        select(Meeting)
        .where(Meeting.starts_at > meeting.starts_at, Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at.asc())
        .limit(1)
    )


def stored_minutes(meeting: Meeting) -> list[MinutesDocument]:
    """The approved revisions stored for this meeting, newest first (without their bytes)."""
    return list(
        db.session.scalars(
            select(MinutesDocument)
            .where(MinutesDocument.meeting_id == meeting.id)
            .order_by(MinutesDocument.revision.desc())
        )
    )


# Choices for the forms ----------------------------------------------------------------------


def chairs() -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.active.is_(True), may_chair_condition()).order_by(User.display_name))
    )


def active_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))


def active_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)))


def active_themes() -> list[LearningTheme]:
    return list(
        db.session.scalars(select(LearningTheme).where(LearningTheme.active.is_(True)).order_by(LearningTheme.name))
    )


def agencies_by_ids(ids) -> list[Agency]:
    ids = [i for i in ids or [] if i is not None]
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.name))) if ids else []


def themes_by_ids(ids) -> list[LearningTheme]:
    ids = [i for i in ids or [] if i is not None]
    return list(db.session.scalars(select(LearningTheme).where(LearningTheme.id.in_(ids)))) if ids else []


def user_by_id(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None


def agency_by_id(agency_id: int | None) -> Agency | None:
    return db.session.get(Agency, agency_id) if agency_id is not None else None


def attendance_row(meeting: Meeting, row_id: int) -> Attendance | None:
    return db.session.scalar(select(Attendance).where(Attendance.id == row_id, Attendance.meeting_id == meeting.id))

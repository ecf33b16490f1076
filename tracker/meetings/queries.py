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
    Case,
    CaseReview,
    LearningTheme,
    Meeting,
    MeetingStatus,
    Role,
    User,
)
from tracker.permissions import action_scope, case_review_scope, meeting_scope
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
        dates = {}
        for name in ("from", "to"):
            raw = (args.get(name) or "").strip()
            dates[name] = None
            if raw:
                try:
                    dates[name] = date.fromisoformat(raw)
                except ValueError:
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
class MeetingPage:
    meeting: Meeting
    reviews: list[CaseReview]
    actions_by_review: dict[int, list[Action]]
    meeting_actions: list[Action]
    hidden_actions: int  # actions of other agencies, for partners (shown as a count)
    attendance: list[Attendance]
    unrepresented: list[Agency]
    matters_arising: list[MatterArising]
    to_regrade: list[CaseReview] = field(default_factory=list)
    previous_meeting: Meeting | None = None
    next_meeting: Meeting | None = None


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


def matter_arising_for(user: User, meeting: Meeting, action_id: int) -> Action | None:
    """One action that is a matter arising at ``meeting`` (open, from an earlier meeting, in scope)."""
    return db.session.scalar(
        select(Action)
        .join(Meeting, Action.meeting_id == Meeting.id)
        .where(
            Action.id == action_id,
            Action.status.in_(OPEN_STATUSES),
            Meeting.starts_at < meeting.starts_at,
            action_scope(user),
        )
    )


def _neighbour(user: User, meeting: Meeting, later: bool) -> Meeting | None:
    condition = Meeting.starts_at > meeting.starts_at if later else Meeting.starts_at < meeting.starts_at
    order = Meeting.starts_at.asc() if later else Meeting.starts_at.desc()
    return db.session.scalar(
        select(Meeting)
        .where(condition, Meeting.status != MeetingStatus.CANCELLED, meeting_scope(user))
        .order_by(order)
        .limit(1)
    )


def meeting_page(user: User, meeting: Meeting) -> MeetingPage:
    reviews = list(
        db.session.scalars(
            select(CaseReview)
            .options(joinedload(CaseReview.case), selectinload(CaseReview.agencies), selectinload(CaseReview.themes))
            .where(CaseReview.meeting_id == meeting.id, case_review_scope(user))
            .order_by(CaseReview.position)
        )
    )
    all_actions = list(
        db.session.scalars(
            select(Action)
            .options(joinedload(Action.owning_agency), joinedload(Action.owner))
            .where(Action.meeting_id == meeting.id)
            .order_by(Action.id)
        )
    )
    visible_review_ids = {review.id for review in reviews}
    may_see = (
        (lambda action: True)
        if user.role != Role.PARTNER
        else (lambda action: action.owning_agency_id == user.agency_id)
    )
    actions_by_review: dict[int, list[Action]] = defaultdict(list)
    meeting_actions, hidden = [], 0
    for action in all_actions:
        if not may_see(action):
            hidden += 1
        elif action.case_review_id is None:
            meeting_actions.append(action)
        elif action.case_review_id in visible_review_ids:
            actions_by_review[action.case_review_id].append(action)

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

    previous_meeting = _neighbour(user, meeting, later=False)
    to_regrade = []
    if previous_meeting is not None:
        to_regrade = list(
            db.session.scalars(
                select(CaseReview)
                .options(joinedload(CaseReview.case))
                .where(
                    CaseReview.meeting_id == previous_meeting.id,
                    CaseReview.scrutiny_grade == 4,
                    case_review_scope(user),
                )
                .order_by(CaseReview.position)
            )
        )
    return MeetingPage(
        meeting=meeting,
        reviews=reviews,
        actions_by_review=dict(actions_by_review),
        meeting_actions=meeting_actions,
        hidden_actions=hidden,
        attendance=attendance,
        unrepresented=unrepresented,
        matters_arising=matters_arising(user, meeting),
        to_regrade=to_regrade,
        previous_meeting=previous_meeting,
        next_meeting=_neighbour(user, meeting, later=True),
    )


@dataclass
class CaseHistory:
    previous_reviews: list[CaseReview]
    open_actions: list[Action]


def case_history(
    user: User, case_id: int, *, before: datetime | None = None, exclude_review_id: int | None = None
) -> CaseHistory:
    """Earlier reviews of a case the user may see, and its open actions, for the review page."""
    query = (
        select(CaseReview)
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .options(joinedload(CaseReview.meeting))
        .where(CaseReview.case_id == case_id, case_review_scope(user), Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at.desc())
    )
    if before is not None:
        query = query.where(Meeting.starts_at < before)
    if exclude_review_id is not None:
        query = query.where(CaseReview.id != exclude_review_id)
    reviews = list(db.session.scalars(query))
    open_actions = list(
        db.session.scalars(
            select(Action)
            .join(CaseReview, Action.case_review_id == CaseReview.id)
            .options(joinedload(Action.owning_agency), joinedload(Action.owner))
            .where(CaseReview.case_id == case_id, Action.status.in_(OPEN_STATUSES), action_scope(user))
            .order_by(Action.due_date)
        )
    )
    return CaseHistory(reviews, open_actions)


# Choices for the forms ----------------------------------------------------------------------


def chairs() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_([Role.CHAIR, Role.ADMIN]))
            .order_by(User.display_name)
        )
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


def case_by_reference(reference: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.reference == reference))

"""Reads for meetings, already scoped to the user by tracker.permissions."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple, cast

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    Boolean,
    Date,
    Row,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased, contains_eager, joinedload

from tracker.actions.queries import LATEST_UPDATE_ID
from tracker.extensions import db, read_rows
from tracker.models import (
    IS_OPEN,
    OPEN_STATUSES,
    Action,
    ActionStatus,
    ActionUpdate,
    Agency,
    AgencyReturn,
    Attendance,
    AttendanceStatus,
    Case,
    CaseReview,
    LearningTheme,
    Meeting,
    MeetingRole,
    MeetingStatus,
    MinutesDocument,
    ReviewProgress,
    User,
)
from tracker.models.case import ReviewState, RiskLevel, case_review_agencies, case_review_themes
from tracker.models.meeting import meeting_invited_agencies
from tracker.paging import PAGE_LIMIT, PAGE_OFFSET, StatementPage
from tracker.params import date_param, id_param
from tracker.permissions import (
    Reader,
    action_owner_condition,
    action_scope,
    agency_officer_condition,
    attendee_condition,
    can_see_action,
    can_see_feedback,
    case_review_scope,
    may_chair_condition,
    may_see_agency,
    meeting_scope,
    meetings_in_scope_counted,
    redaction_for,
    returns_scope,
    sees_every_agency,
    statement_per_reader,
)
from tracker.sqlfunctions import OuterLoopJoin
from tracker.timeutil import LONDON, london_midnight, london_today, utcnow


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


# Pages show a meeting's chair by name only.
_CHAIR_NAME = joinedload(Meeting.chair).load_only(User.display_name).lazyload(User.agency)


def _meetings_listed(conditions: list) -> tuple:
    """Meetings meeting ``conditions`` in two parts, each read along the start-time index and stopping
    at its page: the upcoming ones (soonest first) and the past ones (most recent first), relative to
    the bound ``now``; and how many are upcoming. (Ordered as one list, every meeting in the reader's
    scope was read and sorted: 520 of them, each checked against a partner's scope, ten years on.)"""
    now = bindparam("now", type_=Meeting.starts_at.type)
    listed = select(Meeting).options(_CHAIR_NAME).where(*conditions).limit(PAGE_LIMIT).offset(PAGE_OFFSET)
    upcoming = listed.where(Meeting.starts_at >= now).order_by(Meeting.starts_at.asc(), Meeting.id.asc())
    past = listed.where(Meeting.starts_at < now).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    return upcoming, past, select(func.count(Meeting.id)).where(*conditions, Meeting.starts_at >= now)


class MeetingsPage(StatementPage):
    """A page of the meetings list: upcoming meetings first (soonest first), then past ones (most recent
    first). The page is read from the upcoming ones, then, when it runs past them, from the past ones.
    Without a count statement (a partner's list: see meetings_page) it reads one meeting more than the
    page, to know whether there is a next page, and pages by previous and next links only."""

    _more = False

    @property
    def has_next(self) -> bool:
        return self._more if self.total is None else super().has_next

    def _query_items(self) -> list:
        (upcoming, past, upcoming_counted), count, parameters = self._statements
        offset, limit = self._query_offset, self.per_page + (1 if count is None else 0)
        upcoming_offset: int | None = 0  # the first page starts with the upcoming ones, however many
        past_offset = 0
        if offset:  # a later page: where it starts depends on how many are upcoming
            ahead = db.session.scalar(upcoming_counted, parameters) or 0
            upcoming_offset, past_offset = (offset, 0) if offset < ahead else (None, offset - ahead)
        items: list[Meeting] = []
        if upcoming_offset is not None:
            page = {"page_limit": limit, "page_offset": upcoming_offset}
            items = list(db.session.scalars(upcoming, {**parameters, **page}))
        if len(items) < limit:
            page = {"page_limit": limit - len(items), "page_offset": past_offset}
            items += db.session.scalars(past, {**parameters, **page})
        self._more = len(items) > self.per_page
        return items[: self.per_page]


# The unfiltered list, the one most asked for, is built once per reader.
@statement_per_reader
def _visible_meetings(reader: Reader):
    return _meetings_listed([meeting_scope(reader)])


@statement_per_reader
def _visible_meetings_counted(reader: Reader):
    return meetings_in_scope_counted(reader)


def meetings_page(user: User, filters: MeetingFilters, page: int, per_page: int) -> MeetingsPage:
    """Upcoming meetings first (soonest first), then past ones (most recent first).

    A partner's list is not counted: whether a partner may see a meeting is asked of each meeting (did
    its agency attend, or is one of its cases on the published agenda?), so counting them asked it of
    every meeting in history (520 at ten years: 4.6 ms on PostgreSQL, and growing each week). It pages
    by previous and next links, as the case list does. A chair's or manager's count asks nothing of
    each meeting."""
    counted = sees_every_agency(user)
    if filters == MeetingFilters():
        items, count = _visible_meetings(user), _visible_meetings_counted(user) if counted else None
    else:
        conditions = []
        if filters.status:
            conditions.append(Meeting.status == MeetingStatus(filters.status))
        if filters.date_from:
            conditions.append(Meeting.starts_at >= london_midnight(filters.date_from))
        if filters.date_to:
            conditions.append(Meeting.starts_at < london_midnight(filters.date_to + timedelta(days=1)))
        items = _meetings_listed([meeting_scope(user), *conditions])
        count = meetings_in_scope_counted(user, *conditions) if counted else None
    return MeetingsPage(items, count, {"now": utcnow()}, page=page, per_page=per_page)


@statement_per_reader
def _review_counts(reader: Reader):
    return (
        select(CaseReview.meeting_id, func.count(CaseReview.id))
        .where(CaseReview.meeting_id.in_(bindparam("meeting_ids", expanding=True)), case_review_scope(reader))
        .group_by(CaseReview.meeting_id)
    )


def review_counts(reader: User, meeting_ids: list[int]) -> dict[int, int]:
    """How many of each meeting's cases ``reader`` may see (a partner: only its agency's)."""
    if not meeting_ids:
        return {}
    return dict(read_rows(_review_counts(reader), {"meeting_ids": meeting_ids}).all())


@statement_per_reader
def _meeting_statement(reader: Reader):
    return select(Meeting).options(_CHAIR_NAME).where(Meeting.id == bindparam("meeting_id"), meeting_scope(reader))


@statement_per_reader
def _meeting_with_page_details(reader: Reader):
    return (
        select(Meeting)
        .options(_CHAIR_NAME, joinedload(Meeting.minutes_documents))
        .where(Meeting.id == bindparam("meeting_id"), meeting_scope(reader))
    )


# The start of the next meeting going ahead after the outer query's, whoever may see it (matters arising
# are those due by then).
_FOLLOWING = aliased(Meeting, name="following")
_NEXT_START = (
    select(_FOLLOWING.starts_at)
    .where(_FOLLOWING.starts_at > Meeting.starts_at, _FOLLOWING.status != MeetingStatus.CANCELLED)
    .order_by(_FOLLOWING.starts_at.asc())
    .limit(1)
    .correlate(Meeting)
    .scalar_subquery()
)


# That start alone, for a meeting already read (the minutes' matters arising).
_NEXT_START_OF = select(_NEXT_START).where(Meeting.id == bindparam("meeting_id"))


# The first case on the agenda that the reader may see, joined to the meeting under names of its own
# (the scope rules' subqueries name CaseReview itself).
_FIRST_REVIEW = aliased(CaseReview, name="first_review")
_FIRST_CASE = aliased(Case, name="first_case")


def _first_on_agenda(reader: Reader):
    """The id of the first case on the outer meeting's agenda that ``reader`` may see (NULL if none)."""
    return (
        select(CaseReview.id)
        .where(CaseReview.meeting_id == Meeting.id, case_review_scope(reader))
        .order_by(CaseReview.position)
        .limit(1)
        .correlate(Meeting)
        .scalar_subquery()
    )


@statement_per_reader
def _matters_meeting_statement(reader: Reader):
    return (
        select(Meeting, _NEXT_START, _FIRST_REVIEW.id, _FIRST_CASE.reference)
        .select_from(Meeting)
        # The meeting's own reviews first (by their index): given the subquery alone, PostgreSQL read
        # every review in history to find the one for a partner.
        .outerjoin(
            _FIRST_REVIEW, and_(_FIRST_REVIEW.meeting_id == Meeting.id, _FIRST_REVIEW.id == _first_on_agenda(reader))
        )
        .outerjoin(_FIRST_CASE, _FIRST_CASE.id == _FIRST_REVIEW.case_id)
        .options(_CHAIR_NAME)
        .where(Meeting.id == bindparam("meeting_id"), meeting_scope(reader))
    )


class ReviewRef(NamedTuple):
    """A case review as a link names it: its id and its case's reference."""

    id: int
    reference: str


class MattersMeeting(NamedTuple):
    meeting: Meeting
    following_starts_at: datetime | None  # the next meeting going ahead: matters arising are due by then
    first_review: ReviewRef | None  # the first case on the agenda the reader may see, where the page ends


def matters_meeting(user: User, meeting_id: int) -> MattersMeeting | None:
    """What matters arising reads of its meeting (None as meeting_for), in one statement (each one a
    round trip on PostgreSQL): the meeting, the start of the next one going ahead and the first case."""
    row = db.session.execute(_matters_meeting_statement(user), {"meeting_id": meeting_id}).first()
    if row is None:
        return None
    meeting, following_starts_at, first_id, first_reference = row
    first = ReviewRef(first_id, first_reference) if first_id is not None else None
    return MattersMeeting(meeting, following_starts_at, first)


def meeting_for(user: User, meeting_id: int, *, with_page_details: bool = False) -> Meeting | None:
    """The meeting, or None if it does not exist or is outside the user's scope (both are 404).

    ``with_page_details``: with its stored minutes, which the meeting page lists, in the same statement
    (otherwise they load when a page needs them). The page reads the invited agencies as rows
    (meeting_record): fifteen Agency entities joined here cost it about 0.3 ms."""
    statement = (_meeting_with_page_details if with_page_details else _meeting_statement)(user)
    return db.session.execute(statement, {"meeting_id": meeting_id}).unique().scalar()


# The agencies involved in a review, joined under names of their own: the partner scope's subqueries
# name theirs apart, and these must not be mistaken for them (or they for these).
_INVOLVED_LINK = case_review_agencies.alias("involved_link")
_INVOLVED = aliased(Agency, name="involved")


def _reviews_in_full(*conditions):
    """Case reviews meeting ``conditions`` with their case, themes and agencies, in one statement: what
    the review page and the minutes show of each. Callers order by the theme's name, then the agency's
    (_IN_NAME_ORDER), so that each collection is in name order. (A review has a few of each.)"""
    return (
        select(CaseReview)
        .outerjoin(case_review_themes, case_review_themes.c.case_review_id == CaseReview.id)
        .outerjoin(LearningTheme, LearningTheme.id == case_review_themes.c.theme_id)
        .outerjoin(_INVOLVED_LINK, _INVOLVED_LINK.c.case_review_id == CaseReview.id)
        .outerjoin(_INVOLVED, _INVOLVED.id == _INVOLVED_LINK.c.agency_id)
        .options(
            joinedload(CaseReview.case),
            contains_eager(CaseReview.themes),
            contains_eager(CaseReview.agencies.of_type(_INVOLVED)),
        )
        .where(*conditions)
    )


_IN_NAME_ORDER = (LearningTheme.name, _INVOLVED.name)


@statement_per_reader
def _review_statement(reader: Reader):
    return _reviews_in_full(
        CaseReview.id == bindparam("review_id"),
        CaseReview.meeting_id == bindparam("meeting_id"),
        case_review_scope(reader),
    ).order_by(*_IN_NAME_ORDER)


def review_for(user: User, meeting: Meeting, review_id: int) -> CaseReview | None:
    parameters = {"review_id": review_id, "meeting_id": meeting.id}
    return db.session.execute(_review_statement(user), parameters).unique().scalar()


@dataclass
class MatterArising:
    action: Action
    latest_update: ActionUpdate | None
    as_at: ActionAsAt | None = None  # in the minutes: the action as it stood at the meeting


@dataclass(frozen=True)
class MatterRow:
    """A matter arising as its page's row shows it: the columns the row needs, read in one statement,
    rather than the action and five related records with their latest update (a page has 25 rows)."""

    id: int
    description: str
    status: ActionStatus
    due_date: date
    version: int
    owning_agency_id: int
    agency_name: str
    owner_name: str | None
    raised_on: datetime  # the start of the meeting that raised it
    case_reference: str | None
    latest_at: datetime | None
    latest_note: str | None
    latest_author: str | None

    @property
    def reference(self) -> str:
        return Action.reference_for(self.id)


@dataclass(frozen=True)
class ActionAsAt:
    """An action as it stood on a meeting's date: what its minutes record (the trail gives the rest)."""

    status: ActionStatus
    due_date: date
    on: date

    @property
    def overdue(self) -> bool:
        return self.status in OPEN_STATUSES and self.due_date < self.on

    @property
    def label(self) -> str:
        return "Overdue" if self.overdue else self.status.label


def record_moment(meeting: Meeting) -> tuple[date, datetime]:
    """The day a meeting's minutes speak for, and the end of that day (London), their cut-off."""
    day = meeting.starts_at.astimezone(LONDON).date()
    return day, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)


def actions_as_at(actions: list[Action], on: date, moment: datetime) -> dict[int, ActionAsAt]:
    """Each action's status and due date at ``moment``: today's values, with every change recorded in
    the update trail after ``moment`` undone (newest first). One query, however many actions."""
    state: dict[int, tuple[ActionStatus, date]] = {action.id: (action.status, action.due_date) for action in actions}
    if state:
        later_changes = db.session.execute(
            select(ActionUpdate.action_id, ActionUpdate.status_from, ActionUpdate.due_from)
            .where(ActionUpdate.action_id.in_(list(state)), ActionUpdate.at >= moment)
            .where(or_(ActionUpdate.status_from.is_not(None), ActionUpdate.due_from.is_not(None)))
            .order_by(ActionUpdate.id.desc())
        )
        for action_id, status_from, due_from in later_changes:
            status, due = state[action_id]
            state[action_id] = (status_from or status, due_from or due)
    return {action_id: ActionAsAt(status, due, on) for action_id, (status, due) in state.items()}


@dataclass(frozen=True)
class CaseTask:
    """One case on the chair's task list, worked out once here rather than in the template's loop."""

    review: ReviewLine
    progress: ReviewProgress
    actions: int
    agency_codes: str
    theme_names: str
    missing_returns: str  # codes of the agencies asked for their information that have not sent it


class AgencyTag(NamedTuple):
    """An agency as a page names it, read as a row: involved in a case, invited to a meeting, a form's
    choice, an attendance line's agency."""

    id: int
    code: str
    name: str


@dataclass(eq=False)
class ReviewLine(ReviewState):
    """A case review as the meeting page and the approval check show it, read as rows rather than
    entities: its columns, its case's reference, the agencies involved (by name) and its themes' names.
    (Entities for a meeting's twenty cases, with their cases, themes and agencies, cost more than the
    rest of the page.) The minutes, which show each review in full, read the entities."""

    meeting: Meeting
    id: int
    position: int
    case_reference: str
    dash_score: int | None
    risk_level: RiskLevel | None
    scrutiny_grade: int | None
    is_repeat: bool
    summary: str
    findings: str
    feedback_to_officer: str  # always "" for a reader who may not see it: the column is not even read
    agencies: list[AgencyTag] = field(default_factory=list)
    theme_names: list[str] = field(default_factory=list)


class ActionLine(NamedTuple):
    """An action as the meeting page lists or counts it (its reference, agency, due date, description)."""

    id: int
    case_review_id: int | None
    owning_agency_id: int
    description: str
    due_date: date
    status: ActionStatus
    agency_code: str

    @property
    def reference(self) -> str:
        return Action.reference_for(self.id)


class MeetingRef(NamedTuple):
    """Another meeting as a meeting's page and minutes name it: when and where, and its id for a link."""

    id: int
    starts_at: datetime
    location: str


class RegradeLine(NamedTuple):
    """A case review of the previous meeting that reached no conclusion (grade 4), to be re-scored."""

    id: int
    meeting_id: int
    case_reference: str


@dataclass
class MeetingRecord:
    """What one reader sees of a meeting: the full record, or a partner agency's redacted copy.

    Built by meeting_record() alone; the meeting page, the minutes PDF and the redacted PDF all use it.
    """

    meeting: Meeting
    redacted_for: Agency | None  # None: the full record
    # The minutes read entities (CaseReview, Action), shown in full; the meeting page and the approval
    # check read lines (ReviewLine, ActionLine), the columns they show.
    reviews: list[CaseReview | ReviewLine]
    actions_by_review: dict[int, list[Action | ActionLine]]
    meeting_actions: list[Action | ActionLine]
    # Other agencies' actions, shown only as a count beside the actions they sit with (redacted copies).
    hidden_by_review: dict[int, int]
    hidden_meeting_actions: int
    hidden_on_other_reviews: int  # on cases the reader does not see: one count, after the cases
    attendance: list[Attendance] | list[AttendedLine]
    invited: Sequence[Agency | AgencyTag]  # the minutes read the meeting's Agency entities; the page, rows
    unrepresented: list[Agency | AgencyTag]
    # The chair's and manager's meeting page alone shows them (meeting_record(..., with_matters_counts=True)):
    # counting the open actions of all history is not done for pages that do not show the figures.
    matters_counts: MattersCounts | None
    # Pre-meeting information: review id -> agency id -> when it returned (a partner sees only its own).
    returns: dict[int, dict[int, ReturnLine]]
    returning_agency_ids: set[int]  # agencies with partner officers, who can send their information
    matters_arising: list[MatterArising] = field(default_factory=list)  # the full list: minutes only
    to_regrade: list[RegradeLine] = field(default_factory=list)
    previous_meeting: MeetingRef | None = None
    next_meeting: MeetingRef | None = None
    # The next meeting's time and place are not sensitive: a redacted copy names it even when the
    # reader's agency has not attended it yet (next_meeting is then None: no link to a page they cannot see).
    next_meeting_when: MeetingRef | None = None
    show_feedback: bool = False
    # In the minutes: each of the meeting's own actions as it stood on the meeting's date.
    action_states: dict[int, ActionAsAt] = field(default_factory=dict)

    def as_at(self, action: Action) -> ActionAsAt:
        """The action as the minutes record it: at the meeting's date (today's state off the minutes)."""
        state = self.action_states.get(action.id)
        return state if state is not None else ActionAsAt(action.status, action.due_date, london_today())

    @property
    def present(self) -> int:
        return sum(1 for row in self.attendance if row.status == AttendanceStatus.PRESENT)

    @property
    def apologies(self) -> int:
        return sum(1 for row in self.attendance if row.status == AttendanceStatus.APOLOGIES)

    @property
    def general_notes(self) -> str | None:
        """Free text about the whole meeting may mention any case: not in an agency's redacted copy."""
        return None if self.redacted_for else self.meeting.general_notes

    @property
    def any_other_business(self) -> str | None:
        return None if self.redacted_for else self.meeting.any_other_business

    def attendee(self, row: Attendance) -> tuple[str, str]:
        """A line's name and whom they deputised for: in a redacted copy, only for the reader's own agency."""
        if self.redacted_for is None or row.agency_id == self.redacted_for.id:
            return row.name, row.deputy_for
        return "", ""

    def actions_for(self, review: CaseReview | ReviewLine) -> list[Action | ActionLine]:
        return self.actions_by_review.get(review.id, [])

    def expected_returns(self, review: CaseReview | ReviewLine) -> list[Agency | AgencyTag]:
        """The involved agencies asked for their information: those with partner officers to send it."""
        return [agency for agency in review.agencies if agency.id in self.returning_agency_ids]

    def missing_returns(self, review: CaseReview | ReviewLine) -> list[Agency | AgencyTag]:
        """Agencies asked for their information on this case that have not sent it yet."""
        returned = self.returns.get(review.id, {})
        return [agency for agency in self.expected_returns(review) if agency.id not in returned]

    def regrade_lines(self) -> list[tuple[RegradeLine, int | None]]:
        """Each case of the previous meeting to re-score, with its review on this agenda, or None if it
        is not on it yet (the meeting page's record: reviews read as lines)."""
        on_agenda = {review.case_reference: review.id for review in cast("list[ReviewLine]", self.reviews)}
        return [(line, on_agenda.get(line.case_reference)) for line in self.to_regrade]

    def case_tasks(self) -> list[CaseTask]:
        """The meeting page's cases (a record read with lines: not the minutes')."""
        published = self.meeting.agenda_published_at is not None
        lines = cast("list[ReviewLine]", self.reviews)
        return [
            CaseTask(
                review=review,
                progress=review.progress,
                actions=len(self.actions_by_review.get(review.id, ())),
                agency_codes=", ".join(agency.code for agency in review.agencies),
                theme_names=", ".join(review.theme_names),
                missing_returns=", ".join(agency.code for agency in self.missing_returns(review)) if published else "",
            )
            for review in lines
        ]

    @property
    def returns_received(self) -> tuple[int, int]:
        """Agency information received, and asked for, over the whole agenda."""
        expected = sum(len(self.expected_returns(review)) for review in self.reviews)
        return sum(len(self.returns.get(review.id, {})) for review in self.reviews), expected

    @property
    def hidden_actions(self) -> int:
        return self.hidden_meeting_actions + sum(self.hidden_by_review.values()) + self.hidden_on_other_reviews


def _latest_updates(action_ids: list[int], by: datetime | None = None) -> dict[int, ActionUpdate]:
    """Each action's latest update (made before ``by``, when given)."""
    if not action_ids:
        return {}
    latest_ids = select(func.max(ActionUpdate.id)).where(ActionUpdate.action_id.in_(action_ids))
    if by is not None:
        latest_ids = latest_ids.where(ActionUpdate.at < by)
    latest_ids = latest_ids.group_by(ActionUpdate.action_id)
    updates = db.session.scalars(
        select(ActionUpdate)
        # An update shows its author's name only.
        .options(joinedload(ActionUpdate.author).load_only(User.display_name).lazyload(User.agency))
        .where(ActionUpdate.id.in_(latest_ids))
    )
    return {update.action_id: update for update in updates}


# Matters arising -------------------------------------------------------------------------
# Open actions raised at earlier meetings that are overdue or fall due by the next meeting. The
# rest (due later) are one click away in the actions list, so the page stays bounded however much
# history there is.

MATTER_STATUSES = {"": "Open or in progress", "open": "Open", "in_progress": "In progress"}


@dataclass(frozen=True)
class MattersFilter:
    agency_id: int | None = None
    overdue: bool = False
    status: str = ""

    @classmethod
    def parse(cls, args, reader: User) -> MattersFilter:
        """Filters that make no sense are dropped (this is a working list, not a document)."""
        agency_id = id_param(str(args.get("agency") or ""))
        if agency_id is not None and not may_see_agency(reader, agency_id):
            agency_id = None
        status = str(args.get("status") or "")
        return cls(
            agency_id=agency_id,
            overdue=str(args.get("overdue") or "") in ("1", "on", "y"),
            status=status if status in MATTER_STATUSES else "",
        )

    def as_args(self) -> dict:
        args = {"agency": self.agency_id or "", "overdue": "1" if self.overdue else "", "status": self.status}
        return {key: value for key, value in args.items() if value}


@dataclass(frozen=True)
class MattersCounts:
    to_review: int  # overdue or due by the next meeting
    overdue: int
    later: int  # open, but due after the next meeting
    due_by: date


def matters_due_by(meeting: Meeting) -> date:
    """Due by the next meeting that is going ahead, or within a week when none is scheduled."""
    following = read_rows(_NEXT_START_OF, {"meeting_id": meeting.id}).scalar()
    return matters_due_on(meeting, following)


def _due_by(meeting: Meeting, following: MeetingRef | None) -> date:
    return matters_due_on(meeting, following.starts_at if following is not None else None)


def matters_due_on(meeting: Meeting, following_starts_at: datetime | None) -> date:
    """Due by the start of the next meeting going ahead (``following_starts_at``), or within a week."""
    anchor = following_starts_at if following_starts_at is not None else meeting.starts_at + timedelta(days=7)
    return anchor.astimezone(LONDON).date()


def _open_from_earlier_meetings(reader: User | Reader):
    """Open actions in the reader's scope raised at meetings before the bound ``meeting_starts_at``.

    Asked as "not raised at this meeting or a later one": for a recent meeting that is a list of a few
    meetings, where the list of earlier ones holds nearly every meeting in history (built for each
    count: 0.15 ms a count at ten years on SQLite, against 0.04). An action's meeting is never NULL."""
    since = select(Meeting.id).where(Meeting.starts_at >= bindparam("meeting_starts_at", type_=Meeting.starts_at.type))
    # "+ 0" keeps the planner off the meeting_id index: the actions of every earlier meeting are nearly
    # all of history. Open actions come from their own indexes. (SQLite with statistics chose the
    # meeting_id index, and took 10-25 ms at ten years.)
    return (IS_OPEN, (Action.meeting_id + 0).not_in(since), action_scope(reader))


# The same test of each action's meeting, asked row by row (its meeting by primary key): a page reads
# a few dozen open actions agency by agency, and asks it of each. Asked as IN (earlier meetings),
# PostgreSQL's generic plan first joined every open action in history to the meetings (1.5 ms at ten
# years, growing), then chose the page.
_actions_meeting_start = (
    select(Meeting.starts_at).where(Meeting.id == Action.meeting_id).correlate(Action).scalar_subquery()
)
_RAISED_BEFORE_THE_MEETING = _actions_meeting_start < bindparam("meeting_starts_at", type_=Meeting.starts_at.type)


# What matters arising lists: overdue (due before today), or due by the next meeting. As one range up
# to the bound ``review_until`` (_matters_values), so the index reads it as one (an OR made SQLite scan
# the index twice and merge).
_TO_REVIEW = Action.due_date <= bindparam("review_until", type_=Date)
_TODAY = bindparam("today", type_=Date)


def _matters_values(meeting: Meeting, due_by: date) -> dict:
    today = london_today()
    return {
        "meeting_starts_at": meeting.starts_at,
        "today": today,
        "review_until": max(due_by, today - timedelta(days=1)),
    }


@statement_per_reader
def _matters_counted(reader: Reader):
    """Four counts from which matters_arising_counts works out the rest, none of which tests each open
    action's due date and meeting (thousands of open actions ten years on, nearly all overdue: that
    took 2 ms at ten years on SQLite):
    - every open action in scope, counted from an index of open actions alone;
    - those raised at the meeting or since: for a recent meeting a few meetings' worth (the chair's
      from the open actions index by meeting, a partner's from its agency's); the difference is
      those raised before the meeting;
    - of those raised before, the ones due after the matters arising date, and the ones not yet
      overdue: the far end of the open actions index by due date, a few hundred at most.
    (For a meeting years back the second count reads most open actions: still correct, and no
    slower than before.)"""
    in_scope = (IS_OPEN, action_scope(reader))
    # Meeting by meeting since, each one's open actions counted from their index (PostgreSQL's generic
    # plan otherwise joined every open action to the meetings since, however few they were), a
    # partner's agency tested on each: offered its agency's index, SQLite read all the agency's open
    # actions once for each meeting (0.2 ms at ten years, against 0.05).
    at_each = (
        select(func.count())
        .select_from(Action)
        .where(Action.meeting_id == Meeting.id, IS_OPEN, action_scope(reader, by_agency_index=False))
    )
    raised_since = (
        select(func.coalesce(func.sum(at_each.correlate(Meeting).scalar_subquery()), 0))
        .where(Meeting.starts_at >= bindparam("meeting_starts_at", type_=Meeting.starts_at.type))
        .scalar_subquery()
    )
    earlier = _open_from_earlier_meetings(reader)
    return select(
        _counted(*in_scope),
        raised_since,
        _counted(*earlier, ~_TO_REVIEW),
        _counted(*earlier, Action.due_date >= _TODAY),
    )


def _counted(*conditions):
    return select(func.count()).select_from(Action).where(*conditions).scalar_subquery()


def matters_arising_counts(reader: User, meeting: Meeting, due_by: date | None = None) -> MattersCounts:
    due_by = due_by or matters_due_by(meeting)
    values = _matters_values(meeting, due_by)
    in_scope, raised_since, later, not_overdue = read_rows(_matters_counted(reader), values).one()
    every = in_scope - raised_since
    return MattersCounts(to_review=every - later, overdue=every - not_overdue, later=later, due_by=due_by)


def _matters_conditions(reader: Reader, shape: tuple) -> list:
    """What makes an open action a matter arising a filter of ``shape`` selects."""
    agency, overdue, status = shape
    conditions = [IS_OPEN, _RAISED_BEFORE_THE_MEETING, action_scope(reader), _TO_REVIEW]
    if agency:
        conditions.append(Action.owning_agency_id == bindparam("agency_id"))
    if overdue:
        conditions.append(Action.due_date < _TODAY)
    if status:
        conditions.append(Action.status == bindparam("status", type_=Action.status.type))
    return conditions


def _matters_selection(reader: Reader, shape: tuple):
    """The ids of the matters arising a filter of ``shape`` selects, in the page's order: by agency, then
    by due date (so overdue first). A page's rows are read with it (_matters_page_rows), except every
    agency's on PostgreSQL (_matters_selected_for_postgresql); it is what they are counted by."""
    agency = shape[0]
    if agency or not sees_every_agency(reader):
        # One agency's (the one filtered on, or a partner's own): its open actions in due date order,
        # from its index, the first page read and the reading stopped.
        query = select(Action.id).order_by(Action.due_date, Action.id)
    else:
        # Agency by agency, in name order, each agency's open actions read in due date order from their
        # index: the first page is read and the reading stops (sorting every open action took 1.6 ms at
        # ten years on SQLite, and grew with each overdue action).
        query = select(Action.id).select_from(
            OuterLoopJoin(Agency.__table__, Action.__table__, Action.owning_agency_id == Agency.id)
        )
        query = query.order_by(Agency.name, Action.due_date, Action.id)
    return query.where(*_matters_conditions(reader, shape))


def _matters_selected_for_postgresql(reader: Reader, shape: tuple):
    """A page of every agency's matters arising, for PostgreSQL: each agency's first ``offset + limit``
    in due date order, read from its index by a LATERAL subquery, then the page of those in agency
    order. Given the plain join, PostgreSQL's generic plan read every open action due by the date
    (3,000 at ten years, each one's meeting looked up) and sorted them: 10 ms at ten years; this way it
    reads at most a page per agency. (SQLite has no LATERAL; it follows OuterLoopJoin's loop order.)"""
    per_agency = (
        select(Action.id, Action.due_date)
        .where(Action.owning_agency_id == Agency.id, *_matters_conditions(reader, shape))
        .order_by(Action.due_date, Action.id)
        .limit(PAGE_LIMIT + PAGE_OFFSET)
        .lateral("per_agency")
    )
    return (
        select(per_agency.c.id)
        .select_from(Agency.__table__)
        .join(per_agency, true())
        .order_by(Agency.name, per_agency.c.due_date, per_agency.c.id)
    )


@statement_per_reader
def _matters_selected(reader: Reader, shape: tuple, dialect: str = ""):
    every_agency = not shape[0] and sees_every_agency(reader)
    if every_agency and dialect == "postgresql":
        return _matters_selected_for_postgresql(reader, shape).limit(PAGE_LIMIT).offset(PAGE_OFFSET)
    return _matters_selection(reader, shape).limit(PAGE_LIMIT).offset(PAGE_OFFSET)


@statement_per_reader
def _matters_selected_counted(reader: Reader, shape: tuple):
    return select(func.count()).select_from(_matters_selection(reader, shape).order_by(None).subquery())


# Made once (a fresh alias costs a millisecond): the row's latest update and its author, each under a
# name of its own, apart from the action_updates of the subquery that chooses the update.
_LATEST_UPDATE = aliased(ActionUpdate, name="latest_update")
_UPDATE_AUTHOR = aliased(User, name="update_author")
# A matter arising's row (labelled as MatterRow's fields): the action with its agency, owner, meeting,
# case and latest update.
_MATTER_COLUMNS = (
    Action.id,
    Action.description,
    Action.status,
    Action.due_date,
    Action.version,
    Action.owning_agency_id,
    Agency.name.label("agency_name"),
    User.display_name.label("owner_name"),
    Meeting.starts_at.label("raised_on"),
    Case.reference.label("case_reference"),
    _LATEST_UPDATE.at.label("latest_at"),
    _LATEST_UPDATE.note.label("latest_note"),
    _UPDATE_AUTHOR.display_name.label("latest_author"),
)


@statement_per_reader
def _matters_page_rows(reader: Reader, shape: tuple, dialect: str = ""):
    """A page of matters arising as rows, in one statement: the page's ids are chosen from the indexes
    alone (the subquery, first in FROM), and only those actions are joined to their agency, owner,
    meeting, case and latest update. (Joining those to every open action in history before choosing
    took 20-40 ms at ten years; PostgreSQL did so when the ids were asked for with IN.)"""
    chosen = _matters_selected(reader, shape, dialect).subquery("page_ids")
    return (
        select(*_MATTER_COLUMNS)
        .select_from(chosen)
        .join(Action, Action.id == chosen.c.id)
        .join(Agency, Agency.id == Action.owning_agency_id)
        .join(Meeting, Meeting.id == Action.meeting_id)
        .outerjoin(User, User.id == Action.owner_id)
        .outerjoin(CaseReview, CaseReview.id == Action.case_review_id)
        .outerjoin(Case, Case.id == CaseReview.case_id)
        .outerjoin(_LATEST_UPDATE, _LATEST_UPDATE.id == LATEST_UPDATE_ID)
        .outerjoin(_UPDATE_AUTHOR, _UPDATE_AUTHOR.id == _LATEST_UPDATE.author_id)
        .order_by(Agency.name, Action.due_date, Action.id)
    )


class _MattersPage(StatementPage):
    """One page of matters arising (MatterRow). Unfiltered, the total is the count the page shows
    anyway (matters_arising_counts), so it is not counted twice."""

    def __init__(self, reader: User, total: int | None, *statements, **kwargs) -> None:
        self._reader, self._total = reader, total
        super().__init__(*statements, **kwargs)

    def _query_items(self) -> list[MatterRow]:
        items, _count, parameters = self._statements
        page = {"page_limit": self.per_page, "page_offset": self._query_offset}
        rows = (MatterRow(**row._mapping) for row in read_rows(items, {**parameters, **page}).all())
        # The reader's scope again, in the rows themselves (the ids were chosen within it).
        return [row for row in rows if can_see_action(self._reader, row)]

    def _query_count(self) -> int:
        return self._total if self._total is not None else super()._query_count()


def matters_arising_page(
    reader: User, meeting: Meeting, f: MattersFilter, page: int, per_page: int, counts: MattersCounts | None = None
) -> Pagination:
    """One page of matters arising (MatterRow items), grouped by agency (overdue first within each), with
    their latest updates.
    ``counts``: matters_arising_counts() for the meeting, when the caller has them already."""
    counts = counts or matters_arising_counts(reader, meeting)
    shape = (f.agency_id is not None, f.overdue, bool(f.status))
    values = {
        **_matters_values(meeting, counts.due_by),
        "agency_id": f.agency_id,
        "status": ActionStatus(f.status) if f.status else None,
    }
    total = None if f.as_args() else counts.to_review
    rows = _matters_page_rows(reader, shape, db.engine.dialect.name)
    statements = rows, _matters_selected_counted(reader, shape), values
    return _MattersPage(reader, total, *statements, page=page, per_page=per_page)


def matters_arising(reader: User, meeting: Meeting) -> list[MatterArising]:
    """Every matter arising at this meeting, for the minutes: the actions from earlier meetings that were
    open on the meeting's date and overdue or due by the next meeting, as they stood then, each with its
    latest update made by then. The meeting page's list shows them as they are now."""
    on, moment = record_moment(meeting)
    due_by = matters_due_by(meeting)
    earlier = select(Meeting.id).where(Meeting.starts_at < meeting.starts_at)
    candidates = list(
        db.session.scalars(
            select(Action)
            .join(Agency, Action.owning_agency_id == Agency.id)
            .options(
                joinedload(Action.owning_agency),
                joinedload(Action.owner),
                joinedload(Action.meeting),
                joinedload(Action.case_review).joinedload(CaseReview.case),
            )
            .where(
                Action.meeting_id.in_(earlier),
                action_scope(reader),
                Action.created_at < moment,
                # Open then means open now or closed since: closing stamps closed_at, reopening clears it.
                or_(Action.status.in_(OPEN_STATUSES), Action.closed_at >= moment),
            )
            .order_by(Agency.name, Action.id)
        ).unique()
    )
    then = actions_as_at(candidates, on, moment)
    arising = [
        action
        for action in candidates
        if then[action.id].status in OPEN_STATUSES and (then[action.id].overdue or then[action.id].due_date <= due_by)
    ]
    # As on the meeting page: by agency, overdue first, then by due date.
    arising.sort(key=lambda a: (a.owning_agency.name, not then[a.id].overdue, then[a.id].due_date, a.id))
    latest = _latest_updates([action.id for action in arising], by=moment)
    return [MatterArising(action, latest.get(action.id), then[action.id]) for action in arising]


def _nearest(later: bool, *scope):
    starts_at = bindparam("starts_at", type_=Meeting.starts_at.type)
    condition = Meeting.starts_at > starts_at if later else Meeting.starts_at < starts_at
    return (
        select(Meeting.id)
        .where(condition, Meeting.status != MeetingStatus.CANCELLED, *scope)
        .order_by(Meeting.starts_at.asc() if later else Meeting.starts_at.desc())
        .limit(1)
        # Its own FROM meetings, not correlated to the outer query's (an alias did this at a cost).
        .correlate(None)
        .scalar_subquery()
    )


@statement_per_reader
def _neighbours_statement(reader: Reader):
    """The neighbouring meetings (see _neighbours) and the previous meeting's cases that reached no
    conclusion (grade 4), which the reader may see, in their order: one statement, the cases' rows
    told apart by having no start time (a round trip fewer on PostgreSQL)."""
    previous_id, following_id, going_ahead_id = (
        _nearest(False, meeting_scope(reader)),
        _nearest(True, meeting_scope(reader)),
        _nearest(True),
    )
    neighbours = select(
        Meeting.id, Meeting.starts_at, Meeting.location, previous_id, following_id, going_ahead_id, null(), null()
    ).where(or_(Meeting.id == previous_id, Meeting.id == following_id, Meeting.id == going_ahead_id))
    to_regrade = (
        select(CaseReview.id, null(), null(), null(), null(), null(), Case.reference, CaseReview.position)
        .join(Case, Case.id == CaseReview.case_id)
        .where(CaseReview.meeting_id == previous_id, CaseReview.scrutiny_grade == 4, case_review_scope(reader))
    )
    return union_all(neighbours, to_regrade).order_by(literal_column("8"))


def _neighbours(
    user: User, meeting: Meeting
) -> tuple[MeetingRef | None, MeetingRef | None, MeetingRef | None, list[RegradeLine]]:
    """The previous and the next meeting going ahead that ``user`` may see, and the next meeting going
    ahead whoever may see it (matters arising are those due by then, for everyone); and the previous
    meeting's cases to re-score. One query."""
    rows = read_rows(_neighbours_statement(user), {"starts_at": meeting.starts_at}).all()
    previous = following = going_ahead = None
    to_regrade = []
    for row_id, starts_at, location, was_previous, was_following, was_going_ahead, reference, _position in rows:
        if starts_at is None:
            to_regrade.append((row_id, reference))
            continue
        other = MeetingRef(row_id, starts_at, location)  # a meeting may be both of the last two
        previous = other if other.id == was_previous else previous
        following = other if other.id == was_following else following
        going_ahead = other if other.id == was_going_ahead else going_ahead
    regrade = (
        [RegradeLine(review_id, previous.id, reference) for review_id, reference in to_regrade] if previous else []
    )
    return previous, following, going_ahead, regrade


def cases_to_regrade(user: User, meeting: Meeting) -> list[RegradeLine]:
    """The previous meeting's cases that reached no conclusion (grade 4), as the meeting page lists them."""
    return _neighbours(user, meeting)[3]


@statement_per_reader
def _record_reviews(reader: Reader):
    return _reviews_in_full(CaseReview.meeting_id == bindparam("meeting_id"), case_review_scope(reader)).order_by(
        CaseReview.position, *_IN_NAME_ORDER
    )


@statement_per_reader
def _review_lines_statement(reader: Reader):
    # Feedback to the officer is police-internal: for any other reader the column is not read at all.
    feedback = CaseReview.feedback_to_officer if can_see_feedback(reader) else literal("")
    return (
        select(
            CaseReview.id,
            CaseReview.position,
            Case.reference,
            CaseReview.dash_score,
            CaseReview.risk_level,
            CaseReview.scrutiny_grade,
            CaseReview.is_repeat,
            CaseReview.summary,
            CaseReview.findings,
            feedback,
        )
        .join(Case, Case.id == CaseReview.case_id)
        .where(CaseReview.meeting_id == bindparam("meeting_id"), case_review_scope(reader))
        .order_by(CaseReview.position)
    )


class ReturnLine(NamedTuple):
    """When an agency sent its information on a case (the information itself is read on the case's page)."""

    case_review_id: int
    agency_id: int
    submitted_at: datetime


# The kinds of row _reviews_and_details_statement answers, in the order they come.
_REVIEW_ROW, _AGENCY_ROW, _THEME_ROW, _RETURN_ROW = range(4)


@statement_per_reader
def _reviews_and_details_statement(reader: Reader):
    """The meeting's cases the reader may see (_review_lines_statement's columns), and of each, in the
    same statement (on PostgreSQL each statement is a round trip, and a wait for the server to wake):
    the agencies involved, and whether each has partner officers to send its information (agencies
    without any are not asked for it); its themes; and the information returns the reader may see, each
    agency's only (returns_scope) for a partner.

    Each row says its kind (_REVIEW_ROW...) first, then a review's columns (NULL in the others), then
    those of an agency, a theme or a return: [kind, review id, 9 review columns, agency id, code, name,
    has officers, submitted at]. Cases come first, in agenda order; agencies and themes by name. Every
    typed column is typed in the first part: SQLAlchemy reads each column by the first part's type, and
    PostgreSQL resolves a column two parts leave NULL as text.

    The details' cases are chosen again by meeting and scope, not passed as a list of ids: an expanding
    IN list is written into the SQL afresh at each execution (three of twenty ids cost 0.25 ms a page on
    SQLite); this statement's SQL is made once."""
    on_reviews = select(CaseReview.id).where(
        CaseReview.meeting_id == bindparam("meeting_id"), case_review_scope(reader)
    )
    review = _review_lines_statement(reader).order_by(None)
    review_columns = len(review.selected_columns)  # its id first
    reviews = review.with_only_columns(
        literal(_REVIEW_ROW),
        *review.selected_columns,
        null().cast(Agency.id.type),
        null().cast(Agency.code.type),
        null().cast(Agency.name.type),
        null().cast(Boolean),
        null().cast(AgencyReturn.submitted_at.type),
    )
    no_review = [null()] * (review_columns - 1)  # the review's columns after its id
    # Positions (from 1) to order by: the kind; a detail's name (after the kind, the review's columns,
    # the agency's id and code); a review's agenda position (after the kind and its id).
    kind, name, position = 1, 1 + review_columns + 3, 3

    def details(kind: int, review_id, *columns):
        return select(literal(kind), review_id, *no_review, *columns)

    return union_all(
        reviews,
        details(
            _AGENCY_ROW,
            case_review_agencies.c.case_review_id,
            Agency.id,
            Agency.code,
            Agency.name,
            select(User.id).where(User.agency_id == Agency.id, agency_officer_condition()).exists(),
            null(),
        )
        .join(Agency, Agency.id == case_review_agencies.c.agency_id)
        .where(case_review_agencies.c.case_review_id.in_(on_reviews)),
        details(_THEME_ROW, case_review_themes.c.case_review_id, null(), null(), LearningTheme.name, null(), null())
        .join(LearningTheme, LearningTheme.id == case_review_themes.c.theme_id)
        .where(case_review_themes.c.case_review_id.in_(on_reviews)),
        details(
            _RETURN_ROW,
            AgencyReturn.case_review_id,
            AgencyReturn.agency_id,
            null(),
            null(),
            null(),
            AgencyReturn.submitted_at,
        ).where(AgencyReturn.case_review_id.in_(on_reviews), returns_scope(reader)),
    ).order_by(*(literal_column(str(column)) for column in (kind, name, position)))


def _review_lines(
    reader: User, meeting: Meeting
) -> tuple[list[ReviewLine], set[int], dict[int, dict[int, ReturnLine]]]:
    """The meeting's reviews ``reader`` may see, as lines; the involved agencies with officers; and
    review id -> agency id -> the return the reader may see."""
    lines: list[ReviewLine] = []
    by_id: dict[int, ReviewLine] = {}
    with_officers = set()
    returns: dict[int, dict[int, ReturnLine]] = defaultdict(dict)
    rows = read_rows(_reviews_and_details_statement(reader), {"meeting_id": meeting.id}).all()
    for kind, review_id, *review, agency_id, code, name, has_officers, submitted_at in rows:
        if kind == _REVIEW_ROW:  # these come first
            by_id[review_id] = ReviewLine(meeting, review_id, *review)
            lines.append(by_id[review_id])
        elif kind == _AGENCY_ROW:
            by_id[review_id].agencies.append(AgencyTag(agency_id, code, name))
            if has_officers:
                with_officers.add(agency_id)
        elif kind == _THEME_ROW:
            by_id[review_id].theme_names.append(name)
        else:
            returns[review_id][agency_id] = ReturnLine(review_id, agency_id, submitted_at)
    return lines, with_officers, dict(returns)


# The meeting page counts each case's actions and lists those for the meeting as a whole (reference,
# agency, due date, description). Every action of the meeting is read: which of them the reader sees
# is decided in meeting_record.
_ACTION_LINES = (
    select(
        Action.id,
        Action.case_review_id,
        Action.owning_agency_id,
        Action.description,
        Action.due_date,
        Action.status,
        Agency.code,
    )
    .join(Agency, Agency.id == Action.owning_agency_id)
    .where(Action.meeting_id == bindparam("meeting_id"))
    .order_by(Action.id)
)


# The minutes show each action in full (the page reads _ACTION_LINES).
_ACTIONS_IN_FULL = (
    select(Action)
    .options(joinedload(Action.owning_agency), joinedload(Action.owner))
    .where(Action.meeting_id == bindparam("meeting_id"))
    .order_by(Action.id)
)
_ATTENDANCE = (
    select(Attendance)
    # An attendee's name is all that is shown of their account.
    .options(joinedload(Attendance.agency), joinedload(Attendance.user).load_only(User.display_name))
    .where(Attendance.meeting_id == bindparam("meeting_id"))
    .order_by(Attendance.id)
)


class AttendedLine(NamedTuple):
    """One line of attendance as the meeting page shows it (the minutes read Attendance entities)."""

    agency_id: int
    agency_name: str
    name: str
    status: AttendanceStatus
    role: MeetingRole
    deputy_for: str


# The meeting page's attendance, in the order recorded, and the agencies invited (with no status), by
# name: one statement (a round trip fewer on PostgreSQL). Where each kind comes is left to the database
# (it sorts NULLs first or last): the rows are told apart by their status.
_ATTENDED_AND_INVITED = union_all(
    select(
        Attendance.agency_id,
        Agency.name,
        # Attendance.name: the account's name, else the name typed for a guest.
        case((Attendance.user_id.is_(None), Attendance.person_name), else_=User.display_name),
        Attendance.status,
        Attendance.role,
        Attendance.deputy_for,
        Attendance.id,
        null(),
    )
    .join(Agency, Agency.id == Attendance.agency_id)
    .outerjoin(User, User.id == Attendance.user_id)
    .where(Attendance.meeting_id == bindparam("meeting_id")),
    select(Agency.id, Agency.name, null(), null(), null(), null(), null(), Agency.code)
    .join(meeting_invited_agencies, meeting_invited_agencies.c.agency_id == Agency.id)
    .where(meeting_invited_agencies.c.meeting_id == bindparam("meeting_id")),
).order_by(literal_column("7"), literal_column("2"))


def _attended_and_invited(on_meeting: dict) -> tuple[list[AttendedLine], list[AgencyTag]]:
    attended, invited = [], []
    for agency_id, agency_name, name, status, role, deputy_for, _order, code in read_rows(
        _ATTENDED_AND_INVITED, on_meeting
    ).all():
        if status is None:
            invited.append(AgencyTag(agency_id, code, agency_name))
        else:
            attended.append(AttendedLine(agency_id, agency_name, name, status, role, deputy_for))
    return attended, invited


def meeting_record(
    reader: User, meeting: Meeting, *, for_minutes: bool = False, with_matters_counts: bool = False
) -> MeetingRecord:
    """The one place that decides what ``reader`` sees of ``meeting`` (see MeetingRecord).

    The minutes list every matter arising; the meeting page only counts them (they have their own
    page), and only in the full record: a partner's page does not show the counts.
    """
    on_meeting = {"meeting_id": meeting.id}
    reviews: list[CaseReview | ReviewLine]
    all_actions: Iterable[Action | ActionLine]
    if for_minutes:
        in_full = list(db.session.scalars(_record_reviews(reader), on_meeting).unique())
        reviews, returning_agency_ids = list(in_full), _agencies_with_officers(in_full)
        returns = _returns(reader, [review.id for review in reviews])
        all_actions = db.session.scalars(_ACTIONS_IN_FULL, on_meeting)
    else:
        lines, returning_agency_ids, returns = _review_lines(reader, meeting)
        reviews = list(lines)
        all_actions = (ActionLine(*row) for row in read_rows(_ACTION_LINES, on_meeting).all())
    visible_review_ids = {review.id for review in reviews}
    actions_by_review: dict[int, list[Action | ActionLine]] = defaultdict(list)
    hidden_by_review: dict[int, int] = defaultdict(int)
    meeting_actions: list[Action | ActionLine] = []
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

    attendance: list[Attendance] | list[AttendedLine]
    invited: Sequence[Agency | AgencyTag]
    if for_minutes:
        attendance, invited = list(db.session.scalars(_ATTENDANCE, on_meeting)), meeting.invited_agencies
    else:
        attendance, invited = _attended_and_invited(on_meeting)
    represented = {row.agency_id for row in attendance if row.status == AttendanceStatus.PRESENT}
    unrepresented = [agency for agency in invited if agency.id not in represented]

    previous_meeting, next_meeting, next_going_ahead, to_regrade = _neighbours(reader, meeting)
    next_meeting_when = next_meeting or next_going_ahead
    action_states: dict[int, ActionAsAt] = {}
    if for_minutes:  # the minutes' actions are entities (_ACTIONS_IN_FULL)
        in_minutes = cast("dict[int, list[Action]]", actions_by_review), cast("list[Action]", meeting_actions)
        action_states = _own_actions_as_at(meeting, *in_minutes)
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
        invited=invited,
        unrepresented=unrepresented,
        # Due by the panel's next meeting, as on the matters arising page, whichever the reader may see.
        matters_counts=matters_arising_counts(reader, meeting, _due_by(meeting, next_going_ahead))
        if with_matters_counts and redaction_for(reader) is None
        else None,
        # Agencies return their information only once the agenda is published; asked either way, so
        # the page makes the same queries before and after (the answers are empty before).
        returns=returns,
        returning_agency_ids=returning_agency_ids,
        matters_arising=matters_arising(reader, meeting) if for_minutes else [],
        to_regrade=to_regrade,
        previous_meeting=previous_meeting,
        next_meeting=next_meeting,
        next_meeting_when=next_meeting_when,
        show_feedback=can_see_feedback(reader),
        action_states=action_states,
    )


def _own_actions_as_at(
    meeting: Meeting, actions_by_review: dict[int, list[Action]], meeting_actions: list[Action]
) -> dict[int, ActionAsAt]:
    on, moment = record_moment(meeting)
    shown = meeting_actions + [action for actions in actions_by_review.values() for action in actions]
    return actions_as_at(shown, on, moment)


@statement_per_reader
def _returns_statement(reader: Reader):
    # Which agencies returned, and when: the information itself is read on the case's own page.
    return select(AgencyReturn.case_review_id, AgencyReturn.agency_id, AgencyReturn.submitted_at).where(
        AgencyReturn.case_review_id.in_(bindparam("review_ids", expanding=True)), returns_scope(reader)
    )


def _returns(reader: User, review_ids: list[int]) -> dict[int, dict[int, ReturnLine]]:
    """Review id -> agency id -> its return (for the minutes; the page reads them with _review_lines)."""
    if not review_ids:
        return {}
    by_review: dict[int, dict[int, ReturnLine]] = defaultdict(dict)
    for agency_return in map(ReturnLine._make, read_rows(_returns_statement(reader), {"review_ids": review_ids}).all()):
        by_review[agency_return.case_review_id][agency_return.agency_id] = agency_return
    return dict(by_review)


_AGENCIES_WITH_OFFICERS = (
    select(User.agency_id)
    .where(User.agency_id.in_(bindparam("agency_ids", expanding=True)), agency_officer_condition())
    .distinct()
)


def _agencies_with_officers(reviews: list[CaseReview]) -> set[int]:
    involved = {agency.id for review in reviews for agency in review.agencies}
    if not involved:
        return set()
    return set(db.session.scalars(_AGENCIES_WITH_OFFICERS, {"agency_ids": sorted(involved)}))


# When the next meeting going ahead starts, whoever may open it (its time is not sensitive).
def stored_minutes(meeting: Meeting) -> list[MinutesDocument]:
    """The approved revisions stored for this meeting, newest first (without their bytes)."""
    if meeting.status != MeetingStatus.APPROVED and meeting.minutes_revision == 1:
        return []  # never approved: nothing stored, no need to ask
    return list(meeting.minutes_documents)


# Choices for the forms ----------------------------------------------------------------------


def chairs() -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.active.is_(True), may_chair_condition()).order_by(User.display_name))
    )


def active_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))


_AGENCY_CHOICES = select(Agency.id, Agency.code, Agency.name).where(Agency.active.is_(True)).order_by(Agency.name)


def agency_choices() -> list[AgencyTag]:
    """The active agencies, by name, for a form to choose from: rows of their id, code and name (loading
    fifteen Agency entities cost a page about 0.3 ms)."""
    return list(map(AgencyTag._make, read_rows(_AGENCY_CHOICES).all()))


_INVITED = (
    select(meeting_invited_agencies.c.agency_id)
    .where(
        meeting_invited_agencies.c.meeting_id == bindparam("meeting_id"),
        meeting_invited_agencies.c.agency_id == Agency.id,
    )
    .exists()
)
_ACTIVE_AND_INVITED = (
    select(Agency.id, Agency.code, Agency.name, Agency.active, _INVITED)
    .where(or_(Agency.active.is_(True), _INVITED))
    .order_by(Agency.name)
)


def active_and_invited_agencies(meeting: Meeting) -> tuple[list[AgencyTag], list[AgencyTag]]:
    """The active agencies (agency_choices) and the meeting's invited ones, active or not, each by name:
    one statement for the attendance page, which offers the first for a guest and lists the members of
    the second (a round trip fewer on PostgreSQL than reading them apart)."""
    active, invited = [], []
    for agency_id, code, name, is_active, is_invited in read_rows(
        _ACTIVE_AND_INVITED, {"meeting_id": meeting.id}
    ).all():
        tag = AgencyTag(agency_id, code, name)
        if is_active:
            active.append(tag)
        if is_invited:
            invited.append(tag)
    return active, invited


def possible_owners() -> Sequence[Row]:
    """Every active account that may update actions (chairs and partner officers) as an action's
    possible named owner, by agency name then name (the form groups them by agency): rows of (id, display_name,
    agency_id, agency_name), not whole accounts (a few hundred, loaded for each action form)."""
    return db.session.execute(
        select(User.id, User.display_name, User.agency_id, Agency.name.label("agency_name"))
        .join(Agency, User.agency_id == Agency.id)
        .where(action_owner_condition())
        .order_by(Agency.name, User.display_name)
    ).all()


def active_themes() -> list[LearningTheme]:
    return list(
        db.session.scalars(select(LearningTheme).where(LearningTheme.active.is_(True)).order_by(LearningTheme.name))
    )


def themes_for_review(review_id: int) -> list[LearningTheme]:
    """The themes a review may be tagged with: those in use, and any retired ones it already carries
    (kept on old reviews, never offered for new ones)."""
    on_review = select(case_review_themes.c.theme_id).where(case_review_themes.c.case_review_id == review_id)
    return list(
        db.session.scalars(
            select(LearningTheme)
            .where(or_(LearningTheme.active.is_(True), LearningTheme.id.in_(on_review)))
            .order_by(LearningTheme.name)
        )
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


class Member(NamedTuple):
    """An account on the attendance form: all that the form shows or records of it."""

    id: int
    display_name: str
    agency_id: int  # the agency it is listed under: its own (a member), or its attendance line's (others)


class SheetRow(NamedTuple):
    """Someone recorded at the meeting, as the attendance form shows them (a row of columns: the
    operation that saves the form reads the meeting's Attendance entities itself)."""

    id: int
    agency_id: int
    agency_name: str
    user_id: int | None
    name: str  # the account's name, else the name typed for a guest
    status: AttendanceStatus


class AttendanceLine(NamedTuple):
    """One line of the attendance form: a member of an invited agency, or someone already recorded."""

    agency: Agency | AgencyTag  # an invited agency; a tag for someone recorded from another
    user: Member | None
    row: SheetRow | None
    on_request: bool = False  # listed only because the chair listed the agency's members in full

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def field_name(self) -> str:
        return f"status-u{self.user.id}" if self.user is not None else f"status-r{self.row.id if self.row else 0}"

    @property
    def name(self) -> str:
        return self.user.display_name if self.user is not None else (self.row.name if self.row else "")

    @property
    def status(self) -> str:
        return self.row.status.value if self.row is not None else ""


@dataclass
class AttendanceSheet:
    lines: list[AttendanceLine]
    unrepresented: list[Agency | AgencyTag]
    # The invited agencies with active members who are not listed, each with how many, by name: any of
    # them can be listed in full on request (attendance_sheet's ``in_full``).
    unlisted: list[tuple[Agency | AgencyTag, int]] = field(default_factory=list)
    in_full: frozenset[int] = frozenset()  # the agencies listed in full on request

    def by_agency(self) -> list[tuple[Agency | AgencyTag, list[AttendanceLine]]]:
        grouped: dict[int, tuple[Agency | AgencyTag, list[AttendanceLine]]] = {}
        for line in self.lines:
            grouped.setdefault(line.agency.id, (line.agency, []))[1].append(line)
        return sorted(grouped.values(), key=lambda pair: pair[0].name)


# An attendee's name is all that is read of their account.
_SHEET_ROWS = (
    select(
        Attendance.id,
        Attendance.agency_id,
        Agency.name,
        Attendance.user_id,
        case((Attendance.user_id.is_(None), Attendance.person_name), else_=User.display_name),
        Attendance.status,
    )
    .join(Agency, Agency.id == Attendance.agency_id)
    .outerjoin(User, User.id == Attendance.user_id)
    .where(Attendance.meeting_id == bindparam("meeting_id"))
    .order_by(Attendance.id)
)
_ACTIVE_ATTENDEES = (User.active.is_(True), attendee_condition())
# The members of the invited agencies who are listed, read as rows of their names (never a password
# hash): every member of the agencies listed in full, and the others named (their regulars, and anyone
# recorded at this meeting). Not every member: ten years on, 294 people, most of them never listed.
_LISTED_MEMBERS = (
    select(User.id, User.display_name, User.agency_id)
    .where(
        User.agency_id.in_(bindparam("agency_ids", expanding=True)),
        or_(
            User.agency_id.in_(bindparam("in_full", expanding=True)),
            User.id.in_(bindparam("named", expanding=True)),
        ),
        *_ACTIVE_ATTENDEES,
    )
    .order_by(User.display_name)
)
# How many active members each invited agency has (those not listed can be listed in full).
_MEMBERS_COUNTED = (
    select(User.agency_id, func.count())
    .where(User.agency_id.in_(bindparam("agency_ids", expanding=True)), *_ACTIVE_ATTENDEES)
    .group_by(User.agency_id)
)
# For an agency, the latest earlier meeting at which someone was recorded for it by their account. Walks
# back from the meeting by date, and stops at the first it finds: usually the meeting before.
_LAST_NAMED_MEETING = (
    select(Attendance.meeting_id)
    # Meetings in the outer loop, newest first from their index, each asked for the agency's attendance
    # (SQLite otherwise read all the agency's attendance in history and sorted it: 3 ms at ten years).
    .select_from(OuterLoopJoin(Meeting.__table__, Attendance.__table__, Meeting.id == Attendance.meeting_id))
    .where(
        Attendance.agency_id == Agency.id,
        Attendance.user_id.is_not(None),
        Meeting.starts_at < bindparam("starts_at", type_=Meeting.starts_at.type),
    )
    .order_by(Meeting.starts_at.desc())
    .limit(1)
    .correlate(Agency)
    .scalar_subquery()
)
# Each invited agency with that meeting. MATERIALIZED (SQLite 3.35, PostgreSQL 12): worked out once for
# each agency (fifteen quick walks back); SQLite otherwise merged it into the join below and worked it
# out again for each row it read there (2 ms at ten years, against 0.03 ms).
_LAST_NAMED = (
    select(Agency.id.label("agency_id"), _LAST_NAMED_MEETING.label("meeting_id"))
    .where(Agency.id.in_(bindparam("agency_ids", expanding=True)))
    .cte("last_named")
    .prefix_with("MATERIALIZED")
)
# The accounts each invited agency had recorded at that meeting (present, apologies or absent), by
# agency: its regular members of the panel.
_REGULARS = (
    select(Attendance.agency_id, Attendance.user_id)
    .select_from(_LAST_NAMED)
    .join(
        Attendance,
        (Attendance.meeting_id == _LAST_NAMED.c.meeting_id) & (Attendance.agency_id == _LAST_NAMED.c.agency_id),
    )
    .where(Attendance.user_id.is_not(None))
)


def attendance_sheet(
    meeting: Meeting, invited_agencies: Sequence[Agency | AgencyTag], in_full: Collection[int] = ()
) -> AttendanceSheet:
    """The attendance form's lines: for each invited agency, the members recorded at this meeting and
    those it had recorded at its last meeting with any of its members recorded (a panel's members are
    few and the same week to week), or, for an agency none of whose members has ever been recorded (a
    guest is not a member), every active member; then anyone else recorded: guests and people from
    agencies that were not invited. The invited agencies in ``in_full`` (others are ignored) list every
    active member, for the chair to record someone not listed; the sheet counts, for each invited
    agency, the members not listed."""
    rows = list(map(SheetRow._make, read_rows(_SHEET_ROWS, {"meeting_id": meeting.id}).all()))
    by_user = {row.user_id: row for row in rows if row.user_id is not None}
    invited = {agency.id: agency for agency in invited_agencies}
    values = {"agency_ids": list(invited), "starts_at": meeting.starts_at}
    regulars = {(agency_id, user_id) for agency_id, user_id in read_rows(_REGULARS, values).all()}
    with_regulars = {agency_id for agency_id, _user_id in regulars}  # whether or not they are members still
    listed_in_full = frozenset(invited).intersection(in_full)
    values |= {
        "in_full": sorted(set(invited) - with_regulars | listed_in_full),
        "named": sorted({user_id for _agency_id, user_id in regulars} | set(by_user)),
    }
    lines, listed = [], Counter[int]()
    for member in map(Member._make, read_rows(_LISTED_MEMBERS, values).all()):
        row = by_user.pop(member.id, None)
        listed_anyway = (
            row is not None or (member.agency_id, member.id) in regulars or member.agency_id not in with_regulars
        )
        if listed_anyway or member.agency_id in listed_in_full:
            lines.append(AttendanceLine(invited[member.agency_id], member, row, on_request=not listed_anyway))
            listed[member.agency_id] += 1
    others = [row for row in rows if row.user_id is None or row.user_id in by_user]  # guests, uninvited agencies
    lines += [
        AttendanceLine(
            invited.get(row.agency_id) or AgencyTag(row.agency_id, "", row.agency_name),
            Member(row.user_id, row.name, row.agency_id) if row.user_id is not None else None,
            row,
        )
        for row in others
    ]
    represented = {line.agency.id for line in lines if line.row and line.row.status == AttendanceStatus.PRESENT}
    counted = {agency_id: count for agency_id, count in read_rows(_MEMBERS_COUNTED, values).all()}
    return AttendanceSheet(
        lines,
        [agency for agency in invited_agencies if agency.id not in represented],
        [
            (agency, counted.get(agency.id, 0) - listed[agency.id])
            for agency in sorted(invited.values(), key=lambda agency: agency.name)
            if counted.get(agency.id, 0) > listed[agency.id]
        ],
        listed_in_full,
    )


class AgendaLine(NamedTuple):
    """A case on the agenda page: its place, reference, repeat flag and the agencies involved (codes)."""

    id: int
    position: int
    case_reference: str
    is_repeat: bool
    agency_codes: str


_AGENDA = (
    select(CaseReview.id, CaseReview.position, Case.reference, CaseReview.is_repeat)
    .join(Case, Case.id == CaseReview.case_id)
    .where(CaseReview.meeting_id == bindparam("meeting_id"))
    .order_by(CaseReview.position)
)
_AGENDA_AGENCIES = (
    select(case_review_agencies.c.case_review_id, Agency.code)
    .join(Agency, Agency.id == case_review_agencies.c.agency_id)
    .join(CaseReview, CaseReview.id == case_review_agencies.c.case_review_id)
    .where(CaseReview.meeting_id == bindparam("meeting_id"))
    .order_by(Agency.name)
)


def agenda_reviews(meeting: Meeting) -> list[AgendaLine]:
    """The meeting's agenda in order, each case with the agencies involved (for the agenda page)."""
    on_meeting = {"meeting_id": meeting.id}
    codes: dict[int, list[str]] = defaultdict(list)
    for review_id, code in read_rows(_AGENDA_AGENCIES, on_meeting).all():
        codes[review_id].append(code)
    return [
        AgendaLine(review_id, position, reference, is_repeat, ", ".join(codes.get(review_id, ())))
        for review_id, position, reference, is_repeat in read_rows(_AGENDA, on_meeting).all()
    ]


def attendance_row(meeting: Meeting, row_id: int) -> Attendance | None:
    return db.session.scalar(select(Attendance).where(Attendance.id == row_id, Attendance.meeting_id == meeting.id))


# The approval check -------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """Something incomplete in the minutes. Blocking gaps must be fixed; the rest accepted explicitly."""

    key: str  # stable, for the accept checkboxes and the audit log
    message: str
    blocking: bool
    href: str  # where to fix it (a path on this site)


def approval_gaps(record: MeetingRecord) -> list[Gap]:
    """What stands between these minutes and approval, checked again on the server when approving.
    ``record`` is the meeting page's (its reviews read as lines), not the minutes'."""
    return _gaps(record.meeting, record.reviews, record.present)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ApprovalCheck:
    """The approval check page: how many cases (and how many of them fully recorded: risk, grade and
    findings) and people present, and the gaps (approval_gaps)."""

    reviews: int
    complete: int
    present: int
    gaps: list[Gap]


_PRESENT = select(func.count(Attendance.id)).where(
    Attendance.meeting_id == bindparam("meeting_id"), Attendance.status == AttendanceStatus.PRESENT
)


def approval_check(reader: User, meeting: Meeting) -> ApprovalCheck:
    """The approval check, reading only what it checks: the cases' reviews and who was present (not
    the whole record, as the meeting page does)."""
    on_meeting = {"meeting_id": meeting.id}
    reviews = [ReviewLine(meeting, *row) for row in read_rows(_review_lines_statement(reader), on_meeting).all()]
    present = read_rows(_PRESENT, on_meeting).scalar_one()
    complete = sum(1 for review in reviews if review.progress == ReviewProgress.COMPLETE)
    return ApprovalCheck(len(reviews), complete, present, _gaps(meeting, reviews, present))


def _gaps(meeting: Meeting, reviews: list[ReviewLine], present: int) -> list[Gap]:
    base = f"/meetings/{meeting.id}"
    gaps: list[Gap] = []
    if present == 0:
        gaps.append(Gap("attendance", "Attendance has not been taken: nobody is recorded as present", True,
                        f"{base}/attendance"))  # fmt: skip
    if meeting.statement_read_at is None:
        gaps.append(Gap("statement", "The confidentiality statement is not recorded as read", False,
                        f"{base}/attendance"))  # fmt: skip
    for position, review in enumerate(reviews, start=1):
        href = f"{base}/reviews/{review.id}"
        reference = review.case_reference
        if review.progress == ReviewProgress.NOT_STARTED:
            gaps.append(Gap(f"review-{review.id}", f"Case {position}, {reference}: nothing has been recorded. "
                            "Record the review or take the case off the agenda", True, href))  # fmt: skip
        elif review.missing:
            gaps.append(Gap(f"review-{review.id}", f"Case {position}, {reference}: no {_and_list(review.missing)}",
                            False, href))  # fmt: skip
    # (An action without an owning agency cannot exist: the column is required.)
    return gaps


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]

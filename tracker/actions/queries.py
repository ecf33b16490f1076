"""Reads for actions, scoped by tracker.permissions: partners see only their own agency's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Date, Integer, Row, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload, with_expression

from tracker.actions.filters import STILL_OPEN, ActionFilter
from tracker.extensions import db, read_rows
from tracker.models import (
    IS_OPEN,
    Action,
    ActionStatus,
    ActionUpdate,
    Agency,
    Case,
    CaseReview,
    ExtensionRequest,
    ExtensionStatus,
    Meeting,
    MeetingStatus,
    User,
)
from tracker.paging import PAGE_LIMIT, PAGE_OFFSET
from tracker.permissions import (
    Reader,
    action_owner_condition,
    action_scope,
    can_see_action,
    case_review_scope,
    meeting_scope,
    sees_every_agency,
    statement_per_reader,
)
from tracker.timeutil import LONDON, london_midnight, london_today

DUE_SOON_DAYS = 7


LATEST_UPDATE_CHARS = 200


# The follow-up columns, made once: a fresh alias cost about a millisecond a page in SQLAlchemy's
# column adaptation, and these parts never change.
_LATEST_UPDATE = aliased(ActionUpdate, name="latest_update")
# The action's newest trail entry, as a correlated subquery (answered from the action_id index); the
# matters arising rows use it too.
LATEST_UPDATE_ID = (
    select(ActionUpdate.id)
    .where(ActionUpdate.action_id == Action.id)
    .order_by(ActionUpdate.id.desc())
    .limit(1)
    .correlate(Action)
    .scalar_subquery()
)
_LATEST_UPDATE_TEXT = func.substr(
    func.coalesce(func.nullif(_LATEST_UPDATE.note, ""), _LATEST_UPDATE.due_change_reason), 1, LATEST_UPDATE_CHARS
)
_EXTENSION_COUNT = (
    select(func.count(ActionUpdate.id))
    .where(ActionUpdate.action_id == Action.id, ActionUpdate.due_to > ActionUpdate.due_from)
    .correlate(Action)
    .scalar_subquery()
)


def with_follow_up(query):
    """``query`` (of Action) putting on each action, in the same statement: when it was last updated,
    the start of that update's text (its note, else the reason for a due-date change), and how many
    times its due date was moved later (agreed extensions and chairs' changes)."""
    return query.outerjoin(_LATEST_UPDATE, _LATEST_UPDATE.id == LATEST_UPDATE_ID).options(
        with_expression(Action.latest_update_at, _LATEST_UPDATE.at),
        with_expression(Action.latest_update_text, _LATEST_UPDATE_TEXT),
        with_expression(Action.extension_count, _EXTENSION_COUNT),
    )


def _shape(f: ActionFilter) -> tuple:
    """Which parts a filter's statement has (not their values): statements are kept per shape."""
    status = "open" if f.status == STILL_OPEN else ("one" if f.status else "")
    return (
        f.agency_id is not None,
        status,
        f.overdue,
        f.due_from is not None,
        f.due_to is not None,
        f.meetings_from is not None,
        f.meetings_to is not None,
        f.meeting_id is not None,
        bool(f.case_reference),
        f.owner_id is not None,
        bool(f.text),
        f.sort,
    )


def _values(f: ActionFilter) -> dict:
    """The bind parameters of a filter's statement (_selection)."""
    return {
        "agency_id": f.agency_id,
        "status": ActionStatus(f.status) if f.status and f.status != STILL_OPEN else None,
        "today": london_today(),
        "due_from": f.due_from,
        "due_to": f.due_to,
        "meetings_from": london_midnight(f.meetings_from) if f.meetings_from else None,
        "meetings_to": london_midnight(f.meetings_to + timedelta(days=1)) if f.meetings_to else None,
        "meeting_id": f.meeting_id,
        "owner_id": f.owner_id,
        "case_reference": f"%{f.case_reference.upper()}%",
        "text": f"%{f.text.lower()}%",
    }


def _build_selection(reader: Reader, shape: tuple):
    """The actions a filter of ``shape`` selects that the reader may see, in the filter's order, its
    values bound by name (_values): the one selection behind the actions list, its CSV and the action
    summary PDF (no loader options: it is also counted)."""
    sort = shape[-1]
    return (
        select(Action)
        .where(*_conditions(reader, shape))
        .join(Agency, Action.owning_agency_id == Agency.id)
        .order_by(*_ORDERS[sort])
    )


def _conditions(reader: Reader, shape: tuple) -> list:
    (agency, status, overdue, due_from, due_to, meetings_from, meetings_to, meeting, case_reference, owner, text,
     _sort) = shape  # fmt: skip
    conditions = [action_scope(reader)]
    if agency:
        conditions.append(Action.owning_agency_id == bindparam("agency_id"))
    if status == "open":
        conditions.append(IS_OPEN)
    elif status:
        conditions.append(Action.status == bindparam("status", type_=Action.status.type))
    if overdue:
        conditions += [IS_OPEN, Action.due_date < bindparam("today")]
    if due_from:
        conditions.append(Action.due_date >= bindparam("due_from"))
    if due_to:
        conditions.append(Action.due_date <= bindparam("due_to"))
    if meetings_from or meetings_to:
        raised_at = select(Meeting.id)
        if meetings_from:
            raised_at = raised_at.where(Meeting.starts_at >= bindparam("meetings_from", type_=Meeting.starts_at.type))
        if meetings_to:
            raised_at = raised_at.where(Meeting.starts_at < bindparam("meetings_to", type_=Meeting.starts_at.type))
        conditions.append(Action.meeting_id.in_(raised_at))
    if meeting:
        conditions.append(Action.meeting_id == bindparam("meeting_id"))
    if owner:
        conditions.append(Action.owner_id == bindparam("owner_id"))
    if case_reference:
        conditions.append(
            Action.case_review_id.in_(
                select(CaseReview.id)
                .join(Case, CaseReview.case_id == Case.id)
                .where(Case.reference.like(bindparam("case_reference")))
            )
        )
    if text:
        conditions.append(func.lower(Action.description).like(bindparam("text")))
    return conditions


_selection = statement_per_reader(_build_selection)


_ORDERS = {
    "due": (Action.due_date.asc(), Action.id.asc()),
    "-due": (Action.due_date.desc(), Action.id.desc()),
    "raised": (Action.id.desc(),),
    "agency": (Agency.name.asc(), Action.due_date.asc(), Action.id.asc()),
}


def _loaded(query):
    """``query`` of Action with what the list, CSV and PDF show, in the same statement: the owner's name,
    the meeting's date and the case's reference (not the review's long texts)."""
    return with_follow_up(query).options(
        joinedload(Action.owning_agency),
        joinedload(Action.owner).load_only(User.display_name).lazyload(User.agency),
        joinedload(Action.meeting).load_only(Meeting.starts_at),
        joinedload(Action.case_review).load_only(CaseReview.case_id).joinedload(CaseReview.case),
    )


def filtered_actions(user: User, f: ActionFilter):
    """Every action ``f`` selects that ``user`` may see, in order, with its agency, owner, meeting, case
    and follow-up (latest update, extensions): the CSV and the summary PDF."""
    return _loaded(_selection(user, _shape(f))).params(**_values(f))


@statement_per_reader
def _page_ids(reader: Reader, shape: tuple):
    return _build_selection(reader, shape).with_only_columns(Action.id).limit(PAGE_LIMIT).offset(PAGE_OFFSET)


@dataclass(frozen=True)
class ActionRow:
    """An action as the actions list's row shows it: the columns the row needs, its agency, owner and
    case by name, and its follow-up, read in one statement (rather than the action and four related
    records, 25 times a page)."""

    id: int
    description: str
    status: ActionStatus
    due_date: date
    original_due_date: date
    owning_agency_id: int
    agency_name: str
    agency_code: str
    owner_name: str | None
    case_reference: str | None
    latest_update_at: datetime | None
    latest_update_text: str | None
    extension_count: int

    @property
    def reference(self) -> str:
        return Action.reference_for(self.id)


# A page's rows, by id (chosen already, in the reader's scope and the filter's order). Built once: it
# has no part that depends on the reader.
_ACTION_ROWS = (
    select(
        Action.id,
        Action.description,
        Action.status,
        Action.due_date,
        Action.original_due_date,
        Action.owning_agency_id,
        Agency.name.label("agency_name"),
        Agency.code.label("agency_code"),
        User.display_name.label("owner_name"),
        Case.reference.label("case_reference"),
        _LATEST_UPDATE.at.label("latest_update_at"),
        _LATEST_UPDATE_TEXT.label("latest_update_text"),
        _EXTENSION_COUNT.label("extension_count"),
    )
    .join(Agency, Agency.id == Action.owning_agency_id)
    .outerjoin(User, User.id == Action.owner_id)
    .outerjoin(CaseReview, CaseReview.id == Action.case_review_id)
    .outerjoin(Case, Case.id == CaseReview.case_id)
    .outerjoin(_LATEST_UPDATE, _LATEST_UPDATE.id == LATEST_UPDATE_ID)
    .where(Action.id.in_(bindparam("page_ids", expanding=True)))
)


def action_rows_by_id(page_ids: list[int]) -> dict[int, ActionRow]:
    """ActionRow of each of ``page_ids`` (chosen already, in the reader's scope), by id."""
    rows = (ActionRow(**row._mapping) for row in read_rows(_ACTION_ROWS, {"page_ids": page_ids}).all())
    return {row.id: row for row in rows}


class _ActionsPage(Pagination):
    """One page of the actions list. The page's ids are chosen first (from the indexes, without the
    follow-up), and only those 25 actions get their latest update and extensions, so the cost does
    not grow with the number of matching actions. Two statements: given the ids as a subquery,
    PostgreSQL joined every action in history to its latest update before keeping the page's 25
    (300-500 ms with ten years of history)."""

    def _query_items(self) -> list[ActionRow]:
        user, f = self._query_args["user"], self._query_args["filter"]
        paging = {"page_limit": self.per_page, "page_offset": self._query_offset}
        page_ids = list(db.session.scalars(_page_ids(user, _shape(f)), {**_values(f), **paging}))
        if not page_ids:
            return []
        # The reader's scope again, in case an action moved to another agency between the two reads.
        by_id = {row.id: row for row in action_rows_by_id(page_ids).values() if can_see_action(user, row)}
        return [by_id[action_id] for action_id in page_ids if action_id in by_id]  # erased in between: left out

    def _query_count(self) -> int:
        return count_filtered(self._query_args["user"], self._query_args["filter"])


def actions_page(user: User, f: ActionFilter, page: int, per_page: int) -> Pagination:
    return _ActionsPage(page=page, per_page=per_page, error_out=False, count=True, user=user, filter=f)


def actions_for_export(user: User, f: ActionFilter):
    """Every matching action, streamed in batches so a large export does not load them all at once."""
    return db.session.scalars(filtered_actions(user, f).execution_options(yield_per=500))


@statement_per_reader
def _counted(reader: Reader, shape: tuple):
    # The selection's conditions alone: every action has its one agency, so the join the list sorts by
    # changes no count, and without it the open actions are counted from their index alone.
    return select(func.count()).select_from(Action).where(*_conditions(reader, shape))


def count_filtered(user: User, f: ActionFilter) -> int:
    return db.session.scalar(_counted(user, _shape(f)), _values(f)) or 0


@dataclass(frozen=True)
class FilterNames:
    """The names behind a filter's ids, to say the filter in words and in a file name."""

    agency_name: str | None = None
    agency_code: str | None = None
    meeting_day: date | None = None
    owner_name: str | None = None

    def words(self, f: ActionFilter) -> list[str]:
        return f.for_people(agency_name=self.agency_name, meeting_day=self.meeting_day, owner_name=self.owner_name)

    def filename(self, prefix: str, f: ActionFilter, extension: str) -> str:
        """E.g. action-summary-hou-open-or-in-progress-overdue-2026-11-26.pdf (names no person)."""
        parts = f.for_filename(agency_code=self.agency_code, meeting_day=self.meeting_day)
        return "-".join([prefix, *parts, london_today().isoformat()]) + extension


def filter_names(reader: User, f: ActionFilter) -> FilterNames:
    """Look up what the filter's ids name, as far as ``reader`` may know it: the agency was checked
    against the reader's scope when the filter was read; a meeting the reader may not see, or another
    agency's account, is not named (the filter still applies, and selects nothing of theirs)."""
    agency = db.session.get(Agency, f.agency_id) if f.agency_id is not None else None
    starts_at = None
    if f.meeting_id is not None:
        visible = select(Meeting.starts_at).where(Meeting.id == f.meeting_id, meeting_scope(reader))
        starts_at = db.session.scalar(visible)
    owner = db.session.get(User, f.owner_id) if f.owner_id is not None else None
    if owner is not None and not sees_every_agency(reader) and owner.agency_id != reader.agency_id:
        owner = None
    return FilterNames(
        agency_name=agency.name if agency else None,
        agency_code=agency.code if agency else None,
        meeting_day=starts_at.astimezone(LONDON).date() if starts_at else None,
        owner_name=owner.display_name if owner else None,
    )


@statement_per_reader
def _action_statement(reader: Reader):
    return (
        select(Action)
        .options(
            joinedload(Action.owning_agency),
            joinedload(Action.owner),
            joinedload(Action.meeting),
            joinedload(Action.case_review).joinedload(CaseReview.case),
            joinedload(Action.created_by),
        )
        .where(Action.id == bindparam("action_id"), action_scope(reader))
    )


def action_for(user, action_id: int) -> Action | None:
    return db.session.scalar(_action_statement(user), {"action_id": action_id})


class ActionPage(NamedTuple):
    """An action as its page shows it: with whether the reader may see the meeting and the case review
    it was raised at, so that the page links to them rather than only naming them."""

    action: Action
    may_see_meeting: bool
    may_see_review: bool


@statement_per_reader
def _action_page_statement(reader: Reader):
    """The action and both links' visibility in one statement (links_seen would be a second round trip
    on PostgreSQL, on every view of an action)."""
    meeting = select(Meeting.id).where(Meeting.id == Action.meeting_id, meeting_scope(reader))
    review = select(CaseReview.id).where(CaseReview.id == Action.case_review_id, case_review_scope(reader))
    return _action_statement(reader).add_columns(meeting.correlate(Action).exists(), review.correlate(Action).exists())


def action_page(user, action_id: int) -> ActionPage | None:
    row = db.session.execute(_action_page_statement(user), {"action_id": action_id}).first()
    return ActionPage(row[0], bool(row[1]), bool(row[2])) if row is not None else None


_TRAIL = (
    select(ActionUpdate)
    .options(joinedload(ActionUpdate.author))
    .where(ActionUpdate.action_id == bindparam("action_id"))
    .order_by(ActionUpdate.id.desc())
)


def trail(action: Action) -> list[ActionUpdate]:
    return list(db.session.scalars(_TRAIL, {"action_id": action.id}))


# Extension requests ------------------------------------------------------------------------


def pending_extension(action: Action) -> ExtensionRequest | None:
    """The action's request waiting for a decision (there is at most one)."""
    return db.session.scalar(
        select(ExtensionRequest)
        .options(joinedload(ExtensionRequest.requested_by))
        .where(ExtensionRequest.action_id == action.id, ExtensionRequest.status == ExtensionStatus.PENDING)
    )


_EXTENSION_REQUESTS = (
    select(ExtensionRequest)
    .options(joinedload(ExtensionRequest.requested_by), joinedload(ExtensionRequest.decided_by))
    .where(ExtensionRequest.action_id == bindparam("action_id"))
    .order_by(ExtensionRequest.id.desc())
)


def extension_requests(action: Action) -> list[ExtensionRequest]:
    """Every request made on the action, newest first, with who asked and who decided."""
    return list(db.session.scalars(_EXTENSION_REQUESTS, {"action_id": action.id}))


def extension_request_for(user, action_id: int, request_id: int) -> ExtensionRequest | None:
    """One request on an action ``user`` may see (None, a 404, otherwise)."""
    return db.session.scalar(
        select(ExtensionRequest)
        .join(Action, ExtensionRequest.action_id == Action.id)
        .options(
            joinedload(ExtensionRequest.requested_by),
            joinedload(ExtensionRequest.decided_by),
            joinedload(ExtensionRequest.action).joinedload(Action.owning_agency),
        )
        .where(ExtensionRequest.id == request_id, Action.id == action_id, action_scope(user))
    )


_WAITING = (ExtensionRequest.status == ExtensionStatus.PENDING, IS_OPEN)
_WAITING_COUNTED = (
    select(func.count(ExtensionRequest.id)).join(Action, ExtensionRequest.action_id == Action.id).where(*_WAITING)
)
_WAITING_REQUESTS = (
    select(ExtensionRequest)
    .join(Action, ExtensionRequest.action_id == Action.id)
    .options(
        joinedload(ExtensionRequest.requested_by),
        joinedload(ExtensionRequest.action).joinedload(Action.owning_agency),
    )
    .where(*_WAITING)
    .order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
    .limit(bindparam("limit", type_=Integer))
)


def pending_extension_requests(limit: int = 50) -> tuple[list[ExtensionRequest], int]:
    """Requests on open actions waiting for a chair, oldest first, and how many there are in all."""
    total = db.session.scalar(_WAITING_COUNTED)
    requests = list(db.session.scalars(_WAITING_REQUESTS, {"limit": limit}))
    return requests, total or 0


@statement_per_reader
def _links_seen(reader: Reader):
    meeting = select(Meeting.id).where(Meeting.id == bindparam("meeting_id"), meeting_scope(reader))
    review = select(CaseReview.id).where(CaseReview.id == bindparam("review_id"), case_review_scope(reader))
    return select(meeting.exists(), review.exists())


def links_seen(user, meeting_id: int, review_id: int | None) -> tuple[bool, bool]:
    """Whether ``user`` may see the meeting and the case review an action was raised at, so that the
    action page links to them rather than only naming them: one statement for both."""
    meeting, review = read_rows(_links_seen(user), {"meeting_id": meeting_id, "review_id": review_id}).one()
    return bool(meeting), bool(review)


_AGENCY_MEMBERS = (
    select(User.id, User.display_name)
    .where(User.agency_id == bindparam("agency_id"), action_owner_condition())
    .order_by(User.display_name)
)


def agency_members(agency_id: int) -> list[Row]:
    """(id, display_name) of the agency's active accounts that may update actions: who may be named as
    an action's owner."""
    return read_rows(_AGENCY_MEMBERS, {"agency_id": agency_id}).all()


_OWNER_BY_ID = select(User.id, User.display_name).where(User.id == bindparam("owner_id"))
_OWN_AGENCYS_OWNER_BY_ID = _OWNER_BY_ID.where(User.agency_id == bindparam("agency_id"))


def owners_for_filter(user, agency_id: int | None, owner_id: int | None) -> list[Row]:
    """(id, display_name) of the accounts the owner filter offers: the active members of the reader's
    own agency, or, for a reader who sees every agency, of the agency filtered on (a few dozen, where
    every account would be hundreds: an agency is chosen first). The owner filtered on is always
    offered, so that the select shows it (a former member, say), but a partner only from its own
    agency: a partner is never told the name of another agency's account."""
    if not sees_every_agency(user):
        agency_id = user.agency_id
    owners = agency_members(agency_id) if agency_id is not None else []
    if owner_id is not None and all(row.id != owner_id for row in owners):
        if sees_every_agency(user):
            owners += read_rows(_OWNER_BY_ID, {"owner_id": owner_id}).all()
        else:
            owners += read_rows(_OWN_AGENCYS_OWNER_BY_ID, {"owner_id": owner_id, "agency_id": user.agency_id}).all()
    return owners


_EVERY_AGENCY = select(Agency.id, Agency.name).order_by(Agency.name)


class AgencyChoice(NamedTuple):
    id: int
    name: str


def visible_agencies(user) -> Sequence[Row | AgencyChoice]:
    """(id, name) of the agencies the lists' agency filters offer the reader: every agency, or a
    partner's own, which came with their account (no statement for it)."""
    if not sees_every_agency(user):
        return [AgencyChoice(user.agency.id, user.agency.name)] if user.agency is not None else []
    return read_rows(_EVERY_AGENCY).all()


# Home pages -------------------------------------------------------------------------------


@dataclass
class AgencyWorkload:
    agency: Agency
    open: int
    overdue: int
    due_soon: int


_TODAY = bindparam("today", type_=Date)
_SOON = bindparam("soon", type_=Date)  # today and the next DUE_SOON_DAYS days


def _today_and_soon() -> dict:
    today = london_today()
    return {"today": today, "soon": today + timedelta(days=DUE_SOON_DAYS)}


def _open_actions_of_agency(*conditions):
    return (
        select(func.count())
        .select_from(Action)
        .where(Action.owning_agency_id == Agency.id, IS_OPEN, *conditions)
        .scalar_subquery()
    )


# Each agency's open actions counted from the open actions index by agency, the agency's entries
# alone; the overdue as all less those due today or later (workload_by_agency; nearly all open actions are overdue, ten
# years on: testing each one's due date was most of the work, 1.9 ms at ten years on SQLite).
_WORKLOAD = (
    select(
        Agency,
        _open_actions_of_agency(),
        _open_actions_of_agency(Action.due_date >= _TODAY),
        _open_actions_of_agency(Action.due_date >= _TODAY, Action.due_date <= _SOON),
    )
    .where(Agency.active.is_(True))
    .order_by(Agency.name)
)


def workload_by_agency() -> list[AgencyWorkload]:
    """Open, overdue and due-within-7-days counts for every active agency, in one query."""
    rows = db.session.execute(_WORKLOAD, _today_and_soon()).all()
    return [
        AgencyWorkload(agency, open_count, open_count - not_overdue, due_soon)
        for agency, open_count, not_overdue, due_soon in rows
    ]


@dataclass
class PartnerHome:
    counts: dict[str, int]
    actions: list[ActionRow]
    more: int


# A partner's home page: their agency's open actions, overdue first, then due within 7 days, then in
# progress, then the rest. Read from the open actions index by agency.
_MINE = (Action.owning_agency_id == bindparam("agency_id"), IS_OPEN)
_OVERDUE, _DUE_SOON, _IN_PROGRESS = (
    Action.due_date < _TODAY,
    Action.due_date <= _SOON,
    Action.status == ActionStatus.IN_PROGRESS,
)


def _mine_counted(*conditions):
    return select(func.count()).select_from(Action).where(*_MINE, *conditions).scalar_subquery()


# All of them, then the few due from today on (the overdue are the difference: partner_home), due
# within the week, and in progress but due later; not a test of each action's due date, for the
# hundreds overdue.
_PARTNER_COUNTS = select(
    _mine_counted(),
    _mine_counted(~_OVERDUE),
    _mine_counted(~_OVERDUE, _DUE_SOON),
    _mine_counted(~_DUE_SOON, _IN_PROGRESS),
)
_LIMIT = bindparam("limit", type_=Integer)
# The page's ids first; then their rows (ActionRow) by id. Overdue and due within the week are one run
# of the index in due-date order, so as many of them as the page holds are read straight from it, not
# sorted from all of the agency's; the rest (due later: few) are sorted, in progress first.
_DUE_WITHIN_THE_WEEK = (
    select(Action.id, Action.due_date, literal(0).label("part"))
    .where(*_MINE, _DUE_SOON)
    .order_by(Action.due_date, Action.id)
    .limit(_LIMIT)
    .subquery()
)
_PAGE_PARTS = union_all(
    select(*_DUE_WITHIN_THE_WEEK.c),
    select(Action.id, Action.due_date, case((_IN_PROGRESS, 1), else_=2)).where(*_MINE, ~_DUE_SOON),
).subquery()
_PARTNER_PAGE_IDS = (
    select(_PAGE_PARTS.c.id).order_by(_PAGE_PARTS.c.part, _PAGE_PARTS.c.due_date, _PAGE_PARTS.c.id).limit(_LIMIT)
)


def partner_home(user, limit: int = 25) -> PartnerHome:
    """The agency's open actions: overdue first, then due within 7 days, then in progress, then the rest."""
    values = {**_today_and_soon(), "agency_id": user.agency_id, "limit": limit}
    open_count, from_today, due_soon, in_progress = read_rows(_PARTNER_COUNTS, values).one()
    counts = {"open": open_count, "overdue": open_count - from_today, "due_soon": due_soon, "in_progress": in_progress}
    page_ids = list(read_rows(_PARTNER_PAGE_IDS, values).scalars().all())
    by_id = action_rows_by_id(page_ids) if page_ids else {}
    # Still the agency's, in case an action moved to another agency between the two reads.
    actions = [by_id[i] for i in page_ids if i in by_id and by_id[i].owning_agency_id == user.agency_id]
    return PartnerHome(counts, actions, max(0, counts["open"] - len(actions)))


class MeetingLink(NamedTuple):
    meeting: Meeting
    may_open: bool  # whether the reader may open its page (a partner sees only some of those it is invited to)


@statement_per_reader
def _next_meetings(reader: Reader):
    every = sees_every_agency(reader)
    query = (
        select(Meeting, (literal(True) if every else meeting_scope(reader)).label("may_open"))
        .where(
            Meeting.starts_at >= bindparam("from", type_=Meeting.starts_at.type),
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(Meeting.starts_at)
        .limit(bindparam("limit", type_=Integer))
    )
    if not every:
        query = query.where(or_(meeting_scope(reader), Meeting.invited_agencies.any(Agency.id == reader.agency_id)))
    return query


def next_meetings(user, limit: int = 3) -> list[MeetingLink]:
    """Today's meetings (all day: one under way is still the chair's next) and the ones after them."""
    rows = db.session.execute(_next_meetings(user), {"from": london_midnight(london_today()), "limit": limit})
    return [MeetingLink(meeting, bool(may_open)) for meeting, may_open in rows]


_AWAITING_APPROVAL = (
    select(Meeting)
    .where(
        Meeting.starts_at < bindparam("before", type_=Meeting.starts_at.type),
        Meeting.status.in_([MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS]),
    )
    .order_by(Meeting.starts_at.desc())
    .limit(bindparam("limit", type_=Integer))
)


def awaiting_approval(limit: int = 5) -> list[Meeting]:
    """Meetings held before today whose minutes are not yet approved (nor the meeting cancelled), latest
    first: for those who approve minutes, who would otherwise find them only in the meetings list."""
    return list(db.session.scalars(_AWAITING_APPROVAL, {"before": london_midnight(london_today()), "limit": limit}))

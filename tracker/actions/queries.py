"""Reads for actions, scoped by tracker.permissions: partners see only their own agency's."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    Action,
    ActionStatus,
    ActionUpdate,
    Agency,
    Case,
    CaseReview,
    Meeting,
    MeetingStatus,
    User,
)
from tracker.permissions import action_scope, case_review_scope, meeting_scope, sees_every_agency
from tracker.timeutil import london_today, utcnow

DUE_SOON_DAYS = 7
STILL_OPEN = "still_open"
STATUS_CHOICES = (
    [(STILL_OPEN, "Open or in progress")] + [(s.value, s.label) for s in ActionStatus] + [("", "Any status")]
)
SORTS = {
    "due": "Due date, earliest first",
    "-due": "Due date, latest first",
    "raised": "Newest first",
    "agency": "Agency",
}


class OutOfScope(Exception):
    """A filter names something the user may not see (answered with 404)."""


def _iso_date(raw: str | None):
    raw = (raw or "").strip()
    return date.fromisoformat(raw) if raw else None


@dataclass(frozen=True)
class ActionFilters:
    agency_id: int | None = None
    status: str = STILL_OPEN
    overdue: bool = False
    due_from: date | None = None
    due_to: date | None = None
    meeting_id: int | None = None
    case_reference: str = ""
    owner_id: int | None = None
    text: str = ""
    sort: str = "due"

    @classmethod
    def from_args(cls, args, user) -> tuple[ActionFilters, list[str]]:
        """Read the filters; nonsense is dropped with a message, an agency outside scope is OutOfScope."""
        ignored: list[str] = []
        values: dict = {}
        raw_agency = args.get("agency") or ""
        if raw_agency:
            if not raw_agency.isdigit():
                ignored.append("agency")
            else:
                agency_id = int(raw_agency)
                if not sees_every_agency(user) and agency_id != user.agency_id:
                    raise OutOfScope()
                values["agency_id"] = agency_id
        status = args.get("status", STILL_OPEN)
        if status not in {value for value, _ in STATUS_CHOICES}:
            ignored.append("status")
        else:
            values["status"] = status
        values["overdue"] = args.get("overdue") in ("1", "on", "true", "y")
        for name, key in (("due_from", "due_from"), ("due_to", "due_to")):
            try:
                values[name] = _iso_date(args.get(key))
            except ValueError:
                ignored.append(key.replace("_", " "))
        if values.get("due_from") and values.get("due_to") and values["due_from"] > values["due_to"]:
            ignored.append("due date range (the start is after the end)")
            values["due_from"] = values["due_to"] = None
        for name, key in (("meeting_id", "meeting"), ("owner_id", "owner")):
            raw = args.get(key) or ""
            if raw:
                if raw.isdigit():
                    values[name] = int(raw)
                else:
                    ignored.append(key)
        values["case_reference"] = " ".join((args.get("case") or "").split())[:40]
        values["text"] = " ".join((args.get("q") or "").split())[:100]
        sort = args.get("sort") or "due"
        if sort not in SORTS:
            ignored.append("sort")
            sort = "due"
        values["sort"] = sort
        return cls(**values), ignored

    def as_args(self) -> dict:
        """The query string that reproduces these filters (for pagination and the CSV link)."""
        args = {
            "agency": self.agency_id or "",
            "status": self.status,
            "overdue": "1" if self.overdue else "",
            "due_from": self.due_from.isoformat() if self.due_from else "",
            "due_to": self.due_to.isoformat() if self.due_to else "",
            "meeting": self.meeting_id or "",
            "case": self.case_reference,
            "owner": self.owner_id or "",
            "q": self.text,
            "sort": self.sort,
        }
        return {key: value for key, value in args.items() if value not in ("", None)}

    def for_agency(self, agency_id: int) -> ActionFilters:
        return replace(self, agency_id=agency_id)

    def describe(self) -> str:
        """A short, factual summary for the audit log (no free text a user typed beyond the case filter)."""
        parts = [
            f"{field.name}={getattr(self, field.name)}"
            for field in fields(self)
            if getattr(self, field.name) not in (None, "", False) and field.name != "text"
        ]
        if self.text:
            parts.append("text=yes")
        return " ".join(parts)[:400]


def _filtered(user, filters: ActionFilters):
    today = london_today()
    query = select(Action).where(action_scope(user))
    if filters.agency_id is not None:
        query = query.where(Action.owning_agency_id == filters.agency_id)
    if filters.status == STILL_OPEN:
        query = query.where(Action.status.in_(OPEN_STATUSES))
    elif filters.status:
        query = query.where(Action.status == ActionStatus(filters.status))
    if filters.overdue:
        query = query.where(Action.status.in_(OPEN_STATUSES), Action.due_date < today)
    if filters.due_from:
        query = query.where(Action.due_date >= filters.due_from)
    if filters.due_to:
        query = query.where(Action.due_date <= filters.due_to)
    if filters.meeting_id is not None:
        query = query.where(Action.meeting_id == filters.meeting_id)
    if filters.owner_id is not None:
        query = query.where(Action.owner_id == filters.owner_id)
    if filters.case_reference:
        query = query.where(
            Action.case_review_id.in_(
                select(CaseReview.id)
                .join(Case, CaseReview.case_id == Case.id)
                .where(Case.reference.like(f"%{filters.case_reference.upper()}%"))
            )
        )
    if filters.text:
        query = query.where(func.lower(Action.description).like(f"%{filters.text.lower()}%"))
    order = {
        "due": (Action.due_date.asc(), Action.id.asc()),
        "-due": (Action.due_date.desc(), Action.id.desc()),
        "raised": (Action.id.desc(),),
        "agency": (Agency.name.asc(), Action.due_date.asc(), Action.id.asc()),
    }[filters.sort]
    return (
        query.join(Agency, Action.owning_agency_id == Agency.id)
        .order_by(*order)
        .options(
            joinedload(Action.owning_agency),
            joinedload(Action.owner),
            joinedload(Action.meeting),
            joinedload(Action.case_review).joinedload(CaseReview.case),
        )
    )


def actions_page(user, filters: ActionFilters, page: int, per_page: int):
    return db.paginate(_filtered(user, filters), page=page, per_page=per_page, error_out=False, count=True)


def actions_for_export(user, filters: ActionFilters):
    """Every matching action, streamed in batches so a large export does not load them all at once."""
    return db.session.scalars(_filtered(user, filters).execution_options(yield_per=500))


def action_for(user, action_id: int) -> Action | None:
    return db.session.scalar(
        select(Action)
        .options(
            joinedload(Action.owning_agency),
            joinedload(Action.owner),
            joinedload(Action.meeting),
            joinedload(Action.case_review).joinedload(CaseReview.case),
        )
        .where(Action.id == action_id, action_scope(user))
    )


def trail(action: Action) -> list[ActionUpdate]:
    return list(
        db.session.scalars(
            select(ActionUpdate)
            .options(joinedload(ActionUpdate.author))
            .where(ActionUpdate.action_id == action.id)
            .order_by(ActionUpdate.id.desc())
        )
    )


def may_see_meeting(user, meeting_id: int) -> bool:
    return db.session.scalar(select(Meeting.id).where(Meeting.id == meeting_id, meeting_scope(user))) is not None


def may_see_review(user, review_id: int | None) -> bool:
    if review_id is None:
        return False
    return (
        db.session.scalar(select(CaseReview.id).where(CaseReview.id == review_id, case_review_scope(user))) is not None
    )


def agency_members(agency_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.agency_id == agency_id, User.active.is_(True)).order_by(User.display_name)
        )
    )


def owners_for_filter(user) -> list[User]:
    query = select(User).where(User.active.is_(True)).order_by(User.display_name)
    if not sees_every_agency(user):
        query = query.where(User.agency_id == user.agency_id)
    return list(db.session.scalars(query))


def visible_agencies(user) -> list[Agency]:
    query = select(Agency).order_by(Agency.name)
    if not sees_every_agency(user):
        query = query.where(Agency.id == user.agency_id)
    return list(db.session.scalars(query))


# Home pages -------------------------------------------------------------------------------


@dataclass
class AgencyWorkload:
    agency: Agency
    open: int
    overdue: int
    due_soon: int


def workload_by_agency() -> list[AgencyWorkload]:
    """Open, overdue and due-within-7-days counts for every active agency, in one query."""
    today = london_today()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    is_open = Action.status.in_(OPEN_STATUSES)
    rows = db.session.execute(
        select(
            Agency,
            func.count(Action.id).filter(is_open),
            func.count(Action.id).filter(is_open, Action.due_date < today),
            func.count(Action.id).filter(is_open, Action.due_date >= today, Action.due_date <= soon),
        )
        .outerjoin(Action, Action.owning_agency_id == Agency.id)
        .where(Agency.active.is_(True))
        .group_by(Agency.id)
        .order_by(Agency.name)
    ).all()
    return [AgencyWorkload(agency, open_count, overdue, due_soon) for agency, open_count, overdue, due_soon in rows]


@dataclass
class PartnerHome:
    counts: dict[str, int]
    actions: list[Action]
    more: int


def partner_home(user, limit: int = 25) -> PartnerHome:
    """The agency's open actions: overdue first, then due within 7 days, then in progress, then the rest."""
    today = london_today()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    mine = [Action.owning_agency_id == user.agency_id, Action.status.in_(OPEN_STATUSES)]
    overdue = Action.due_date < today
    due_soon = Action.due_date <= soon
    in_progress = Action.status == ActionStatus.IN_PROGRESS
    counts_row = db.session.execute(
        select(
            func.count(Action.id),
            func.count(Action.id).filter(overdue),
            func.count(Action.id).filter(~overdue, due_soon),
            func.count(Action.id).filter(~due_soon, in_progress),
        ).where(*mine)
    ).one()
    counts = dict(zip(("open", "overdue", "due_soon", "in_progress"), counts_row, strict=True))
    bucket = case((overdue, 0), (due_soon, 1), (in_progress, 2), else_=3)
    actions = list(
        db.session.scalars(
            select(Action)
            .where(*mine)
            .options(
                joinedload(Action.owning_agency),
                joinedload(Action.owner),
                joinedload(Action.case_review).joinedload(CaseReview.case),
            )
            .order_by(bucket, Action.due_date, Action.id)
            .limit(limit)
        )
    )
    return PartnerHome(counts, actions, max(0, counts["open"] - len(actions)))


def next_meetings(user, limit: int = 3) -> list[Meeting]:
    query = (
        select(Meeting)
        .where(Meeting.starts_at >= utcnow(), Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at)
        .limit(limit)
    )
    if not sees_every_agency(user):
        query = query.where(or_(meeting_scope(user), Meeting.invited_agencies.any(Agency.id == user.agency_id)))
    return list(db.session.scalars(query))

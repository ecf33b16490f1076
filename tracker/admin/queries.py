"""Reads for the admin area. Only admins reach these views (see the views' permissions)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Row, String, and_, false, func, or_, select, text, tuple_, union_all
from sqlalchemy.orm import joinedload

from tracker.auth.passwords import NO_PASSWORD
from tracker.extensions import db, read_rows
from tracker.models import (
    AccountToken,
    Action,
    Agency,
    AuditEvent,
    Case,
    CaseReview,
    LearningTheme,
    LegalHold,
    Role,
    SecondFactor,
    TokenPurpose,
    User,
)
from tracker.models.case import case_review_themes
from tracker.params import date_param, id_param, search_text
from tracker.timeutil import london_midnight, utcnow


@dataclass(frozen=True)
class UserFilters:
    text: str = ""
    role: str = ""
    agency_id: int | None = None
    status: str = "active"  # active | inactive | all

    STATUSES = ("active", "inactive", "all")

    @classmethod
    def from_args(cls, args) -> tuple[UserFilters, list[str]]:
        """Read filters from the query string; nonsense values are dropped with a message."""
        ignored = []
        text = search_text(args.get("q"), 100)
        role = args.get("role") or ""
        if role and role not in {r.value for r in Role}:
            ignored.append("role")
            role = ""
        raw_agency = args.get("agency") or ""
        agency_id = id_param(raw_agency)
        if raw_agency and agency_id is None:
            ignored.append("agency")
        status = args.get("status") or "active"
        if status not in cls.STATUSES:
            ignored.append("status")
            status = "active"
        return cls(text=text, role=role, agency_id=agency_id, status=status), ignored


def users_page(filters: UserFilters, page: int, per_page: int):
    query = select(User).join(User.agency).order_by(func.lower(User.display_name), User.id)
    if filters.text:
        pattern = f"%{filters.text.lower()}%"
        query = query.where(or_(func.lower(User.display_name).like(pattern), User.email.like(pattern)))
    if filters.role:
        query = query.where(User.role == Role(filters.role))
    if filters.agency_id is not None:
        query = query.where(User.agency_id == filters.agency_id)
    if filters.status != "all":
        query = query.where(User.active.is_(filters.status == "active"))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def user_by_id(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def email_taken(email: str, *, except_user_id: int | None = None) -> bool:
    query = select(User.id).where(User.email == email.strip().lower())
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return db.session.scalar(query) is not None


_ALL_AGENCIES = select(Agency.id, Agency.code, Agency.name).order_by(Agency.name)


def all_agencies() -> Sequence[Row]:
    """Every agency, deactivated ones too (for the filters of accounts and events), by name: rows of
    its id, code and name (fifteen Agency entities took a quarter of a millisecond to load)."""
    return read_rows(_ALL_AGENCIES).all()


def active_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))


def agencies_with_user_counts() -> list[tuple[Agency, int]]:
    counts = (
        select(User.agency_id, func.count(User.id).label("users"))
        .where(User.active.is_(True))
        .group_by(User.agency_id)
        .subquery()
    )
    query = (
        select(Agency, func.coalesce(counts.c.users, 0))
        .outerjoin(counts, counts.c.agency_id == Agency.id)
        .order_by(Agency.active.desc(), Agency.name)
    )
    return [(agency, count) for agency, count in db.session.execute(query)]


def agency_by_id(agency_id: int) -> Agency | None:
    return db.session.get(Agency, agency_id)


def agency_clash(name: str, code: str, *, except_agency_id: int | None = None) -> dict[str, bool]:
    query = select(Agency).where(or_(func.lower(Agency.name) == name.lower(), Agency.code == code))
    if except_agency_id is not None:
        query = query.where(Agency.id != except_agency_id)
    clashes = list(db.session.scalars(query))
    return {
        "name": any(agency.name.lower() == name.lower() for agency in clashes),
        "code": any(agency.code == code for agency in clashes),
    }


# The audit log ----------------------------------------------------------------------------
# Millions of events: every filter is answered from an index (see migration a7d2c9e4f1b6), pages
# are found by keyset ("events older than this one"), never by OFFSET, and nothing counts them all.

# Record kinds an admin can search by, with the words the page uses for them.
AUDIT_OBJECT_TYPES = {
    "cases": "Case",
    "case_reviews": "Case review",
    "meetings": "Meeting",
    "actions": "Action",
    "attendance": "Attendance row",
    "users": "User account",
    "agencies": "Agency",
    "learning_themes": "Learning theme",
    "settings": "Setting",
}
# What shows a case's content to the person named in the event (for "who saw case X, and when").
DISCLOSURES_OF_A_MEETING = ("meeting_viewed", "matters_arising_viewed", "minutes_pdf_downloaded")
EVENT_KIND = re.compile(r"[a-z][a-z_]{0,59}")


@dataclass(frozen=True)
class AuditFilters:
    user_id: int | None = None  # the account by number (links from an account's page and refusal alerts)
    account_email: str = ""  # the account by email address (the filter form); decides over user_id
    agency_id: int | None = None
    action: str = ""
    object_type: str = ""
    object_id: int | None = None
    case_reference: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args) -> tuple[AuditFilters, list[str]]:
        """Read the filters from a query string; what cannot be used is dropped and named."""
        ignored: list[str] = []

        def number(key: str, label: str) -> int | None:
            raw = search_text(args.get(key), 20)
            value = id_param(raw)
            if raw and value is None:
                ignored.append(label)
            return value

        action = search_text(args.get("action"), 60)
        if action and not EVENT_KIND.fullmatch(action):
            ignored.append("kind of event")
            action = ""
        object_type = search_text(args.get("type"), 40)
        if object_type and object_type not in AUDIT_OBJECT_TYPES:
            ignored.append("kind of record")
            object_type = ""
        dates: dict[str, date | None] = {}
        for key in ("from", "to"):
            raw = search_text(args.get(key), 20)
            dates[key] = date_param(raw) if raw else None
            if raw and dates[key] is None:
                ignored.append(f"{key} date")
        if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
            ignored.append("date range (the start is after the end)")
            dates = {"from": None, "to": None}
        filters = cls(
            user_id=number("user", "account"),
            account_email=search_text(args.get("account"), 254).lower(),
            agency_id=number("agency", "agency"),
            action=action,
            object_type=object_type,
            object_id=number("record", "record number"),
            case_reference=search_text(args.get("case"), 40).upper(),
            date_from=dates["from"],
            date_to=dates["to"],
        )
        return filters, ignored

    def as_args(self) -> dict:
        """The filters as query-string arguments (for pagination and export links), empty ones left out."""
        values = {
            "account": self.account_email,
            "user": None if self.account_email else self.user_id,
            "agency": self.agency_id,
            "action": self.action,
            "type": self.object_type,
            "record": self.object_id,
            "case": self.case_reference,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }
        return {key: value for key, value in values.items() if value not in (None, "")}

    def naming(self, account: User | None) -> AuditFilters:
        """The filters with the account found by its email address named by its number instead, for the
        page's links (so that addresses do not travel in every pagination and export link)."""
        if account is None or not self.account_email:
            return self
        return replace(self, account_email="", user_id=account.id)

    def for_audit(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.as_args().items())[:400]


def case_by_reference(reference: str) -> Case | None:
    """The case an admin asked about by reference (the reference only: admins read no case content)."""
    return db.session.scalar(select(Case).where(Case.reference == reference)) if reference else None


def _records_of_case(case: Case):
    """SQL condition on AuditEvent: events that disclosed ``case`` to their user, or touched it: the
    case itself, its reviews and their actions, and views or downloads of the meetings it was reviewed in."""
    reviews = select(CaseReview.id).where(CaseReview.case_id == case.id)
    review_ids = [str(review_id) for review_id in db.session.scalars(reviews)]
    action_ids = [
        str(action_id) for action_id in db.session.scalars(select(Action.id).where(Action.case_review_id.in_(reviews)))
    ]
    meeting_ids = [
        str(meeting_id)
        for meeting_id in db.session.scalars(
            select(CaseReview.meeting_id).where(CaseReview.case_id == case.id).distinct()
        )
    ]
    return or_(
        and_(AuditEvent.object_type == "cases", AuditEvent.object_id == str(case.id)),
        and_(AuditEvent.object_type == "case_reviews", AuditEvent.object_id.in_(review_ids)),
        and_(AuditEvent.object_type == "actions", AuditEvent.object_id.in_(action_ids)),
        and_(
            AuditEvent.object_type == "meetings",
            AuditEvent.object_id.in_(meeting_ids),
            AuditEvent.action.in_(DISCLOSURES_OF_A_MEETING),
        ),
    )


def account_filtered_on(filters: AuditFilters) -> User | None:
    """The account the filters name: by email address if one was typed, else by number (None if none
    is named, or none has that address or number)."""
    if filters.account_email:
        return db.session.scalar(select(User).where(User.email == filters.account_email))
    return db.session.get(User, filters.user_id) if filters.user_id is not None else None


def _audit_query(filters: AuditFilters, case: Case | None, account: User | None, *, by_agency: bool = True):
    query = select(AuditEvent)
    if filters.account_email:  # an address no account has matches no event, rather than every event
        query = query.where(AuditEvent.user_id == account.id if account is not None else false())
    elif filters.user_id is not None:
        query = query.where(AuditEvent.user_id == filters.user_id)
    if filters.agency_id is not None and by_agency:
        query = query.where(AuditEvent.user_id.in_(select(User.id).where(User.agency_id == filters.agency_id)))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
        if filters.object_id is not None:
            query = query.where(AuditEvent.object_id == str(filters.object_id))
    if filters.case_reference:
        query = query.where(_records_of_case(case) if case is not None else false())
    if filters.date_from:
        query = query.where(AuditEvent.at >= london_midnight(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.at < london_midnight(filters.date_to + timedelta(days=1)))
    return query


class AuditLine(NamedTuple):
    """An event as the audit log's page shows it (the CSV export reads AuditEvent entities, with emails)."""

    id: int
    at: datetime
    action: str
    object_type: str | None
    object_id: str | None
    detail: str
    ip_address: str | None
    user_name: str | None  # None: not signed in
    agency_code: str | None


# The page's columns: the event's, and its account's name and agency. Read as rows, not entities: 50
# AuditEvents, each with its User and Agency, cost about a third of the page in loading alone.
_AUDIT_LINE_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.detail,
    AuditEvent.ip_address,
    User.display_name,
    Agency.code,
)


@dataclass
class AuditPage:
    events: list[AuditLine]
    newer: int | None  # the id to pass as ``after`` for the newer page, or None on the newest
    older: int | None  # the id to pass as ``before`` for the older page, or None on the oldest
    case: Case | None
    account: User | None  # the account filtered on, if any
    references: dict[tuple[str, str], str]  # (object type, id) -> a reference to show beside it


# An agency's accounts are read one by one from the (user_id, at) index, newest first, at most a page
# each, and merged: a page costs the same however long the history. Beyond this many accounts (SQLite
# caps a compound query at 500 parts) the agency is one IN condition instead.
MAX_ACCOUNTS_MERGED = 400


def _fetch(
    filters: AuditFilters,
    case: Case | None,
    account: User | None,
    conditions: list,
    order: tuple,
    limit: int,
    *,
    as_lines: bool = False,
) -> list:
    """The matching events, in ``order``, at most ``limit``: AuditEvent entities with their accounts,
    or, ``as_lines``, AuditLine rows (the page's)."""
    query = _audit_query(filters, case, account, by_agency=False).where(*conditions)
    if filters.agency_id is not None and filters.user_id is None and not filters.account_email:
        user_ids = list(db.session.scalars(select(User.id).where(User.agency_id == filters.agency_id)))
        if not user_ids:
            return []
        if len(user_ids) <= MAX_ACCOUNTS_MERGED:
            parts = [
                query.with_only_columns(AuditEvent.id)
                .where(AuditEvent.user_id == user_id)
                .order_by(*order)
                .limit(limit)
                for user_id in user_ids
            ]
            merged = union_all(*(select(part.subquery().c.id) for part in parts))
            query = select(AuditEvent).where(AuditEvent.id.in_(merged))
        else:
            query = query.where(AuditEvent.user_id.in_(user_ids))
    if as_lines:
        query = (
            query.with_only_columns(*_AUDIT_LINE_COLUMNS)
            .outerjoin(User, User.id == AuditEvent.user_id)
            .outerjoin(Agency, Agency.id == User.agency_id)
            .order_by(*order)
            .limit(limit)
        )
        return [AuditLine(*row) for row in read_rows(query).all()]
    query = query.options(joinedload(AuditEvent.user).joinedload(User.agency)).order_by(*order).limit(limit)
    return list(db.session.scalars(query))


NEWEST_FIRST = (AuditEvent.at.desc(), AuditEvent.id.desc())
OLDEST_FIRST = (AuditEvent.at.asc(), AuditEvent.id.asc())


def audit_page(
    filters: AuditFilters, per_page: int, *, before: int | None = None, after: int | None = None
) -> AuditPage:
    """One page of matching events, newest first: the newest, or those just older than event
    ``before``, or just newer than event ``after``."""
    case, account = case_by_reference(filters.case_reference), account_filtered_on(filters)
    cursor_id = before if before is not None else after
    cursor = db.session.get(AuditEvent, cursor_id) if cursor_id is not None else None
    if cursor is not None and after is not None:
        newer_than_cursor = tuple_(AuditEvent.at, AuditEvent.id) > tuple_(cursor.at, cursor.id)
        rows = _fetch(filters, case, account, [newer_than_cursor], OLDEST_FIRST, per_page + 1, as_lines=True)
        more_newer, events = len(rows) > per_page, list(reversed(rows[:per_page]))
        more_older = True
    else:
        conditions = [tuple_(AuditEvent.at, AuditEvent.id) < tuple_(cursor.at, cursor.id)] if cursor else []
        rows = _fetch(filters, case, account, conditions, NEWEST_FIRST, per_page + 1, as_lines=True)
        more_older, events = len(rows) > per_page, rows[:per_page]
        more_newer = cursor is not None
    return AuditPage(
        events=events,
        newer=events[0].id if events and more_newer else None,
        older=events[-1].id if events and more_older else None,
        case=case,
        account=account,
        references=_references_for(events),
    )


def audit_events_for_export(filters: AuditFilters, limit: int) -> list[AuditEvent] | None:
    """Every matching event, newest first, or None if there are more than ``limit`` (narrow the filters)."""
    case, account = case_by_reference(filters.case_reference), account_filtered_on(filters)
    events = _fetch(filters, case, account, [], NEWEST_FIRST, limit + 1)
    return None if len(events) > limit else events


def _references_for(events: list[AuditLine]) -> dict[tuple[str, str], str]:
    """Case references for the cases on the page (one query, asked even when no case is on the page, so
    that a page's statements do not vary with what it lists): what the admin searches by."""
    case_ids = {int(event.object_id) for event in events if event.object_type == "cases" and event.object_id}
    rows = db.session.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids)))
    return {("cases", str(case_id)): reference for case_id, reference in rows}


def audit_actions() -> list[str]:
    """Every kind of event recorded so far, read from the (action, at) index one kind at a time
    (a loose index scan: a few dozen index seeks rather than reading millions of rows)."""
    statement = text(
        "WITH RECURSIVE kinds(value) AS ("
        " SELECT MIN(action) FROM audit_events"
        " UNION ALL"
        " SELECT (SELECT MIN(action) FROM audit_events WHERE action > kinds.value) FROM kinds"
        " WHERE kinds.value IS NOT NULL"
        ") SELECT value FROM kinds WHERE value IS NOT NULL"
    ).columns(value=String)  # a SELECT to SQLAlchemy, so that it is not taken for a write (reports/cache.py)
    return list(db.session.scalars(statement))


def active_legal_holds() -> list[LegalHold]:
    return list(
        db.session.scalars(
            select(LegalHold)
            .options(joinedload(LegalHold.case), joinedload(LegalHold.placed_by))
            .where(LegalHold.released_at.is_(None))
            .order_by(LegalHold.placed_at.desc(), LegalHold.id.desc())
        )
    )


def recently_released_holds(limit: int = 20) -> list[LegalHold]:
    return list(
        db.session.scalars(
            select(LegalHold)
            .options(joinedload(LegalHold.case), joinedload(LegalHold.released_by))
            .where(LegalHold.released_at.is_not(None))
            .order_by(LegalHold.released_at.desc(), LegalHold.id.desc())
            .limit(limit)
        )
    )


def legal_hold_by_id(hold_id: int) -> LegalHold | None:
    return db.session.get(LegalHold, hold_id)


def case_is_held(case: Case) -> bool:
    query = select(LegalHold.id).where(LegalHold.case_id == case.id, LegalHold.released_at.is_(None))
    return db.session.scalar(query) is not None


def themes() -> list[LearningTheme]:
    return list(db.session.scalars(select(LearningTheme).order_by(LearningTheme.active.desc(), LearningTheme.name)))


def theme_review_counts() -> dict[int, int]:
    """How many case reviews carry each theme (a count only: administrators see no case content)."""
    rows = db.session.execute(
        select(case_review_themes.c.theme_id, func.count()).group_by(case_review_themes.c.theme_id)
    )
    return {theme_id: count for theme_id, count in rows}


def theme_by_id(theme_id: int) -> LearningTheme | None:
    return db.session.get(LearningTheme, theme_id)


def theme_name_taken(name: str) -> bool:
    return db.session.scalar(select(LearningTheme.id).where(func.lower(LearningTheme.name) == name.lower())) is not None


@dataclass(frozen=True)
class SignInStatus:
    """What an admin may know about how a user signs in: never a password or a secret."""

    has_password: bool
    open_link: TokenPurpose | None  # an invitation or reset link that still works
    link_expires_at: object
    second_factor: bool


def sign_in_status(user: User) -> SignInStatus:
    open_link = db.session.scalar(
        select(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None), AccountToken.expires_at > utcnow())
        .order_by(AccountToken.id.desc())
        .limit(1)
    )
    factor = db.session.get(SecondFactor, user.id)
    return SignInStatus(
        has_password=user.password_hash != NO_PASSWORD,
        open_link=open_link.purpose if open_link else None,
        link_expires_at=open_link.expires_at if open_link else None,
        second_factor=factor is not None and factor.secret is not None,
    )

"""Reads for the admin area. Only admins reach these views (see the views' permissions)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from tracker.auth.passwords import NO_PASSWORD
from tracker.extensions import db
from tracker.models import AccountToken, Agency, AuditEvent, LearningTheme, Role, SecondFactor, TokenPurpose, User
from tracker.timeutil import utcnow


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
        text = (args.get("q") or "").strip()[:100]
        role = args.get("role") or ""
        if role and role not in {r.value for r in Role}:
            ignored.append("role")
            role = ""
        agency_id = None
        if raw_agency := args.get("agency"):
            if raw_agency.isdigit():
                agency_id = int(raw_agency)
            else:
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


def all_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).order_by(Agency.name)))


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


def audit_page(page: int, per_page: int, action: str = ""):
    query = select(AuditEvent).options(joinedload(AuditEvent.user)).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def themes() -> list[LearningTheme]:
    return list(db.session.scalars(select(LearningTheme).order_by(LearningTheme.active.desc(), LearningTheme.name)))


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

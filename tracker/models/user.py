from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model
from tracker.models.agency import Agency
from tracker.models.types import enum_type
from tracker.timeutil import UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    CHAIR = "chair"
    PARTNER = "partner"
    MANAGER = "manager"

    @property
    def label(self) -> str:
        return {
            Role.ADMIN: "Administrator",
            Role.CHAIR: "Chair",
            Role.PARTNER: "Partner agency officer",
            Role.MANAGER: "Manager",
        }[self]


class User(UserMixin, Model):
    """A person who signs in. Never deleted: deactivated, so history keeps its authors."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    is_spoc: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    # SHA-256 (hex) of the secret in the user's private calendar-feed URL; the secret itself is shown
    # once, when made, and never stored. None means no feed. Cleared on deactivation.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="users", lazy="joined")

    # Flask-Login: a deactivated user is never loaded into a request.
    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class UserSession(Model):
    """One row per sign-in. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class LoginFailure(Model):
    """A failed sign-in (a wrong password or second-factor code), kept for the throttling window
    (shared by every worker).

    ``account_key`` is a keyed hash of the e-mail address as typed (tracker/auth/throttle.py), so
    the table never holds what someone typed (a password typed into the e-mail field, say), yet an
    address that has no account is throttled exactly like one that has.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_account_key_at", "account_key", "at"),
        Index("ix_login_failures_ip_at", "ip_address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    ip_address: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

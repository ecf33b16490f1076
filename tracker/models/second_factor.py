"""The second factor: a TOTP authenticator app and single-use recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model
from tracker.timeutil import UTCDateTime, utcnow


class SecondFactor(Model):
    """A user's authenticator app (one row per user, once they have been asked to set one up).

    ``secret`` is the confirmed TOTP key; ``pending_secret`` the one being set up (shown as a QR
    code) until the user proves it with a code. ``last_used_step`` is the TOTP time step of the
    last code accepted: a code is refused unless its step is later, so no code works twice.
    ``declined_at``: a partner, for whom the second factor is optional, chose not to set it up.
    """

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret: Mapped[str | None] = mapped_column(String(64))
    pending_secret: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_step: Mapped[int | None]
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RecoveryCode(Model):
    """One single-use recovery code, stored as an argon2id hash like a password."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

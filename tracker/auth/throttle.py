"""Failed sign-in throttling, kept in the database so it holds across worker processes.

Each failure is a row. An account (by e-mail) or an IP address with too many failures inside
the sliding window must wait until the oldest of them leaves the window. Nothing is ever
locked permanently: a stranger can delay a real user by at most one window, and an
administrator setting a temporary password clears the account's failures at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, select

from tracker.extensions import db
from tracker.models import LoginFailure
from tracker.timeutil import utcnow


@dataclass(frozen=True)
class Throttled:
    minutes: int  # whole minutes until another attempt is allowed (at least 1)


def _wait_after(oldest: datetime | None, now: datetime) -> int:
    window = current_app.config["LOGIN_THROTTLE_WINDOW"]
    if oldest is None:
        return 1
    seconds = (oldest + window - now).total_seconds()
    return max(1, math.ceil(seconds / 60))


def _failures_since(column, value, since):
    return db.session.execute(
        select(func.count(LoginFailure.id), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > since)
    ).one()


def check(email: str, ip_address: str) -> Throttled | None:
    """Return Throttled if this e-mail address or IP address must wait before trying again."""
    config = current_app.config
    now = utcnow()
    since = now - config["LOGIN_THROTTLE_WINDOW"]
    limits = (
        (LoginFailure.email, email, config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        (LoginFailure.ip_address, ip_address, config["LOGIN_MAX_FAILURES_PER_IP"]),
    )
    for column, value, limit in limits:
        count, oldest = _failures_since(column, value, since)
        if count >= limit:
            # The attempt that would push us over waits for the oldest failure to expire.
            return Throttled(minutes=_wait_after(oldest, now))
    return None


def record_failure(email: str, ip_address: str) -> None:
    db.session.add(LoginFailure(email=email, ip_address=ip_address, at=utcnow()))


def clear_failures(email: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))

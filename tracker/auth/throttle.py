"""Failed sign-in throttling, kept in the database so it holds across worker processes.

Each failure (a wrong password, or a wrong second-factor code) is a row. An account that has
too many failures inside the sliding window must wait until the oldest of them leaves the
window; nothing is ever locked permanently, so a stranger can delay a real user by at most one
window, and a password reset clears the account's failures at once.

Limits per account do the work. The per-address ceiling is much higher, because a whole office
can sit behind one address: thirty colleagues who each mistype their password a few times must
all still be able to sign in. The ceiling only stops one address trying passwords across very
many accounts.

An account is counted by a keyed hash of the e-mail address as typed (``account_key``): an
address with no account is throttled exactly as one with an account (so throttling tells a
guesser nothing), and what was typed is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
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


def account_key(email: str) -> str:
    """The throttling key for an e-mail address: HMAC-SHA256 under the app's secret key."""
    normalised = (email or "").strip().lower()
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"sign-in-throttle:" + normalised.encode(), hashlib.sha256).hexdigest()


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
        (LoginFailure.account_key, account_key(email), config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        (LoginFailure.ip_address, ip_address, config["LOGIN_MAX_FAILURES_PER_IP"]),
    )
    for column, value, limit in limits:
        count, oldest = _failures_since(column, value, since)
        if count >= limit:
            # The attempt that would push us over waits for the oldest failure to expire.
            return Throttled(minutes=_wait_after(oldest, now))
    return None


def record_failure(email: str, ip_address: str) -> None:
    """Count a failure against the account and the address; failures older than the window go."""
    now = utcnow()
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - current_app.config["LOGIN_THROTTLE_WINDOW"]))
    db.session.add(LoginFailure(account_key=account_key(email), ip_address=ip_address, at=now))


def clear_failures(email: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.account_key == account_key(email)))

"""Sign-in state kept in the signed session cookie between the steps of signing in, and the mark of
a recent password confirmation.

After the password is right, and before the second step is passed, the cookie holds only the user's
id, when the password was checked and where to go next: no server-side session exists yet, so no
page but the second step's is reachable. The state lapses after ten minutes.

Changing or removing a second factor needs a fresh sign-in: the password typed again within the
last ten minutes of this session (``mark_reauthenticated``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import session

from tracker.extensions import db
from tracker.models import User
from tracker.timeutil import utcnow

PENDING_KEY = "pending_sign_in"
PENDING_LIFETIME = timedelta(minutes=10)
REAUTHENTICATED_KEY = "reauthenticated_at"
REAUTHENTICATION_LIFETIME = timedelta(minutes=10)


def begin(user: User, next_url: str) -> None:
    """The password is right: remember who is signing in (in a fresh cookie) until the second step."""
    session.clear()
    session[PENDING_KEY] = {"user_id": user.id, "at": utcnow().timestamp(), "next": next_url}


def pending_user() -> User | None:
    """The active user half-way through signing in with this cookie, or None."""
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    started = state.get("at")
    if not isinstance(started, (int, float)) or utcnow().timestamp() - started > PENDING_LIFETIME.total_seconds():
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, state.get("user_id"))
    return user if user is not None and user.active else None


def next_url(default: str) -> str:
    state = session.get(PENDING_KEY)
    target = state.get("next") if isinstance(state, dict) else None
    return target if isinstance(target, str) and target else default


def clear() -> None:
    session.pop(PENDING_KEY, None)


def mark_reauthenticated() -> None:
    session[REAUTHENTICATED_KEY] = utcnow().timestamp()


def recently_reauthenticated() -> bool:
    at = session.get(REAUTHENTICATED_KEY)
    return isinstance(at, (int, float)) and utcnow().timestamp() - at <= REAUTHENTICATION_LIFETIME.total_seconds()

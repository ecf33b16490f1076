"""Server-side session records.

The signed cookie carries a random token (``sid``); the database keeps its SHA-256 with the
sign-in time and last activity. A request is signed in only while that row is open, younger
than the absolute limit and active within the idle limit, so ending the row (sign-out,
password change, deactivation, role or agency change) signs out every copy of the cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, request, session
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import User, UserSession
from tracker.timeutil import utcnow

SESSION_KEY = "sid"
# Activity is written at most this often, so most page views do not write.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> UserSession:
    """Begin a fresh session: the old cookie contents (and CSRF token) are discarded."""
    token = secrets.token_urlsafe(32)
    session.clear()
    session[SESSION_KEY] = token
    session.permanent = True
    record = UserSession(
        token_hash=_hash(token),
        user=user,
        ip_address=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:200],
    )
    db.session.add(record)
    return record


def current_session_record() -> UserSession | None:
    token = session.get(SESSION_KEY)
    if not token:
        return None
    return db.session.scalar(_SESSION_BY_TOKEN_HASH, {"token_hash": _hash(token)})


# Asked on every signed-in request, so built once: building a statement and its cache key costs more
# than running it. The user (and their agency, joined by the User mapping) comes with the session
# row: one query per signed-in request rather than two.
_SESSION_BY_TOKEN_HASH = (
    select(UserSession).options(joinedload(UserSession.user)).where(UserSession.token_hash == bindparam("token_hash"))
)


def _expiry_reason(record: UserSession, now) -> str | None:
    if record.ended_at is not None:
        return "ended"
    if now - record.created_at > current_app.config["SESSION_ABSOLUTE_TIMEOUT"]:
        return "absolute timeout"
    if now - record.last_seen_at > current_app.config["SESSION_IDLE_TIMEOUT"]:
        return "idle timeout"
    return None


def load_user_for_request(user_id: str) -> User | None:
    """Flask-Login's user loader: the user, only if this cookie's session row is still valid."""
    record = current_session_record()
    if record is None or str(record.user_id) != user_id:
        return None
    now = utcnow()
    reason = _expiry_reason(record, now)
    if reason is not None:
        if record.ended_at is None:
            record.ended_at, record.end_reason = now, reason
        g.session_expired = True
        session.clear()
        return None
    if now - record.last_seen_at > LAST_SEEN_RESOLUTION:
        record.last_seen_at = now
    user = record.user
    return user if user.active else None


def end_current_session(reason: str) -> None:
    record = current_session_record()
    if record is not None and record.ended_at is None:
        record.ended_at, record.end_reason = utcnow(), reason
    session.clear()


def end_all_sessions(user: User, reason: str) -> int:
    """End every open session of ``user`` (all devices, all workers). Returns how many."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) or 0  # a CursorResult for an UPDATE

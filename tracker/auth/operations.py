"""Sign-in, sign-out and password writes. Operations add and flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tracker import audit
from tracker.auth import passwords, sessions, throttle
from tracker.extensions import db
from tracker.models import User


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    throttled: throttle.Throttled | None = None


def attempt_sign_in(email: str, password: str, ip_address: str) -> SignInResult:
    """Check the credentials, honouring throttling. On success a new session is started."""
    email = normalise_email(email)
    waiting = throttle.check(email, ip_address)
    if waiting is not None:
        audit.record("sign_in_throttled", detail=f"email={email[:80]}", even_if_refused=True)
        return SignInResult(throttled=waiting)

    user = db.session.scalar(select(User).where(User.email == email))
    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        throttle.record_failure(email, ip_address)
        reason = "unknown account" if user is None else ("deactivated" if not user.active else "wrong password")
        audit.record("sign_in_failed", user, detail=f"email={email[:80]} reason={reason}", user=user)
        return SignInResult()

    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    sessions.start_session(user)
    audit.record("sign_in", user, user=user)
    db.session.flush()
    return SignInResult(user=user)


def sign_out(user: User) -> None:
    sessions.end_current_session("signed out")
    audit.record("sign_out", user, user=user)


def change_own_password(user: User, new_password: str) -> None:
    """Set a new password, end every session of the user, then start a new one here."""
    user.password_hash = passwords.hash_password(new_password)
    user.must_change_password = False
    sessions.end_all_sessions(user, "password changed")
    sessions.start_session(user)
    audit.record("password_changed", user)
    db.session.flush()

"""One-time account links (invitations and password resets) sent by e-mail.

The link carries a random token (``secrets.token_urlsafe``); the database keeps only its SHA-256.
A token works once, until it expires (72 hours for an invitation, 1 hour for a reset). Issuing a
new link, or using one, ends every other open link of that user.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from tracker.extensions import db
from tracker.models import AccountToken, TokenPurpose, User
from tracker.timeutil import utcnow

LIFETIMES = {
    TokenPurpose.INVITATION: timedelta(hours=72),
    TokenPurpose.PASSWORD_RESET: timedelta(hours=1),
}
# Longest token accepted from a URL: token_urlsafe(32) is 43 characters.
MAX_TOKEN_LENGTH = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime_hours(purpose: TokenPurpose) -> int:
    return int(LIFETIMES[purpose].total_seconds() // 3600)


def end_open_tokens(user: User) -> None:
    """Every link of ``user`` not yet used stops working now."""
    now = utcnow()
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None), AccountToken.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def issue(user: User, purpose: TokenPurpose) -> str:
    """A new link for ``user``; earlier open links stop working. Returns the token for the e-mail only."""
    end_open_tokens(user)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + LIFETIMES[purpose]
    record = AccountToken(user=user, purpose=purpose, token_hash=_hash(token), created_at=now, expires_at=expires_at)
    db.session.add(record)
    db.session.flush()
    return token


def usable(token: str) -> AccountToken | None:
    """The open, unexpired token of an active user, or None (unknown, used, expired or deactivated)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    record = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == _hash(token)))
    if record is None or record.used_at is not None or record.expires_at <= utcnow() or not record.user.active:
        return None
    return record


def spend(record: AccountToken) -> bool:
    """Mark the link used, in one UPDATE that only succeeds while it is open and unexpired."""
    spent = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == record.id, AccountToken.used_at.is_(None), AccountToken.expires_at > utcnow())
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(record)
    return getattr(spent, "rowcount", 0) == 1


def issued_since(user: User, purpose: TokenPurpose, since) -> bool:
    return (
        db.session.scalar(
            select(AccountToken.id).where(
                AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.created_at > since
            )
        )
        is not None
    )

"""Sign-in, sign-out, second factor, password and account-link writes. Operations add and flush;
the request commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import delete, func, or_, select, update

from tracker import audit
from tracker.auth import passwords, sessions, throttle, tokens, two_step
from tracker.extensions import db
from tracker.models import AccountToken, RecoveryCode, SecondFactor, TokenPurpose, User
from tracker.notify import outbox
from tracker.notify.account import invitation_message, password_reset_message
from tracker.permissions import second_factor_required
from tracker.timeutil import utcnow

# A second reset e-mail to the same person within this time is not sent (no mail flooding).
RESET_EMAIL_INTERVAL = timedelta(minutes=5)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _account(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    throttled: throttle.Throttled | None = None


def check_password(email: str, password: str, ip_address: str) -> SignInResult:
    """The first step of signing in: the password, honouring throttling.

    A failure is audited against the account it matched, or against no account: what was typed is
    never written down (it may be a password typed into the wrong field).
    """
    email = normalise_email(email)
    user = _account(email)
    waiting = throttle.check(email, ip_address)
    if waiting is not None:
        audit.record("sign_in_throttled", user, user=user, even_if_refused=True)
        return SignInResult(throttled=waiting)

    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        throttle.record_failure(email, ip_address)
        if user is None:
            audit.record("sign_in_failed", detail="reason=no such account", user=None)
        else:
            reason = "deactivated" if not user.active else "wrong password"
            audit.record("sign_in_failed", user, detail=f"reason={reason}", user=user)
        return SignInResult()

    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return SignInResult(user=user)


def second_factor_of(user: User) -> SecondFactor | None:
    return db.session.get(SecondFactor, user.id)


def second_step(user: User) -> str | None:
    """What the user must do after the password: ``"code"`` (enter a code), ``"set_up"`` (set up an
    authenticator app, required), ``"offer"`` (a partner asked once whether to set one up) or None."""
    factor = second_factor_of(user)
    if factor is not None and factor.secret:
        return "code"
    if second_factor_required(user):
        return "set_up"
    if factor is None or factor.declined_at is None:
        return "offer"
    return None


def complete_sign_in(user: User, method: str) -> None:
    """Start the server-side session: the user is signed in."""
    sessions.start_session(user)
    audit.record("sign_in", user, detail=f"second factor: {method}", user=user)
    db.session.flush()


@dataclass(frozen=True)
class CodeResult:
    method: str | None = None  # "authenticator app" or "recovery code" when accepted
    throttled: throttle.Throttled | None = None
    replayed: bool = False


def check_second_factor(user: User, code: str, ip_address: str) -> CodeResult:
    """The second step: a code from the authenticator app, or one of the recovery codes.

    A code is accepted once: the same code again (or any code of an earlier time step) is refused.
    Wrong codes count towards the same throttling as wrong passwords.
    """
    waiting = throttle.check(user.email, ip_address)
    if waiting is not None:
        audit.record("sign_in_throttled", user, detail="second factor", user=user, even_if_refused=True)
        return CodeResult(throttled=waiting)
    factor = second_factor_of(user)
    typed = two_step.normalise_code(code)
    if factor is None or not factor.secret:
        return CodeResult()
    step = two_step.matching_step(factor.secret, typed, after_step=None, now=utcnow())
    if step is not None and _claim_step(factor, step):
        return CodeResult(method="authenticator app")
    if step is None and not two_step.looks_like_totp(typed) and _use_recovery_code(user, typed):
        return CodeResult(method="recovery code")
    throttle.record_failure(user.email, ip_address)
    audit.record(
        "second_factor_failed", user, detail="code already used" if step is not None else "wrong code", user=user
    )
    return CodeResult(replayed=step is not None)


def _claim_step(factor: SecondFactor, step: int) -> bool:
    """Record ``step`` as the last one used, only if it is later than the last one: one UPDATE, so
    two requests racing with the same code cannot both win (the second finds the row changed)."""
    claimed = db.session.execute(
        update(SecondFactor)
        .where(
            SecondFactor.user_id == factor.user_id,
            or_(SecondFactor.last_used_step.is_(None), SecondFactor.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(factor)
    return getattr(claimed, "rowcount", 0) == 1


def _use_recovery_code(user: User, typed: str) -> bool:
    unused = list(
        db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    )
    for record in unused:
        if two_step.recovery_code_matches(record.code_hash, typed):
            # Spent in one UPDATE that only succeeds while it is unused (two racing requests: one wins).
            spent = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == record.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if getattr(spent, "rowcount", 0) != 1:
                return False
            audit.record("recovery_code_used", user, detail=f"{len(unused) - 1} left", user=user)
            return True
    return False


def unused_recovery_codes(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def pending_secret_for(user: User) -> str:
    """The key being set up for ``user`` (made on first use, kept until confirmed or replaced)."""
    factor = second_factor_of(user)
    if factor is None:
        factor = SecondFactor(user_id=user.id)
        db.session.add(factor)
    if not factor.pending_secret:
        factor.pending_secret = two_step.new_secret()
    db.session.flush()
    return factor.pending_secret


@dataclass(frozen=True)
class SetUpResult:
    recovery_codes: list[str] | None = None  # shown once, when the code proved the new key
    throttled: throttle.Throttled | None = None


def confirm_set_up(user: User, code: str, ip_address: str) -> SetUpResult:
    """Turn the pending key into the user's second factor once a code from it is right; new recovery codes."""
    waiting = throttle.check(user.email, ip_address)
    if waiting is not None:
        audit.record("sign_in_throttled", user, detail="second factor set-up", user=user, even_if_refused=True)
        return SetUpResult(throttled=waiting)
    factor = second_factor_of(user)
    secret = factor.pending_secret if factor is not None else None
    typed = two_step.normalise_code(code)
    step = two_step.matching_step(secret, typed, after_step=None, now=utcnow()) if secret else None
    if factor is None or step is None:
        throttle.record_failure(user.email, ip_address)
        audit.record("second_factor_failed", user, detail="set-up code wrong", user=user)
        return SetUpResult()
    replacing = factor.secret is not None
    factor.secret, factor.pending_secret = secret, None
    factor.confirmed_at, factor.last_used_step, factor.declined_at = utcnow(), step, None
    codes = _replace_recovery_codes(user)
    audit.record("second_factor_changed" if replacing else "second_factor_set_up", user, user=user)
    return SetUpResult(recovery_codes=codes)


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = two_step.new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=two_step.hash_recovery_code(code)) for code in codes)
    db.session.flush()
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    codes = _replace_recovery_codes(user)
    audit.record("recovery_codes_replaced", user, user=user)
    return codes


def decline_second_factor(user: User) -> None:
    """A partner chose not to set up an authenticator app (they can, later, from their account)."""
    factor = second_factor_of(user)
    if factor is None:
        factor = SecondFactor(user_id=user.id)
        db.session.add(factor)
    factor.pending_secret, factor.declined_at = None, utcnow()
    db.session.flush()
    audit.record("second_factor_declined", user, user=user)


def turn_off_second_factor(user: User) -> None:
    """Only for those to whom it is optional (the view checks); recovery codes go too."""
    factor = second_factor_of(user)
    if factor is None or not factor.secret:
        return
    factor.secret = factor.pending_secret = None
    factor.confirmed_at, factor.last_used_step, factor.declined_at = None, None, utcnow()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    audit.record("second_factor_turned_off", user, user=user)


def confirm_password(user: User, password: str, ip_address: str) -> bool | throttle.Throttled:
    """The password typed again before a change to the second factor; throttled like signing in."""
    waiting = throttle.check(user.email, ip_address)
    if waiting is not None:
        audit.record("sign_in_throttled", user, detail="password confirmation", user=user, even_if_refused=True)
        return waiting
    if passwords.verify_password(user.password_hash, password):
        return True
    throttle.record_failure(user.email, ip_address)
    audit.record("password_confirmation_failed", user, user=user)
    return False


def sign_out(user: User) -> None:
    sessions.end_current_session("signed out")
    audit.record("sign_out", user, user=user)


def change_own_password(user: User, new_password: str) -> None:
    """Set a new password, end every session of the user, then start a new one here."""
    user.password_hash = passwords.hash_password(new_password)
    user.must_change_password = False
    sessions.end_all_sessions(user, "password changed")
    sessions.start_session(user)
    tokens.end_open_tokens(user)
    audit.record("password_changed", user)
    db.session.flush()


# Invitations and password resets ----------------------------------------------------------


def send_account_link(user: User, purpose: TokenPurpose) -> None:
    """Issue a one-time link and queue its e-mail (sent once the request has committed)."""
    token = tokens.issue(user, purpose)
    link = current_app.config["SERVICE_URL"].rstrip("/") + url_for("auth.set_password", token=token)
    hours = tokens.lifetime_hours(purpose)
    service_name = current_app.config["SERVICE_NAME"]
    if purpose == TokenPurpose.INVITATION:
        message = invitation_message(user, link, hours, service_name)
    else:
        message = password_reset_message(user, link, hours, service_name)
    outbox.queue(message)
    audit.record("invitation_sent" if purpose == TokenPurpose.INVITATION else "password_reset_sent", user)


def request_password_reset(email: str) -> None:
    """ "Forgot your password": a reset link to an active account with this address, if there is one.

    The caller says the same thing whatever happens here. At most one e-mail per account every few
    minutes, so the form cannot be used to flood someone's inbox.
    """
    user = _account(normalise_email(email))
    if user is None or not user.active:
        return
    if tokens.issued_since(user, TokenPurpose.PASSWORD_RESET, utcnow() - RESET_EMAIL_INTERVAL):
        return
    send_account_link(user, TokenPurpose.PASSWORD_RESET)


def set_password_with_link(record: AccountToken, new_password: str) -> User | None:
    """Use a one-time link: the new password, the link spent, every session and other link ended.
    None if the link was spent meanwhile (the same link posted twice at once: only one wins)."""
    if not tokens.spend(record):
        return None
    user = record.user
    user.password_hash = passwords.hash_password(new_password)
    user.must_change_password = False
    tokens.end_open_tokens(user)
    sessions.end_all_sessions(user, "password set from a link")
    throttle.clear_failures(user.email)
    db.session.flush()
    accepted = record.purpose == TokenPurpose.INVITATION
    audit.record("invitation_accepted" if accepted else "password_reset_used", user, user=user)
    return user

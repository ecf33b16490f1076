"""Writes for the admin area: build, flush, audit. The request commits."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, literal, select

from tracker import audit
from tracker.auth import operations as auth_operations
from tracker.auth import passwords, sessions
from tracker.extensions import db
from tracker.models import (
    Agency,
    Case,
    LearningTheme,
    LegalHold,
    RecoveryCode,
    Role,
    SecondFactor,
    ServiceSetting,
    TokenPurpose,
    User,
)
from tracker.models.case import case_review_themes
from tracker.permissions import may_be_spoc
from tracker.timeutil import utcnow


def create_user(
    *, email: str, display_name: str, role: str, agency: Agency, is_spoc: bool, password: str | None = None
) -> User:
    """A new account. Without ``password`` (the admin area) it has none until the user chooses one
    from their invitation; ``password`` is for the command line and the demo only."""
    user = User(
        email=email.strip().lower(),
        display_name=display_name.strip(),
        role=Role(role),
        agency=agency,
        is_spoc=is_spoc and may_be_spoc(role),
        active=True,
        password_hash=passwords.hash_password(password) if password else passwords.NO_PASSWORD,
        must_change_password=False,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", user, detail=f"role={user.role} agency={agency.code} spoc={user.is_spoc}")
    return user


def invite_user(user: User) -> None:
    """E-mail the user a link to choose their password (72 hours, once); earlier links stop working."""
    auth_operations.send_account_link(user, TokenPurpose.INVITATION)


def send_password_reset(user: User) -> None:
    """E-mail the user a link to choose a new password (1 hour, once). The admin never sees or sets it."""
    auth_operations.send_account_link(user, TokenPurpose.PASSWORD_RESET)


def reset_second_factor(user: User) -> None:
    """Remove the user's authenticator app and recovery codes (they lost their phone, say).

    They set up a new app at their next sign-in (or, as a partner, are offered to). Every session ends.
    """
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    sessions.end_all_sessions(user, "second factor reset")
    db.session.flush()
    audit.record("second_factor_reset", user)


def update_user(user: User, *, email: str, display_name: str, role: str, agency: Agency, is_spoc: bool) -> list[str]:
    """Apply the changes; a new role or agency ends the user's sessions. Returns what changed."""
    new_role = Role(role)
    new_values = {
        "email": email.strip().lower(),
        "display_name": display_name.strip(),
        "role": new_role,
        "agency_id": agency.id,
        "is_spoc": is_spoc and may_be_spoc(new_role),
    }
    changed = [field for field, value in new_values.items() if getattr(user, field) != value]
    if not changed:
        return []
    details = []
    if "role" in changed:
        details.append(f"role {user.role}->{new_role}")
    if "agency_id" in changed:
        details.append(f"agency {user.agency.code}->{agency.code}")
    details += [field for field in changed if field not in {"role", "agency_id"}]
    for field, value in new_values.items():
        setattr(user, field, value)
    user.agency = agency
    if {"role", "agency_id"} & set(changed):
        sessions.end_all_sessions(user, "role or agency changed")
    db.session.flush()
    audit.record("user_updated", user, detail="changed: " + ", ".join(details))
    return changed


def set_user_active(user: User, active: bool) -> None:
    if user.active == active:
        return
    user.active = active
    if not active:
        sessions.end_all_sessions(user, "deactivated")
        user.calendar_token_hash = None  # the private calendar feed stops working at once
    db.session.flush()
    audit.record("user_reactivated" if active else "user_deactivated", user)


def create_agency(*, name: str, code: str) -> Agency:
    agency = Agency(name=name.strip(), code=code.strip().upper(), active=True)
    db.session.add(agency)
    db.session.flush()
    audit.record("agency_created", agency, detail=f"code={agency.code}")
    return agency


def update_agency(agency: Agency, *, name: str, code: str) -> list[str]:
    new_values = {"name": name.strip(), "code": code.strip().upper()}
    changed = [field for field, value in new_values.items() if getattr(agency, field) != value]
    if changed:
        old_code = agency.code
        for field, value in new_values.items():
            setattr(agency, field, value)
        db.session.flush()
        audit.record("agency_updated", agency, detail=f"changed: {', '.join(changed)} (was {old_code})")
    return changed


def set_agency_active(agency: Agency, active: bool) -> None:
    if agency.active == active:
        return
    agency.active = active
    db.session.flush()
    audit.record("agency_reactivated" if active else "agency_deactivated", agency)


def set_setting(key: str, value: str) -> None:
    setting = db.session.get(ServiceSetting, key)
    if setting is None:
        db.session.add(ServiceSetting(key=key, value=value))
    elif setting.value == value:
        return
    else:
        setting.value = value
    db.session.flush()
    audit.record("setting_changed", detail=key)


def create_theme(name: str) -> LearningTheme:
    theme = LearningTheme(name=name.strip(), active=True)
    db.session.add(theme)
    db.session.flush()
    audit.record("learning_theme_created", theme, detail=theme.name[:80])
    return theme


def set_theme_active(theme: LearningTheme, active: bool) -> None:
    if theme.active != active:
        theme.active = active
        db.session.flush()
        audit.record("learning_theme_reactivated" if active else "learning_theme_retired", theme)


class SameTheme(Exception):
    """A theme cannot be merged into itself."""


def merge_theme(source: LearningTheme, target: LearningTheme) -> int:
    """Re-tag every review that carries ``source`` with ``target`` (once, if it has both), then remove
    ``source``. Returns how many reviews were re-tagged. The audit event keeps the old name."""
    if source.id == target.id:
        raise SameTheme()
    links = case_review_themes
    has_target = select(links.c.case_review_id).where(links.c.theme_id == target.id)
    moving = select(links.c.case_review_id).where(links.c.theme_id == source.id)
    retagged = db.session.scalar(select(func.count()).select_from(moving.subquery())) or 0
    db.session.execute(
        insert(links).from_select(
            ["case_review_id", "theme_id"],
            select(links.c.case_review_id, literal(target.id)).where(
                links.c.theme_id == source.id, links.c.case_review_id.not_in(has_target)
            ),
        )
    )
    db.session.execute(delete(links).where(links.c.theme_id == source.id))
    # The reviews' loaded theme lists are stale now; the next read loads them again.
    db.session.expire_all()
    name, source_id = source.name, source.id
    db.session.delete(source)
    db.session.flush()
    audit.record(
        "learning_theme_merged",
        target,
        detail=f"theme {source_id} ({name[:80]}) merged into this one; {retagged} reviews re-tagged",
    )
    return retagged


def place_legal_hold(case: Case, reason: str, *, by: User) -> LegalHold:
    """Keep ``case`` past its retention period until the hold is released (the reason stays on the
    hold, not in the audit log)."""
    hold = LegalHold(case=case, reason=reason, placed_by=by)
    db.session.add(hold)
    db.session.flush()
    audit.record("legal_hold_placed", case, detail=f"hold {hold.id}")
    return hold


def release_legal_hold(hold: LegalHold, *, by: User) -> None:
    if hold.released_at is None:
        hold.released_at, hold.released_by = utcnow(), by
        db.session.flush()
        audit.record("legal_hold_released", hold.case, detail=f"hold {hold.id}")

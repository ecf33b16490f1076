"""Writes for the admin area: build, flush, audit. The request commits."""

from __future__ import annotations

from sqlalchemy import delete

from tracker import audit
from tracker.auth import operations as auth_operations
from tracker.auth import passwords, sessions
from tracker.extensions import db
from tracker.models import Agency, LearningTheme, RecoveryCode, Role, SecondFactor, ServiceSetting, TokenPurpose, User
from tracker.permissions import may_be_spoc


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
        user.calendar_token = None  # the private calendar feed stops working at once
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

"""Refused access, audited in a transaction of its own, and an alert when one account keeps being refused.

A refusal (403, a 404 on a route's object, a failed CSRF check) ends the request with an error
response, and the request's own transaction is rolled back. The audit event therefore goes into the
database through a separate transaction here, committed at once, so the rollback cannot lose it.

When one signed-in account has been refused ``REFUSAL_ALERT_THRESHOLD`` times within
``REFUSAL_ALERT_WINDOW``, the administrators are e-mailed (once per window per account): someone may
be probing for records outside their need-to-know.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import func, insert, select

from tracker.audit import client_ip
from tracker.extensions import db
from tracker.models import AuditEvent, User
from tracker.notify import outbox
from tracker.notify.mail import build_message
from tracker.permissions import audit_reader_condition
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)

FORBIDDEN, NOT_FOUND, CSRF_FAILED = "access_forbidden", "access_not_found", "csrf_check_failed"
REFUSALS = (FORBIDDEN, NOT_FOUND, CSRF_FAILED)
ALERT = "refusals_alert_sent"

# The URL argument that names the object a route is about -> the table it refers to, so the audit
# event carries a reference ("cases 42") that the audit viewer can search for.
OBJECT_ARGUMENTS = (
    ("action_id", "actions"),
    ("review_id", "case_reviews"),
    ("case_id", "cases"),
    ("row_id", "attendance"),
    ("meeting_id", "meetings"),
    ("user_id", "users"),
    ("agency_id", "agencies"),
    ("theme_id", "learning_themes"),
)


def should_audit_not_found() -> bool:
    """A 404 on a route that names an object (or a calendar feed) is a refusal; a mistyped address
    that matches no route, or a missing static file, is not."""
    rule = request.url_rule
    return rule is not None and request.endpoint != "static"


def _object_reference(view_args: dict) -> tuple[str | None, str | None]:
    for argument, table in OBJECT_ARGUMENTS:
        if isinstance(view_args.get(argument), int):
            return table, str(view_args[argument])
    return None, None


def _detail() -> str:
    """The route and its numeric arguments only: never a token, a query string or typed text."""
    arguments = " ".join(
        f"{name}={value}" for name, value in sorted((request.view_args or {}).items()) if isinstance(value, int)
    )
    return " ".join(part for part in (request.method, request.endpoint or "", arguments) if part)[:500]


def record(kind: str) -> None:
    """Audit a refusal of the current request in its own transaction; alert the admins if it is one
    too many. Never raises: an error page must still be shown if the database is unavailable."""
    try:
        _record(kind)
    except Exception:
        log.exception("Could not audit a refused request (%s)", kind)
        db.session.rollback()


def _record(kind: str) -> None:
    # The request's work is being refused: end its transaction first (the commit hook would roll it
    # back anyway), which also frees SQLite's write lock for the separate transaction below.
    db.session.rollback()
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    object_type, object_id = _object_reference(request.view_args or {})
    alert_to: list[str] = []
    with db.engine.begin() as connection:
        connection.execute(
            insert(AuditEvent).values(
                at=utcnow(),
                user_id=user_id,
                ip_address=client_ip(),
                action=kind,
                object_type=object_type,
                object_id=object_id,
                detail=_detail(),
            )
        )
        if user_id is not None:
            alert_to = _alert_if_repeated(connection, user_id)
    if alert_to and user_id is not None:
        _send_alert(alert_to, user_id)


def _alert_if_repeated(connection, user_id: int) -> list[str]:
    """Within the same transaction: the admins' addresses if this account has just reached the
    threshold and no alert about it went out within the window; the alert is audited."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["REFUSAL_ALERT_WINDOW_MINUTES"])
    refused = connection.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.user_id == user_id, AuditEvent.action.in_(REFUSALS), AuditEvent.at >= since
        )
    )
    if refused < config["REFUSAL_ALERT_THRESHOLD"]:
        return []
    already = connection.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == ALERT,
            AuditEvent.object_type == "users",
            AuditEvent.object_id == str(user_id),
            AuditEvent.at >= since,
        )
    )
    if already:
        return []
    connection.execute(
        insert(AuditEvent).values(
            at=utcnow(),
            user_id=None,
            ip_address=None,
            action=ALERT,
            object_type="users",
            object_id=str(user_id),
            detail=f"{refused} refusals in {config['REFUSAL_ALERT_WINDOW_MINUTES']} minutes",
        )
    )
    return list(connection.scalars(select(User.email).where(audit_reader_condition()).order_by(User.email)))


def _send_alert(addresses: list[str], user_id: int) -> None:
    config = current_app.config
    account = db.session.get(User, user_id)
    name = f"{account.display_name} ({account.email}, {account.agency.code})" if account else f"account {user_id}"
    link = f"{config['SERVICE_URL'].rstrip('/')}/admin/audit?user={user_id}"
    body = (
        f"The service refused {name} access at least {config['REFUSAL_ALERT_THRESHOLD']} times in the last "
        f"{config['REFUSAL_ALERT_WINDOW_MINUTES']} minutes (pages they may not open, records outside their "
        "agency's need-to-know, or forms that failed their security check).\n\n"
        "This may be a mistake, an old bookmark, or someone looking for records they should not see. "
        f"The audit log lists each refusal:\n{link}\n\n"
        "You will not be told again about this account for the same period.\n"
    )
    subject = "Repeated refused access to the scrutiny tracker"
    outbox.send_now([build_message(address, subject, body) for address in addresses])

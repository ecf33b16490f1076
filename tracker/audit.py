"""Writing audit events. Every state change and every disclosure calls record()."""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_login import current_user

from tracker.extensions import db
from tracker.models import AuditEvent

MAX_DETAIL = 500


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(action: str, obj=None, detail: str = "", *, user=None, even_if_refused: bool = False) -> AuditEvent:
    """Add an audit event to the current transaction (never commits: the request does).

    ``obj`` is any model instance with an ``id``; its table name becomes the object type.
    ``detail`` is a short factual note, never a password, token or case narrative.
    ``even_if_refused`` keeps the event when the request ends in an error response and
    everything else is rolled back (denied access, throttled sign-in).
    """
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    event = AuditEvent(
        user_id=getattr(user, "id", None),
        ip_address=client_ip(),
        action=action,
        object_type=getattr(obj, "__tablename__", None),
        object_id=str(obj.id) if obj is not None and obj.id is not None else None,
        detail=detail[:MAX_DETAIL],
    )
    db.session.add(event)
    if even_if_refused and has_request_context():
        g.setdefault("audit_events_to_keep", []).append(
            {
                column: getattr(event, column)
                for column in ("user_id", "ip_address", "action", "object_type", "object_id", "detail")
            }
        )
    return event


def keep_refusal_events() -> None:
    """After a rollback, write again the events marked ``even_if_refused`` in this request."""
    for values in g.pop("audit_events_to_keep", []):
        db.session.add(AuditEvent(**values))

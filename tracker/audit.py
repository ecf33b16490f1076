"""Writing audit events. Every state change and every disclosure calls record()."""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from tracker.extensions import db
from tracker.models import AuditEvent
from tracker.timeutil import utcnow

MAX_DETAIL = 500


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(action: str, obj=None, detail: str = "", *, user=None, even_if_refused: bool = False) -> None:
    """Add an audit event to the current transaction (never commits: the request does).

    ``obj`` is any model instance with an ``id``; its table name becomes the object type.
    ``detail`` is a short factual note, never a password, token or case narrative.
    ``even_if_refused`` keeps the event when the request ends in an error response and
    everything else is rolled back (denied access, throttled sign-in).

    In a request, the event is kept with the session and written, in one INSERT with the others, as
    the session commits, or dropped if it rolls back first (_write_pending, _drop_pending); elsewhere
    (commands, the jobs worker) it is added to the session. (An ORM object cost each page view the
    unit of work's bookkeeping for one row.)
    """
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    values = {
        "at": utcnow(),
        "user_id": getattr(user, "id", None),
        "ip_address": client_ip(),
        "action": action,
        "object_type": getattr(obj, "__tablename__", None),
        "object_id": str(obj.id) if obj is not None and obj.id is not None else None,
        "detail": detail[:MAX_DETAIL],
    }
    if not has_request_context():
        db.session.add(AuditEvent(**values))
        return
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any statement, takes the event with it
    session.info.setdefault(PENDING, []).append(values)
    if even_if_refused:
        g.setdefault("audit_events_to_keep", []).append(values)


PENDING = "audit_events_pending"
_INSERT = insert(AuditEvent)  # run on the connection (below): a Core INSERT of the table


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """The events kept with this session go into the transaction that is committing, as one INSERT
    on the session's connection: the ORM's path for a list of rows cost 115 µs here against 40 µs,
    on every page view, and has nothing to add (no entities; audit events are bookkeeping to the
    reports' kept figures, tracker/reports/cache.py).

    Not as a savepoint is released (SQLAlchemy calls this then too): the savepoint's flush may still
    fail and be rolled back, and the events with it; they wait for the request's own commit."""
    if session.in_nested_transaction():
        return
    if events := session.info.pop(PENDING, None):
        session.connection().execute(_INSERT, events)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    """The request's rollback takes the session's events with it (keep_refusal_events writes the kept
    ones again). A savepoint's rollback does not, nor that of the flush inside it that failed (its own
    inner transaction, SQLAlchemy's): the request goes on, and what it recorded before (or while trying
    what the savepoint undid) is kept rather than lost. Only the outermost transaction has no parent."""
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)


def unwritten() -> int:
    """Events recorded in this session and not yet committed (at the end of a request: lost)."""
    return len(db.session.info.get(PENDING, ()))


def forget_unwritten() -> None:
    db.session.info.pop(PENDING, None)


def keep_refusal_events() -> None:
    """After a rollback, write again the events marked ``even_if_refused`` in this request."""
    for values in g.pop("audit_events_to_keep", []):
        db.session.add(AuditEvent(**values))

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model
from tracker.models.user import User
from tracker.timeutil import UTCDateTime, utcnow


class AuditEvent(Model):
    """Append-only record of who did or saw what.

    The database refuses UPDATE and DELETE on this table (triggers in the first migration).
    Never put passwords, tokens or case narrative in ``detail``.
    """

    __tablename__ = "audit_events"
    # The audit viewer's filters, each answered from an index however many millions of events there
    # are; every one ends in ``at`` so that "newest first" is read straight from the index.
    __table_args__ = (
        # One account's events (and an agency's: its accounts'), newest first.
        Index("ix_audit_events_user_at", "user_id", "at"),
        # One kind of event, newest first; also lists the kinds there are (one index seek per kind).
        Index("ix_audit_events_action_at", "action", "at"),
        # Everything about one record, and "who saw case X, and when": the case, its reviews, actions
        # and meetings, each looked up by (type, id).
        Index("ix_audit_events_object_at", "object_type", "object_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Its own index: the unfiltered log and date ranges, newest first.
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(500), default="")

    user: Mapped[User | None] = relationship()

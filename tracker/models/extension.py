from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model
from tracker.models.action import Action
from tracker.models.types import enum_type
from tracker.models.user import User
from tracker.timeutil import UTCDateTime, utcnow


class ExtensionStatus(enum.StrEnum):
    PENDING = "pending"
    AGREED = "agreed"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {"pending": "Waiting for a decision", "agreed": "Agreed", "declined": "Declined"}[self.value]


class ExtensionRequest(Model):
    """A partner's request for a later due date, and the chair's decision on it.

    Until a request is agreed the action stays due (and overdue) on its current date. On agreement
    the action's due date moves and an ActionUpdate records it; ``Action.original_due_date`` never moves.
    """

    __tablename__ = "extension_requests"
    __table_args__ = (
        Index("ix_extension_requests_action_status", "action_id", "status"),
        # The chair's home page lists the pending requests: a few among every request ever made.
        Index("ix_extension_requests_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The action's due date when the request was made, and the date asked for.
    current_due_date: Mapped[date]
    requested_due_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(
        enum_type(ExtensionStatus, "extension_status"), default=ExtensionStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    action: Mapped[Action] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def days_asked(self) -> int:
        return (self.requested_due_date - self.current_due_date).days

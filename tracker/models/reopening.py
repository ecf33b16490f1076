from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model
from tracker.models.meeting import Meeting
from tracker.models.user import User
from tracker.timeutil import UTCDateTime, utcnow


class MinutesReopening(Model):
    """Why approved minutes were reopened: kept with the meeting, not in the audit log (which admins
    read, and which names only the meeting and the revision)."""

    __tablename__ = "minutes_reopenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]  # the revision the reopening starts
    reason: Mapped[str] = mapped_column(String(500))
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    reopened_by: Mapped[User | None] = relationship()

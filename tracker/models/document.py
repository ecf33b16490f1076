from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from tracker.extensions import Model
from tracker.models.meeting import Meeting
from tracker.models.user import User
from tracker.timeutil import UTCDateTime, utcnow


class MinutesDocument(Model):
    """The approved minutes of one revision: rendered once on approval, served as these exact bytes.

    Never changed or deleted: reopening and approving again adds the next revision.
    """

    __tablename__ = "minutes_documents"
    __table_args__ = (UniqueConstraint("meeting_id", "revision", name="uq_minutes_documents_meeting_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    revision: Mapped[int]
    # Loaded only when a download needs the bytes, not when the meeting page lists revisions.
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    approved_by: Mapped[User | None] = relationship()

    @property
    def document_id(self) -> str:
        return f"MIN-{self.meeting_id:05d}-R{self.revision}"

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model
from tracker.models.types import enum_type
from tracker.models.user import User
from tracker.timeutil import UTCDateTime, utcnow


class DocumentJobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class DocumentJob(Model):
    """A large document prepared in the background for one reader (tracker/jobs.py).

    Only the reader who asked may see it; it is rendered with that reader's permissions as they are
    when it runs, and kept for a day.
    """

    __tablename__ = "document_jobs"
    __table_args__ = (Index("ix_document_jobs_user_kind_created", "user_id", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))  # a renderer registered in tracker/jobs.py
    parameters: Mapped[str] = mapped_column(Text, default="")  # the query string it was asked with
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[DocumentJobStatus] = mapped_column(
        enum_type(DocumentJobStatus, "document_job_status"), default=DocumentJobStatus.QUEUED, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pages: Mapped[int | None]
    error_reference: Mapped[str] = mapped_column(String(20), default="")

    user: Mapped[User] = relationship()

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model, db
from tracker.models.agency import Agency
from tracker.models.types import enum_type
from tracker.models.user import User
from tracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from tracker.models.action import Action
    from tracker.models.case import CaseReview
    from tracker.models.document import MinutesDocument


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    APPROVED = "approved"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "scheduled": "Scheduled",
            "in_progress": "In progress",
            "approved": "Approved",
            "cancelled": "Cancelled",
        }[self.value]


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    APOLOGIES = "apologies"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class MeetingRole(enum.StrEnum):
    CHAIR = "chair"
    MINUTE_TAKER = "minute_taker"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return {"chair": "Chair", "minute_taker": "Minute taker", "member": "Member"}[self.value]


meeting_invited_agencies = Table(
    "meeting_invited_agencies",
    db.metadata,
    Column("meeting_id", Integer, ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), primary_key=True, index=True),
)


class Meeting(Model):
    """One weekly scrutiny meeting. Approved minutes are locked until reopened with a reason."""

    __tablename__ = "meetings"
    # Meetings of some statuses within a period (the reports: meetings held in a quarter) are read
    # from this index, however many years of meetings lie outside the period.
    __table_args__ = (Index("ix_meetings_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    location: Mapped[str] = mapped_column(String(200))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[MeetingStatus] = mapped_column(
        enum_type(MeetingStatus, "meeting_status"),
        default=MeetingStatus.SCHEDULED,
    )
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    statement_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    statement_read_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Published agenda: each involved partner agency then sees its agenda cases and returns its information.
    agenda_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agenda_published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    general_notes: Mapped[str] = mapped_column(Text, default="")
    any_other_business: Mapped[str] = mapped_column(Text, default="")
    # Revision of the minutes: 1 until the first reopening, then bumped by each reopening.
    minutes_revision: Mapped[int] = mapped_column(default=1)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    statement_read_by: Mapped[User | None] = relationship(foreign_keys=[statement_read_by_id])
    agenda_published_by: Mapped[User | None] = relationship(foreign_keys=[agenda_published_by_id])
    invited_agencies: Mapped[list[Agency]] = relationship(secondary=meeting_invited_agencies, order_by=Agency.name)
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Attendance.id"
    )
    reviews: Mapped[list[CaseReview]] = relationship(back_populates="meeting", order_by="CaseReview.position")
    actions: Mapped[list[Action]] = relationship(back_populates="meeting", order_by="Action.id")
    # The approved revisions stored, newest first (read-only here: stored minutes are append-only).
    # Once loaded, a revision stored later in the same request appears only after the commit; the
    # request that stores one (approval) redirects, so no page shows the list stale.
    minutes_documents: Mapped[list[MinutesDocument]] = relationship(
        viewonly=True, order_by="MinutesDocument.revision.desc()"
    )

    @property
    def is_locked(self) -> bool:
        """Approved or cancelled minutes cannot be edited (actions stay live)."""
        return self.status in (MeetingStatus.APPROVED, MeetingStatus.CANCELLED)


class Attendance(Model):
    """Who came (or sent apologies) for an agency. A person is a user or a typed name."""

    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed with the agency and the status (below), which also serves a meeting's attendance alone.
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    person_name: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[AttendanceStatus] = mapped_column(enum_type(AttendanceStatus, "attendance_status"))
    deputy_for: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[MeetingRole] = mapped_column(
        enum_type(MeetingRole, "meeting_role"),
        default=MeetingRole.MEMBER,
    )

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    agency: Mapped[Agency] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def name(self) -> str:
        return self.user.display_name if self.user is not None else self.person_name


Index("ix_attendance_agency_status", Attendance.agency_id, Attendance.status)
# A partner's scope asks, for each meeting, whether someone from its agency was present: one seek here,
# rather than reading every attendance row of the meeting (migration d7a3f1c9e2b4).
Index("ix_attendance_meeting_agency_status", Attendance.meeting_id, Attendance.agency_id, Attendance.status)

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model
from tracker.timeutil import UTCDateTime, utcnow


class ReminderSent(Model):
    """One e-mail sent by the reminder run: at most one of each kind per person per day."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("user_id", "kind", "sent_on", name="uq_reminders_sent_user_kind_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # digest | escalation
    sent_on: Mapped[date]  # the London day of the run
    action_ids: Mapped[str] = mapped_column(Text)  # comma-separated, for the record
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model
from tracker.timeutil import UTCDateTime, utcnow


class FormSubmission(Model):
    """One use of a form's one-time token by a user (see tracker/once.py).

    Only the token's SHA-256 is kept. ``location`` is where the first submission was redirected;
    the same token posted again by the same user is sent there and creates nothing.
    """

    __tablename__ = "form_submissions"
    # Also the index for a user's rows (user_id leads), so it serves the purge of old tokens too.
    __table_args__ = (UniqueConstraint("user_id", "token_hash", name="uq_form_submissions_user_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model
from tracker.timeutil import UTCDateTime, utcnow


class ServiceSetting(Model):
    """Text an administrator can change without a release, e.g. the confidentiality statement."""

    __tablename__ = "service_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

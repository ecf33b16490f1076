from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model, db
from tracker.models.agency import Agency
from tracker.models.meeting import Meeting
from tracker.models.types import enum_type
from tracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from tracker.models.action import Action
    from tracker.models.user import User


class RiskLevel(enum.StrEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @classmethod
    def from_dash_score(cls, score: int) -> RiskLevel:
        """SafeLives DASH RIC thresholds: 14 or more ticks is high risk, 10–13 medium, below standard."""
        if score >= 14:
            return cls.HIGH
        if score >= 10:
            return cls.MEDIUM
        return cls.STANDARD


SCRUTINY_GRADES = {
    1: "Consistent with policy",
    2: "Appropriate, with observations",
    3: "Inappropriate or inconsistent with policy",
    4: "No conclusion – re-score at the next meeting",
}

# (column name, label) for the risk flags recorded on each review.
RISK_FLAGS = [
    ("children_in_household", "Children in household"),
    ("non_fatal_strangulation", "Non-fatal strangulation"),
    ("stalking", "Stalking"),
    ("threats_to_kill", "Threats to kill"),
    ("honour_based_abuse", "Honour-based abuse"),
]


class Case(Model):
    """A case under a pseudonymous reference (a crime or incident number, never a name)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviews: Mapped[list[CaseReview]] = relationship(back_populates="case")


class LearningTheme(Model):
    """A managed list of learning themes that reviews are tagged with."""

    __tablename__ = "learning_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


case_review_agencies = Table(
    "case_review_agencies",
    db.metadata,
    Column("case_review_id", Integer, ForeignKey("case_reviews.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), primary_key=True, index=True),
)

case_review_themes = Table(
    "case_review_themes",
    db.metadata,
    Column("case_review_id", Integer, ForeignKey("case_reviews.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", Integer, ForeignKey("learning_themes.id"), primary_key=True, index=True),
)


class ReviewState:
    """How far a case review's recording has got, read from its fields alone: shared by the mapped
    CaseReview and the meeting page's lighter ReviewLine (tracker/meetings/queries.py), so the two
    cannot disagree about what a complete review is."""

    if TYPE_CHECKING:  # what it reads (declared for the type checker only: CaseReview maps them)
        dash_score: int | None
        risk_level: RiskLevel | None
        scrutiny_grade: int | None
        summary: str
        findings: str

    @property
    def grade_label(self) -> str:
        return SCRUTINY_GRADES.get(self.scrutiny_grade, "Not graded") if self.scrutiny_grade else "Not graded"

    @property
    def missing(self) -> list[str]:
        """What a complete review still needs: a risk level, a scrutiny grade and findings."""
        needs = []
        if self.risk_level is None:
            needs.append("risk level")
        if self.scrutiny_grade is None:
            needs.append("scrutiny grade")
        if not self.findings.strip():
            needs.append("findings")
        return needs

    @property
    def progress(self) -> ReviewProgress:
        if not self.missing:
            return ReviewProgress.COMPLETE
        started = (
            self.dash_score is not None
            or self.risk_level is not None
            or self.scrutiny_grade is not None
            or self.summary.strip()
            or self.findings.strip()
        )
        return ReviewProgress.IN_PROGRESS if started else ReviewProgress.NOT_STARTED


class CaseReview(ReviewState, Model):
    """One case on one meeting's agenda."""

    __tablename__ = "case_reviews"
    __table_args__ = (
        UniqueConstraint("meeting_id", "case_id", name="uq_case_reviews_meeting_case"),
        CheckConstraint("dash_score IS NULL OR (dash_score >= 0 AND dash_score <= 24)", name="dash_score_range"),
        CheckConstraint(
            "scrutiny_grade IS NULL OR (scrutiny_grade >= 1 AND scrutiny_grade <= 4)", name="scrutiny_grade_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    dash_score: Mapped[int | None]
    risk_level: Mapped[RiskLevel | None] = mapped_column(enum_type(RiskLevel, "risk_level"))
    # Risk set by professional judgement rather than derived from the DASH score.
    risk_overridden: Mapped[bool] = mapped_column(default=False)
    risk_override_reason: Mapped[str] = mapped_column(String(500), default="")
    children_in_household: Mapped[bool] = mapped_column(default=False)
    non_fatal_strangulation: Mapped[bool] = mapped_column(default=False)
    stalking: Mapped[bool] = mapped_column(default=False)
    threats_to_kill: Mapped[bool] = mapped_column(default=False)
    honour_based_abuse: Mapped[bool] = mapped_column(default=False)
    # Reviewed before within 12 months (SafeLives definition); kept up to date by operations.
    is_repeat: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    scrutiny_grade: Mapped[int | None]
    feedback_to_officer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="reviews")
    case: Mapped[Case] = relationship(back_populates="reviews")
    agencies: Mapped[list[Agency]] = relationship(secondary=case_review_agencies, order_by=Agency.name)
    themes: Mapped[list[LearningTheme]] = relationship(secondary=case_review_themes, order_by=LearningTheme.name)
    actions: Mapped[list[Action]] = relationship(back_populates="case_review", order_by="Action.id")

    @property
    def flags(self) -> list[str]:
        return [label for column, label in RISK_FLAGS if getattr(self, column)]


class ReviewProgress(enum.StrEnum):
    """Where the recording of a case review has got to (derived, never stored)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return {"not_started": "Not started", "in_progress": "In progress", "complete": "Complete"}[self.value]


class AgencyReturn(Model):
    """What one partner agency holds on one agenda case, returned before the meeting.

    Part of that agency's own need-to-know scope: a partner sees only its agency's returns.
    """

    __tablename__ = "agency_returns"
    __table_args__ = (UniqueConstraint("case_review_id", "agency_id", name="uq_agency_returns_review_agency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_review_id: Mapped[int] = mapped_column(ForeignKey("case_reviews.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    no_information_held: Mapped[bool] = mapped_column(default=False)
    contact_made: Mapped[bool] = mapped_column(default=False)
    information: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    case_review: Mapped[CaseReview] = relationship()
    agency: Mapped[Agency] = relationship()
    submitted_by: Mapped[User | None] = relationship()

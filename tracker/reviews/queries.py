"""Reads for case reviews, scoped to the reader by tracker.permissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Action, CaseReview, Meeting, MeetingStatus, User
from tracker.permissions import action_scope, case_review_scope


@dataclass
class CaseHistory:
    previous_reviews: list[CaseReview]
    open_actions: list[Action]


def case_history(
    user: User, case_id: int, *, before: datetime | None = None, exclude_review_id: int | None = None
) -> CaseHistory:
    """Earlier reviews of a case the user may see, and its open actions, for the review page."""
    query = (
        select(CaseReview)
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .options(joinedload(CaseReview.meeting))
        .where(CaseReview.case_id == case_id, case_review_scope(user), Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at.desc())
    )
    if before is not None:
        query = query.where(Meeting.starts_at < before)
    if exclude_review_id is not None:
        query = query.where(CaseReview.id != exclude_review_id)
    reviews = list(db.session.scalars(query))
    open_actions = list(
        db.session.scalars(
            select(Action)
            .join(CaseReview, Action.case_review_id == CaseReview.id)
            .options(joinedload(Action.owning_agency), joinedload(Action.owner))
            .where(CaseReview.case_id == case_id, Action.status.in_(OPEN_STATUSES), action_scope(user))
            .order_by(Action.due_date)
        )
    )
    return CaseHistory(reviews, open_actions)

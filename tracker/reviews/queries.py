"""Reads for case reviews, scoped to the reader by tracker.permissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Action, AgencyReturn, CaseReview, Meeting, MeetingStatus, User
from tracker.permissions import can_see_action, case_review_scope, returns_scope


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
    # Every action on the case's reviews (a handful); the open ones in the user's scope are kept here.
    # Asking SQL for open ones let SQLite read every open action in history through the status index,
    # and asking for the partner's agency read every action of that agency (7 ms for the police at
    # ten years): the case's reviews must choose the rows.
    on_case = db.session.scalars(
        select(Action)
        .options(joinedload(Action.owning_agency), joinedload(Action.owner))
        .where(Action.case_review_id.in_(select(CaseReview.id).where(CaseReview.case_id == case_id)))
        .order_by(Action.due_date)
    )
    return CaseHistory(
        reviews, [action for action in on_case if action.status in OPEN_STATUSES and can_see_action(user, action)]
    )


@dataclass
class ReviewActions:
    visible: list[Action]
    hidden: int  # other agencies' actions on this case, for a partner: a count only


def actions_on(reader: User, review: CaseReview) -> ReviewActions:
    actions = list(
        db.session.scalars(
            select(Action)
            .options(joinedload(Action.owning_agency), joinedload(Action.owner))
            .where(Action.case_review_id == review.id)
            .order_by(Action.id)
        )
    )
    visible = [action for action in actions if can_see_action(reader, action)]
    return ReviewActions(visible, len(actions) - len(visible))


def returns_on(reader: User, review: CaseReview) -> dict[int, AgencyReturn]:
    """The agencies' pre-meeting information on this case, by agency (a partner sees only its own)."""
    return {
        agency_return.agency_id: agency_return
        for agency_return in db.session.scalars(
            select(AgencyReturn)
            .options(joinedload(AgencyReturn.submitted_by))
            .where(AgencyReturn.case_review_id == review.id, returns_scope(reader))
        )
    }


def next_review(reader: User, review: CaseReview) -> CaseReview | None:
    """The next case on the agenda that the reader may see."""
    return db.session.scalar(
        select(CaseReview)
        .where(
            CaseReview.meeting_id == review.meeting_id,
            CaseReview.position > review.position,
            case_review_scope(reader),
        )
        .order_by(CaseReview.position)
        .limit(1)
    )

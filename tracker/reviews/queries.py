"""Reads for case reviews, scoped to the reader by tracker.permissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager, joinedload, load_only

from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Action, AgencyReturn, CaseReview, Meeting, MeetingStatus, User
from tracker.permissions import Reader, can_see_action, case_review_scope, returns_scope, statement_per_reader


@dataclass
class ReviewActions:
    visible: list[Action]
    hidden: int  # other agencies' actions on this case, for a partner: a count only


@dataclass
class CaseHistory:
    previous_reviews: list[CaseReview]
    open_actions: list[Action]  # on any review of the case, in the reader's scope
    on_review: ReviewActions  # raised at the review being read


# The case's other reviews at meetings before the one being read, that the reader may see. The page
# lists each earlier review's date, risk and grade, never its text.
@statement_per_reader
def _earlier_reviews(reader: Reader):
    return (
        select(CaseReview)
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .options(
            load_only(CaseReview.meeting_id, CaseReview.risk_level, CaseReview.scrutiny_grade),
            contains_eager(CaseReview.meeting).load_only(Meeting.starts_at),
        )
        .where(
            CaseReview.case_id == bindparam("case_id"),
            case_review_scope(reader),
            Meeting.status != MeetingStatus.CANCELLED,
            Meeting.starts_at < bindparam("before"),
            CaseReview.id != bindparam("review_id"),
        )
        .order_by(Meeting.starts_at.desc())
    )


# Every action on the case's reviews (a handful), in one statement: the open ones in the user's scope,
# and this review's own, are chosen in Python. Asking SQL for open ones let SQLite read every open
# action in history through an index of open actions, and asking for the partner's agency read every action
# of that agency (7 ms for the police at ten years): the case's reviews must choose the rows.
_ACTIONS_ON_CASE = (
    select(Action)
    .options(
        joinedload(Action.owning_agency),
        # An owner is shown by name.
        joinedload(Action.owner).load_only(User.display_name).lazyload(User.agency),
    )
    .where(Action.case_review_id.in_(select(CaseReview.id).where(CaseReview.case_id == bindparam("case_id"))))
    .order_by(Action.due_date, Action.id)
)


def case_history(user: User, review: CaseReview, *, before: datetime) -> CaseHistory:
    """For the review page: the case's other reviews at meetings before ``before`` that the user may
    see, its open actions in the user's scope, and the actions raised at this review."""
    case_id = review.case_id
    parameters = {"case_id": case_id, "before": before, "review_id": review.id}
    reviews = list(db.session.scalars(_earlier_reviews(user), parameters))
    on_case = list(db.session.scalars(_ACTIONS_ON_CASE, {"case_id": case_id}))
    visible = [action for action in on_case if can_see_action(user, action)]
    raised_here = [action for action in on_case if action.case_review_id == review.id]
    shown_here = sorted((action for action in visible if action.case_review_id == review.id), key=lambda a: a.id)
    return CaseHistory(
        previous_reviews=reviews,
        open_actions=[action for action in visible if action.status in OPEN_STATUSES],
        on_review=ReviewActions(shown_here, len(raised_here) - len(shown_here)),
    )


@statement_per_reader
def _returns_statement(reader: Reader):
    return (
        select(AgencyReturn)
        # The sender is shown by name (on the agency's own return page).
        .options(joinedload(AgencyReturn.submitted_by).load_only(User.display_name).lazyload(User.agency))
        .where(AgencyReturn.case_review_id == bindparam("review_id"), returns_scope(reader))
    )


def returns_on(reader: User, review: CaseReview) -> dict[int, AgencyReturn]:
    """The agencies' pre-meeting information on this case, by agency (a partner sees only its own)."""
    return {
        agency_return.agency_id: agency_return
        for agency_return in db.session.scalars(_returns_statement(reader), {"review_id": review.id})
    }


@statement_per_reader
def _next_review_statement(reader: Reader):
    return (
        select(CaseReview)
        .where(
            CaseReview.meeting_id == bindparam("meeting_id"),
            CaseReview.position > bindparam("position"),
            case_review_scope(reader),
        )
        .order_by(CaseReview.position)
        .limit(1)
    )


def next_review(reader: User, review: CaseReview) -> CaseReview | None:
    """The next case on the agenda that the reader may see."""
    parameters = {"meeting_id": review.meeting_id, "position": review.position}
    return db.session.scalar(_next_review_statement(reader), parameters)

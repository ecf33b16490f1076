"""Reads for cases, scoped: partners find and see only cases their agency is involved in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from tracker.extensions import db
from tracker.models import Action, Case, CaseReview, Meeting
from tracker.permissions import action_scope, case_review_scope


def _visible_case_ids(user):
    return select(CaseReview.case_id).where(case_review_scope(user))


def search(user, text: str, page: int, per_page: int):
    """Cases whose reference contains ``text`` (any case), most recently reviewed first."""
    last_review = (
        select(
            CaseReview.case_id,
            func.max(Meeting.starts_at).label("last_reviewed"),
            func.count(CaseReview.id).label("reviews"),
        )
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .where(case_review_scope(user))
        .group_by(CaseReview.case_id)
        .subquery()
    )
    query = (
        select(Case)
        .join(last_review, last_review.c.case_id == Case.id)
        .order_by(last_review.c.last_reviewed.desc(), Case.id)
    )
    if text:
        query = query.where(Case.reference.like(f"%{text.upper()}%"))
    result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    ids = [case.id for case in result.items]
    stats = (
        {row.case_id: row for row in db.session.execute(select(last_review).where(last_review.c.case_id.in_(ids)))}
        if ids
        else {}
    )
    return result, stats


@dataclass
class CasePage:
    case: Case
    reviews: list[CaseReview]
    actions_by_review: dict[int, list[Action]]


def case_page(user, case_id: int) -> CasePage | None:
    case = db.session.scalar(select(Case).where(Case.id == case_id, Case.id.in_(_visible_case_ids(user))))
    if case is None:
        return None
    reviews = list(
        db.session.scalars(
            select(CaseReview)
            .join(Meeting, CaseReview.meeting_id == Meeting.id)
            .options(joinedload(CaseReview.meeting), selectinload(CaseReview.agencies), selectinload(CaseReview.themes))
            .where(CaseReview.case_id == case.id, case_review_scope(user))
            .order_by(Meeting.starts_at.desc())
        )
    )
    actions = db.session.scalars(
        select(Action)
        .options(joinedload(Action.owning_agency), joinedload(Action.owner))
        .where(Action.case_review_id.in_([review.id for review in reviews]), action_scope(user))
        .order_by(Action.id)
    )
    by_review: dict[int, list[Action]] = {}
    for action in actions:
        if action.case_review_id is not None:
            by_review.setdefault(action.case_review_id, []).append(action)
    return CasePage(case, reviews, by_review)

"""Reads for cases, scoped: partners find and see only cases their agency is involved in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from tracker import fulltext
from tracker.cases.filters import CaseSearch
from tracker.extensions import db
from tracker.models import Action, Agency, Case, CaseReview, LearningTheme, Meeting, RiskLevel
from tracker.models.case import case_review_agencies, case_review_themes
from tracker.permissions import action_scope, case_review_scope
from tracker.timeutil import LONDON


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=LONDON)


def _review_conditions(criteria: CaseSearch) -> list:
    """SQL conditions on CaseReview (joined to its Meeting) for everything but the case reference."""
    conditions: list = []
    if criteria.reviewed_from:
        conditions.append(Meeting.starts_at >= _london_midnight(criteria.reviewed_from))
    if criteria.reviewed_to:
        conditions.append(Meeting.starts_at < _london_midnight(criteria.reviewed_to + timedelta(days=1)))
    if criteria.theme_id is not None:
        themes = case_review_themes
        conditions.append(
            exists().where(themes.c.case_review_id == CaseReview.id, themes.c.theme_id == criteria.theme_id)
        )
    if criteria.agency_id is not None:
        involved = case_review_agencies
        conditions.append(
            exists().where(involved.c.case_review_id == CaseReview.id, involved.c.agency_id == criteria.agency_id)
        )
    if criteria.grade is not None:
        conditions.append(CaseReview.scrutiny_grade == criteria.grade)
    if criteria.risk:
        conditions.append(CaseReview.risk_level == RiskLevel(criteria.risk))
    conditions += [getattr(CaseReview, flag).is_(True) for flag in criteria.flags]
    if words := criteria.word_list:
        conditions.append(fulltext.matches_words(db.engine.dialect.name, words))
    return conditions


@dataclass
class CaseHit:
    """A case the search found: the date of its latest matching review and how many reviews match."""

    case: Case
    last_reviewed: datetime
    reviews: int


class _SearchPage(Pagination):
    """A page of search results and the total, from one statement (the total as a window count over
    the same grouping), so the matching reviews are grouped once per page, not twice."""

    _total: int | None = None

    def _query_items(self) -> list[CaseHit]:
        query = self._query_args["query"].limit(self.per_page).offset(self._query_offset)
        rows = db.session.execute(query).all()
        self._total = rows[0].total if rows else None
        return [CaseHit(row[0], row.last_reviewed, row.reviews) for row in rows]

    def _query_count(self) -> int:
        if self._total is not None:
            return self._total
        # A page past the end: nothing to read the total from.
        query = self._query_args["query"].with_only_columns(func.count()).order_by(None)
        return db.session.scalar(query) or 0


def search(user, criteria: CaseSearch, page: int, per_page: int) -> Pagination:
    """The one case search: cases with at least one review ``user`` may see that meets every criterion
    (reference, review dates, theme, agency involved, grade, risk, flags, words in the summary or
    findings), most recently reviewed first, a page at a time; each with the date of its latest
    matching review and how many reviews match."""
    matching = (
        select(
            CaseReview.case_id,
            func.max(Meeting.starts_at).label("last_reviewed"),
            func.count(CaseReview.id).label("reviews"),
        )
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .where(case_review_scope(user), *_review_conditions(criteria))
        .group_by(CaseReview.case_id)
        .subquery()
    )
    query = (
        select(Case, matching.c.last_reviewed, matching.c.reviews, func.count().over().label("total"))
        .join(matching, matching.c.case_id == Case.id)
        .order_by(matching.c.last_reviewed.desc(), Case.id)
    )
    if criteria.reference:
        query = query.where(Case.reference.like(f"%{criteria.reference.upper()}%"))
    return _SearchPage(page=page, per_page=per_page, error_out=False, count=True, query=query)


def search_choices() -> tuple[list[LearningTheme], list[Agency]]:
    """Every learning theme (retired ones too: old reviews carry them) and every agency, by name."""
    themes = list(db.session.scalars(select(LearningTheme).order_by(LearningTheme.name)))
    agencies = list(db.session.scalars(select(Agency).order_by(Agency.name)))
    return themes, agencies


@dataclass
class CasePage:
    case: Case
    reviews: list[CaseReview]
    actions_by_review: dict[int, list[Action]]


def case_page(user, case_id: int) -> CasePage | None:
    # EXISTS on this case's own reviews (from the case_id index), not IN over every visible review:
    # SQLite built that list from all of history for each case page (30-80 ms for a partner at ten years).
    visible = exists().where(CaseReview.case_id == Case.id, case_review_scope(user))
    case = db.session.scalar(select(Case).where(Case.id == case_id, visible))
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

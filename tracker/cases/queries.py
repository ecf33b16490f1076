"""Reads for cases, scoped: partners find and see only cases their agency is involved in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Integer, bindparam, distinct, exists, func, select
from sqlalchemy.orm import joinedload

from tracker import fulltext
from tracker.cases.filters import CaseSearch
from tracker.extensions import db, read_rows
from tracker.models import Action, Agency, Case, CaseReview, LearningTheme, Meeting, RiskLevel
from tracker.models.case import case_review_agencies, case_review_themes
from tracker.permissions import Reader, can_see_action, case_review_scope, statement_per_reader
from tracker.timeutil import london_midnight


def _review_conditions(criteria: CaseSearch) -> list:
    """SQL conditions on CaseReview (joined to its Meeting) for everything but the case reference."""
    conditions: list = []
    if criteria.reviewed_from:
        conditions.append(Meeting.starts_at >= london_midnight(criteria.reviewed_from))
    if criteria.reviewed_to:
        conditions.append(Meeting.starts_at < london_midnight(criteria.reviewed_to + timedelta(days=1)))
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


@dataclass
class CaseResults:
    """A page of cases, most recently reviewed first. ``total`` is None for the unfiltered list: counting
    every case in the user's scope would cost a pass over all of history on every visit, so that list
    pages with previous and next links only; a search (which narrows the reviews) is counted."""

    items: list[CaseHit]
    page: int
    per_page: int
    has_next: bool
    total: int | None

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)

    @property
    def pages(self) -> int:
        return -(-(self.total or 0) // self.per_page)

    def iter_pages(self, **edges) -> Iterator[int | None]:
        # The numbered links of a counted search, as Flask-SQLAlchemy's pages number them.
        return Pagination.iter_pages(self, **edges)  # type: ignore[arg-type]


# Reviews read at first when walking back through them (at least twice the cases wanted: cases repeat,
# and the last meeting read is dropped when the read is cut short); four times as many each time too
# few cases were found. Each row read costs Python time, so the first read is kept close to a page.
_FIRST_WALK = 60


# The furthest page the walk goes to (10,000 cases at 25 a page): a page number typed beyond it is
# answered as that page, rather than reading every review the user may see into Python.
MAX_PAGE = 400


def _newest_reviews(conditions: list):
    """The case and meeting time of the newest ``walk_limit`` reviews meeting ``conditions``."""
    return (
        select(CaseReview.case_id, Meeting.starts_at)
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .where(*conditions)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(bindparam("walk_limit", type_=Integer))
    )


def _hits(conditions: list):
    """The cases ``page_ids`` with the time of their latest review meeting ``conditions``, and how many."""
    return (
        select(Case, func.max(Meeting.starts_at), func.count(CaseReview.id))
        .join(CaseReview, CaseReview.case_id == Case.id)
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .where(Case.id.in_(bindparam("page_ids", expanding=True)), *conditions)
        .group_by(Case.id)
    )


# The unfiltered list, the one most asked for, is built once per reader.
@statement_per_reader
def _newest_visible_reviews(reader: Reader):
    return _newest_reviews([case_review_scope(reader)])


@statement_per_reader
def _visible_hits(reader: Reader):
    return _hits([case_review_scope(reader)])


def _latest_cases(newest_reviews, wanted: int) -> list[int]:
    """The ids of the first ``wanted`` cases with a review that ``newest_reviews`` (_newest_reviews) reads,
    most recently reviewed first (ties by case id), found by walking back through the reviews from the newest meeting.

    Grouping every matching review by case to sort the groups costs a pass over all of history; the
    walk stops once it has enough cases, so the first pages cost the same after ten years as after one.
    It reads the reviews meeting by meeting (from ix_meetings_starts_at) and drops the last meeting's
    rows when the read was cut short, as that meeting may be incomplete."""
    limit = max(_FIRST_WALK, 2 * wanted)
    while True:
        rows = read_rows(newest_reviews, {"walk_limit": limit}).all()
        complete = len(rows) < limit
        if not complete:
            cut = rows[-1].starts_at
            rows = [row for row in rows if row.starts_at != cut]
        found: dict[int, None] = {}
        # Cases reviewed at the same time are listed by id, as the grouped query listed them.
        for _, same_time in groupby(rows, key=lambda row: row.starts_at):
            for case_id in sorted(row.case_id for row in same_time):
                found.setdefault(case_id)
        if complete or len(found) >= wanted:
            return list(found)[:wanted]
        limit *= 4


def search(user, criteria: CaseSearch, page: int, per_page: int) -> CaseResults:
    """The one case search: cases with at least one review ``user`` may see that meets every criterion
    (reference, review dates, theme, agency involved, grade, risk, flags, words in the summary or
    findings), most recently reviewed first, a page at a time; each with the date of its latest
    matching review and how many reviews match."""
    conditions = [case_review_scope(user), *_review_conditions(criteria)]
    if criteria.reference:
        pattern = f"%{criteria.reference.upper()}%"
        named = exists().where(Case.id == CaseReview.case_id, Case.reference.like(pattern)).correlate_except(Case)
        conditions.append(named)
    if criteria.is_empty:
        newest_reviews, hits_statement = _newest_visible_reviews(user), _visible_hits(user)
    else:
        newest_reviews, hits_statement = _newest_reviews(conditions), _hits(conditions)
    page = min(page, MAX_PAGE)
    ids = _latest_cases(newest_reviews, page * per_page + 1)  # one more than the page shows: is there a next?
    page_ids = ids[(page - 1) * per_page : page * per_page]
    hits: list[CaseHit] = []
    if page_ids:
        rows = db.session.execute(hits_statement, {"page_ids": page_ids}).all()
        by_id = {case.id: CaseHit(case, last_reviewed, reviews) for case, last_reviewed, reviews in rows}
        # A case gone between the two reads (a review taken off an agenda, a case erased) is left out.
        hits = [by_id[case_id] for case_id in page_ids if case_id in by_id]
    total = None
    if not criteria.is_empty:
        total = db.session.scalar(
            select(func.count(distinct(CaseReview.case_id)))
            .join(Meeting, CaseReview.meeting_id == Meeting.id)
            .where(*conditions)
        )
    return CaseResults(hits, page, per_page, has_next=len(ids) > page * per_page, total=total)


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


# EXISTS on this case's own reviews (from the case_id index), not IN over every visible review: SQLite
# built that list from all of history for each case page (30-80 ms for a partner at ten years).
@statement_per_reader
def _case_statement(reader: Reader):
    visible = exists().where(CaseReview.case_id == Case.id, case_review_scope(reader))
    return select(Case).where(Case.id == bindparam("case_id"), visible)


@statement_per_reader
def _case_reviews(reader: Reader):
    # With its meeting (the page shows its date); the page shows no agencies or themes, so they are not read.
    return (
        select(CaseReview)
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .options(joinedload(CaseReview.meeting))
        .where(CaseReview.case_id == bindparam("case_id"), case_review_scope(reader))
        .order_by(Meeting.starts_at.desc())
    )


# The actions on the case's reviews (a handful), kept to the user's scope in Python: with the agency's
# condition in SQL, SQLite read every action of a partner's agency through its index instead.
_ACTIONS_ON_REVIEWS = (
    select(Action)
    .options(joinedload(Action.owning_agency), joinedload(Action.owner))
    .where(Action.case_review_id.in_(bindparam("review_ids", expanding=True)))
    .order_by(Action.id)
)


def case_page(user, case_id: int) -> CasePage | None:
    case = db.session.scalar(_case_statement(user), {"case_id": case_id})
    if case is None:
        return None
    reviews = list(db.session.scalars(_case_reviews(user), {"case_id": case.id}))
    actions = db.session.scalars(_ACTIONS_ON_REVIEWS, {"review_ids": [review.id for review in reviews]})
    by_review: dict[int, list[Action]] = {}
    for action in actions:
        if action.case_review_id is not None and can_see_action(user, action):
            by_review.setdefault(action.case_review_id, []).append(action)
    return CasePage(case, reviews, by_review)

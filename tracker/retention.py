"""Retention: which closed cases are past their retention period, and erasing them.

A case is past retention when the last meeting that reviewed it started before the cut-off, every
meeting that reviewed it is finished (minutes approved, or cancelled), none of its actions is still
open, and no legal hold is active on it. Erasing it deletes its case reviews (with their agencies,
themes and agency returns), the actions raised on them with their updates, its released holds and
the case itself. Meeting-level records (attendance, notes, meeting-level actions) stay with the
meeting. The stored minutes PDFs of a meeting whose every case is erased go too (they hold those
cases' reviews); a meeting that also records a case that is kept keeps its minutes.

Each erasure is audited with the case's reference and the counts only. A second run finds nothing
more to erase: idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, select, text

from tracker import audit
from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    Action,
    ActionUpdate,
    AgencyReturn,
    Case,
    CaseReview,
    LegalHold,
    Meeting,
    MeetingStatus,
    MinutesDocument,
)

FINISHED = (MeetingStatus.APPROVED, MeetingStatus.CANCELLED)
MIN_MONTHS = 12  # a shorter period is surely a typing mistake ("6m" for "6y")
PERIOD = re.compile(r"(\d{1,3})([ym])")


def parse_period(text: str) -> int:
    """'6y' or '72m' as a number of months; ValueError for anything else or under a year."""
    match = PERIOD.fullmatch(text.strip().lower())
    if not match:
        raise ValueError("give the period as years or months, like 6y or 72m")
    months = int(match.group(1)) * (12 if match.group(2) == "y" else 1)
    if months < MIN_MONTHS:
        raise ValueError(f"the period must be at least {MIN_MONTHS} months")
    return months


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` earlier (the 29th-31st fall back to the month's last day)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def active_hold_condition():
    """SQL condition on Case: an active legal hold keeps it."""
    return exists().where(LegalHold.case_id == Case.id, LegalHold.released_at.is_(None))


def _past_retention_condition(cutoff: datetime):
    review, meeting, action = CaseReview, Meeting, Action
    reviewed_since = exists().where(
        review.case_id == Case.id, review.meeting_id == meeting.id, meeting.starts_at >= cutoff
    )
    unfinished_meeting = exists().where(
        review.case_id == Case.id, review.meeting_id == meeting.id, meeting.status.not_in(FINISHED)
    )
    open_action = exists().where(
        review.case_id == Case.id, action.case_review_id == review.id, action.status.in_(OPEN_STATUSES)
    )
    return and_(~reviewed_since, ~unfinished_meeting, ~open_action)


@dataclass
class Erasure:
    reference: str
    reviews: int
    actions: int
    updates: int
    returns: int

    def describe(self) -> str:
        return (
            f"{self.reviews} case reviews, {self.actions} actions, {self.updates} action updates, "
            f"{self.returns} agency returns"
        )


@dataclass
class PurgePlan:
    cutoff: datetime
    due: list[Case]
    held: list[str]  # references kept by a legal hold


def plan(cutoff: datetime) -> PurgePlan:
    past = _past_retention_condition(cutoff)
    due = list(db.session.scalars(select(Case).where(past, ~active_hold_condition()).order_by(Case.id)))
    held = list(db.session.scalars(select(Case.reference).where(past, active_hold_condition()).order_by(Case.id)))
    return PurgePlan(cutoff, due, held)


def _count(statement) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def erase(case: Case, *, dry_run: bool) -> Erasure:
    """Delete ``case`` and what hangs off it (only count, when ``dry_run``); audit the erasure."""
    reviews = select(CaseReview.id).where(CaseReview.case_id == case.id)
    actions = select(Action.id).where(Action.case_review_id.in_(reviews))
    updates = select(ActionUpdate.id).where(ActionUpdate.action_id.in_(actions))
    returns = select(AgencyReturn.id).where(AgencyReturn.case_review_id.in_(reviews))
    erasure = Erasure(case.reference, _count(reviews), _count(actions), _count(updates), _count(returns))
    if dry_run:
        return erasure
    case_id = case.id
    audit.record("case_erased", case, detail=f"reference {erasure.reference}: {erasure.describe()}")
    db.session.execute(delete(ActionUpdate).where(ActionUpdate.action_id.in_(actions)))
    db.session.execute(delete(Action).where(Action.id.in_(actions)))
    db.session.execute(delete(AgencyReturn).where(AgencyReturn.case_review_id.in_(reviews)))
    # Their agencies and themes go with them (ON DELETE CASCADE on the link tables).
    db.session.execute(delete(CaseReview).where(CaseReview.case_id == case_id))
    db.session.execute(delete(LegalHold).where(LegalHold.case_id == case_id))  # released holds only
    db.session.execute(delete(Case).where(Case.id == case_id))
    db.session.expunge(case)
    return erasure


# Stored minutes -------------------------------------------------------------------------------


def meetings_left_without_cases(cutoff: datetime, erased_case_ids: list[int]) -> list[Meeting]:
    """Meetings before the cut-off with stored minutes, every case of which is being erased."""
    review = CaseReview
    has_erased_case = exists().where(review.meeting_id == Meeting.id, review.case_id.in_(erased_case_ids))
    has_kept_case = exists().where(review.meeting_id == Meeting.id, review.case_id.not_in(erased_case_ids))
    has_minutes = exists().where(MinutesDocument.meeting_id == Meeting.id)
    return list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.starts_at < cutoff, has_minutes, has_erased_case, ~has_kept_case)
            .order_by(Meeting.starts_at)
        )
    )


@contextmanager
def _stored_minutes_deletable() -> Iterator[None]:
    """Stored minutes are append-only by trigger. On PostgreSQL the trigger lets the schema's owner
    delete (the purge runs as the owner); SQLite has no roles, so the delete trigger is lifted for this
    transaction only and put back before it commits."""
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    db.session.execute(text("DROP TRIGGER minutes_documents_no_delete"))
    yield
    db.session.execute(
        text(
            "CREATE TRIGGER minutes_documents_no_delete BEFORE DELETE ON minutes_documents "
            "BEGIN SELECT RAISE(ABORT, 'minutes_documents is append-only: DELETE refused'); END"
        )
    )


def erase_stored_minutes(meeting: Meeting, *, dry_run: bool) -> int:
    """Delete ``meeting``'s stored minutes PDFs (only count, when ``dry_run``); audit the erasure."""
    count = db.session.scalar(select(func.count(MinutesDocument.id)).where(MinutesDocument.meeting_id == meeting.id))
    if dry_run or not count:
        return count or 0
    audit.record("stored_minutes_erased", meeting, detail=f"{count} stored revisions")
    with _stored_minutes_deletable():
        db.session.execute(delete(MinutesDocument).where(MinutesDocument.meeting_id == meeting.id))
    return count

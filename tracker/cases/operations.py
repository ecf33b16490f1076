"""Writes for cases: finding or opening a case by its reference, and its repeat flags.

Operations build objects, flush and audit; they never commit (the request does).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from tracker import audit
from tracker.extensions import db
from tracker.models import Case, CaseReview, Meeting, MeetingStatus
from tracker.timeutil import LONDON


def normalise_reference(reference: str) -> str:
    return " ".join(reference.split()).upper()


def case_for_reference(reference: str) -> Case:
    """The case with this reference, opened (and audited) the first time it is reviewed."""
    reference = normalise_reference(reference)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        case = Case(reference=reference)
        db.session.add(case)
        db.session.flush()
        audit.record("case_created", case)
    return case


def _twelve_months_before(moment: datetime) -> datetime:
    local = moment.astimezone(LONDON)
    try:
        earlier = local.replace(year=local.year - 1)
    except ValueError:  # 29 February
        earlier = local.replace(year=local.year - 1, day=28)
    return earlier


def refresh_repeat_flags(case_ids) -> None:
    """Flag each review of these cases that follows an earlier review within 12 months
    (SafeLives' definition of a repeat). Cancelled meetings do not count."""
    case_ids = set(case_ids)
    if not case_ids:
        return
    rows = db.session.execute(
        select(CaseReview, Meeting.starts_at, Meeting.status)
        .join(Meeting, CaseReview.meeting_id == Meeting.id)
        .where(CaseReview.case_id.in_(case_ids))
        .order_by(CaseReview.case_id, Meeting.starts_at)
    ).all()
    previous_by_case: dict[int, datetime] = {}
    for review, starts_at, status in rows:
        if status == MeetingStatus.CANCELLED:
            review.is_repeat = False
            continue
        previous = previous_by_case.get(review.case_id)
        review.is_repeat = previous is not None and previous >= _twelve_months_before(starts_at)
        previous_by_case[review.case_id] = starts_at

"""Writes for case reviews. Operations build objects, flush and audit; they never commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker import audit
from tracker.extensions import db
from tracker.meetings.operations import ensure_editable
from tracker.models import RISK_FLAGS, Agency, AgencyReturn, CaseReview, LearningTheme, RiskLevel, User
from tracker.timeutil import utcnow


def update_case_review(
    review: CaseReview,
    *,
    dash_score: int | None,
    risk_overridden: bool,
    risk_level: str | None,
    risk_override_reason: str,
    flags: list[str],
    agencies: list[Agency],
    summary: str,
    findings: str,
    scrutiny_grade: int | None,
    themes: list[LearningTheme],
    feedback_to_officer: str,
) -> None:
    ensure_editable(review.meeting)
    review.dash_score = dash_score
    review.risk_overridden = risk_overridden
    if risk_overridden:
        review.risk_level = RiskLevel(risk_level or "")  # the form requires a level with an override
        review.risk_override_reason = risk_override_reason
    else:
        review.risk_level = RiskLevel.from_dash_score(dash_score) if dash_score is not None else None
        review.risk_override_reason = ""
    for column, _label in RISK_FLAGS:
        setattr(review, column, column in flags)
    review.agencies = list(agencies)
    review.summary, review.findings, review.feedback_to_officer = summary, findings, feedback_to_officer
    review.scrutiny_grade = scrutiny_grade
    review.themes = list(themes)
    db.session.flush()
    audit.record("case_review_updated", review, detail=f"grade={scrutiny_grade} risk={review.risk_level}")


def save_agency_return(
    review: CaseReview, *, agency: Agency, by: User, no_information_held: bool, contact_made: bool, information: str
) -> AgencyReturn:
    """Record (or correct) what ``agency`` holds on the case, before the meeting."""
    ensure_editable(review.meeting)
    agency_return = db.session.scalar(
        select(AgencyReturn).where(AgencyReturn.case_review_id == review.id, AgencyReturn.agency_id == agency.id)
    )
    first = agency_return is None
    if agency_return is None:
        try:
            with db.session.begin_nested():  # two officers sending the first return at once: one row
                agency_return = AgencyReturn(case_review=review, agency=agency)
                db.session.add(agency_return)
        except IntegrityError:
            agency_return = db.session.scalars(
                select(AgencyReturn).where(
                    AgencyReturn.case_review_id == review.id, AgencyReturn.agency_id == agency.id
                )
            ).one()
            first = False
    agency_return.no_information_held = no_information_held
    agency_return.contact_made = contact_made
    agency_return.information = "" if no_information_held else information
    agency_return.submitted_by = by
    agency_return.submitted_at = utcnow()
    db.session.flush()
    audit.record(
        "agency_return_submitted" if first else "agency_return_updated",
        review,
        detail=f"agency {agency.code} no_information={no_information_held} contact={contact_made}",
    )
    return agency_return

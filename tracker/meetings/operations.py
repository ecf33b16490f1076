"""Writes for meetings, attendance, the agenda (which cases, in which order) and raising actions.

Operations build objects, flush and audit; they never commit (the request does). Each refuses
to change locked (approved or cancelled) minutes by raising MinutesLocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from tracker import audit, signals
from tracker.cases.operations import case_for_reference, refresh_repeat_flags
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionStatus,
    Agency,
    Attendance,
    AttendanceStatus,
    CaseReview,
    Meeting,
    MeetingRole,
    MeetingStatus,
    MinutesReopening,
    User,
)
from tracker.notify import outbox
from tracker.notify.agenda import agenda_message, agenda_recipients
from tracker.timeutil import LONDON, utcnow


class MinutesLocked(Exception):
    """The meeting's minutes are approved (or the meeting cancelled): reopen them first."""


class StaleAgenda(Exception):
    """The agenda changed since the page was loaded."""


def ensure_editable(meeting: Meeting) -> None:
    if meeting.is_locked:
        raise MinutesLocked(meeting.status)


def london_to_utc(day: date, start: time) -> datetime:
    """10:00 on a London calendar day, whatever the clocks are doing, as an aware UTC datetime."""
    return datetime.combine(day, start, tzinfo=LONDON).astimezone(UTC)


def _series_starts(first_day: date, start: time, weeks: int) -> list[datetime]:
    return [london_to_utc(first_day + timedelta(weeks=n), start) for n in range(weeks)]


# Meetings ---------------------------------------------------------------------------------


def schedule_meetings(
    *, first_day: date, start: time, weeks: int, location: str, chair: User, invited: list[Agency]
) -> list[Meeting]:
    meetings = []
    for starts_at in _series_starts(first_day, start, weeks):
        meeting = Meeting(
            starts_at=starts_at,
            location=location,
            chair=chair,
            invited_agencies=list(invited),
            status=MeetingStatus.SCHEDULED,
        )
        db.session.add(meeting)
        meetings.append(meeting)
    db.session.flush()
    for meeting in meetings:
        audit.record(
            "meeting_scheduled",
            meeting,
            detail=f"{meeting.starts_at.isoformat()} series of {weeks}" if weeks > 1 else meeting.starts_at.isoformat(),
        )
    return meetings


def update_meeting(
    meeting: Meeting, *, day: date, start: time, location: str, chair: User, invited: list[Agency]
) -> None:
    ensure_editable(meeting)
    starts_at = london_to_utc(day, start)
    moved = starts_at != meeting.starts_at
    meeting.starts_at, meeting.location, meeting.chair = starts_at, location, chair
    meeting.invited_agencies = list(invited)
    db.session.flush()
    if moved:
        refresh_repeat_flags([review.case_id for review in meeting.reviews])
    audit.record("meeting_updated", meeting, detail=f"starts {starts_at.isoformat()}" if moved else "details")


def cancel_meeting(meeting: Meeting, reason: str) -> None:
    ensure_editable(meeting)
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancellation_reason = reason
    db.session.flush()
    # A cancelled meeting's reviews no longer count as earlier reviews of their cases.
    refresh_repeat_flags([review.case_id for review in meeting.reviews])
    # The reason stays on the meeting; the audit log (which administrators read) names only the meeting.
    audit.record("meeting_cancelled", meeting)


def record_statement_read(meeting: Meeting, user: User) -> None:
    ensure_editable(meeting)
    if meeting.statement_read_at is None:
        meeting.statement_read_at, meeting.statement_read_by = utcnow(), user
        if meeting.status == MeetingStatus.SCHEDULED:
            meeting.status = MeetingStatus.IN_PROGRESS
        db.session.flush()
        audit.record("confidentiality_statement_read", meeting)


def save_minutes_text(meeting: Meeting, *, general_notes: str, any_other_business: str) -> None:
    ensure_editable(meeting)
    meeting.general_notes, meeting.any_other_business = general_notes, any_other_business
    db.session.flush()
    audit.record("minutes_text_updated", meeting)


class GapsRemain(Exception):
    """Approval refused: a blocking gap is still open, or a gap was not explicitly accepted."""

    def __init__(self, blocking: list[str], unaccepted: list[str]):
        super().__init__(f"blocking {blocking}, not accepted {unaccepted}")
        self.blocking, self.unaccepted = blocking, unaccepted


def approve_minutes(
    meeting: Meeting, user: User, *, gaps: list | None = None, accepted: frozenset[str] = frozenset()
) -> None:
    """Approve and lock the minutes. ``gaps`` are the approval check's findings (see
    meetings.queries.approval_gaps): blocking ones refuse approval; the rest must each be accepted."""
    ensure_editable(meeting)
    gaps = gaps or []
    blocking = [gap.key for gap in gaps if gap.blocking]
    unaccepted = [gap.key for gap in gaps if not gap.blocking and gap.key not in accepted]
    if blocking or unaccepted:
        raise GapsRemain(blocking, unaccepted)
    meeting.status = MeetingStatus.APPROVED
    meeting.approved_at, meeting.approved_by = utcnow(), user
    db.session.flush()
    accepted_note = f"; gaps accepted: {', '.join(sorted(gap.key for gap in gaps))}" if gaps else ""
    audit.record("minutes_approved", meeting, detail=f"revision {meeting.minutes_revision}{accepted_note}")
    signals.minutes_approved.send(meeting, meeting=meeting, approved_by=user)


def reopen_minutes(meeting: Meeting, reason: str, *, by: User | None) -> None:
    if meeting.status != MeetingStatus.APPROVED:
        raise ValueError("only approved minutes can be reopened")
    meeting.status = MeetingStatus.IN_PROGRESS
    meeting.minutes_revision += 1
    meeting.approved_at = meeting.approved_by = None
    db.session.flush()
    db.session.add(
        MinutesReopening(meeting=meeting, revision=meeting.minutes_revision, reason=reason[:500], reopened_by=by)
    )
    # The reason is kept with the meeting; the audit log (which administrators read) names the revision only.
    audit.record("minutes_reopened", meeting, detail=f"now revision {meeting.minutes_revision}")


# Attendance -------------------------------------------------------------------------------


def add_attendance(
    meeting: Meeting, *, agency: Agency, user: User | None, person_name: str, status: str, role: str, deputy_for: str
) -> Attendance:
    ensure_editable(meeting)
    row = Attendance(
        meeting=meeting,
        agency=agency,
        user=user,
        person_name="" if user else person_name,
        status=AttendanceStatus(status),
        role=MeetingRole(role),
        deputy_for=deputy_for,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("attendance_added", meeting, detail=f"attendance {row.id} {agency.code} {status}")
    return row


@dataclass(frozen=True)
class AttendanceEntry:
    """One line of the attendance form: a member of an invited agency (user) or a guest (row)."""

    agency_id: int
    status: str  # present | apologies | absent | "" (not recorded)
    user_id: int | None = None  # a member's account
    row_id: int | None = None  # the line's attendance row, if it had one
    person_name: str = ""  # a guest's name (members are users)
    deputy_for: str = ""


def record_attendance(meeting: Meeting, entries: list[AttendanceEntry], *, statement_read_by: User | None) -> int:
    """Save the whole attendance form at once: add, change or clear each person's line. Returns
    how many lines changed. Marks the confidentiality statement as read when asked."""
    ensure_editable(meeting)
    by_user: dict[int, Attendance] = {row.user_id: row for row in meeting.attendance if row.user_id is not None}
    by_id = {row.id: row for row in meeting.attendance}
    changes: list[str] = []
    for entry in entries:
        row = by_id.get(entry.row_id) if entry.row_id is not None else None
        if row is None and entry.row_id is not None and entry.user_id is None:
            continue  # a guest removed meanwhile: nothing left to change (a member's line is recorded)
        if row is None and entry.user_id is not None:
            row = by_user.get(entry.user_id)
        who = f"user {entry.user_id}" if entry.user_id is not None else (f"row {row.id}" if row else "guest")
        if not entry.status:
            if row is not None and entry.user_id is not None:  # a member's line cleared: not recorded
                db.session.delete(row)
                changes.append(f"{who} cleared")
            continue
        status = AttendanceStatus(entry.status)
        if row is None:
            db.session.add(
                Attendance(
                    meeting=meeting,
                    agency_id=entry.agency_id,
                    user_id=entry.user_id,
                    person_name=entry.person_name,
                    deputy_for=entry.deputy_for,
                    status=status,
                )
            )
            changes.append(f"{who} {status}")
        elif row.status != status:
            row.status = status
            changes.append(f"{who} {status}")
    db.session.flush()
    changed = len(changes)
    if changed:
        audit.record("attendance_recorded", meeting, detail="; ".join(changes))
    if statement_read_by is not None:
        record_statement_read(meeting, statement_read_by)
    elif meeting.status == MeetingStatus.SCHEDULED and changed:
        meeting.status = MeetingStatus.IN_PROGRESS
        db.session.flush()
    return changed


def remove_attendance(meeting: Meeting, row: Attendance) -> None:
    ensure_editable(meeting)
    audit.record("attendance_removed", meeting, detail=f"attendance {row.id} {row.agency.code} {row.status}")
    db.session.delete(row)
    db.session.flush()


# The agenda: which cases, in which order -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddedReview:
    review: CaseReview
    created: bool  # False when the case was already on this agenda (e.g. a double submit)


def add_case_review(meeting: Meeting, reference: str, agencies: list[Agency] | None = None) -> AddedReview:
    """Put a case on the agenda, with the agencies involved (who will be asked for information once
    the agenda is published). A reference typed again links to the existing case."""
    ensure_editable(meeting)
    case = case_for_reference(reference)
    existing = db.session.scalar(
        select(CaseReview).where(CaseReview.meeting_id == meeting.id, CaseReview.case_id == case.id)
    )
    if existing is not None:
        return AddedReview(existing, created=False)
    last_position = max((review.position for review in meeting.reviews), default=0)
    review = CaseReview(meeting=meeting, case=case, position=last_position + 1, agencies=list(agencies or []))
    db.session.add(review)
    db.session.flush()
    refresh_repeat_flags([case.id])
    audit.record("case_review_added", review, detail=f"meeting {meeting.id} case {case.id}")
    return AddedReview(review, created=True)


def add_cases_to_regrade(meeting: Meeting, review_ids: list[int]) -> list[AddedReview]:
    """Put on the agenda, to be scored again, the cases of these earlier reviews (the previous meeting's
    grade 4s: queries.cases_to_regrade), each with the agencies involved in it then. A case already
    on the agenda is left as it is (``created`` False)."""
    earlier = db.session.scalars(
        select(CaseReview)
        .options(joinedload(CaseReview.case), selectinload(CaseReview.agencies))  # not a query per case
        .where(CaseReview.id.in_(review_ids))
        .order_by(CaseReview.position)
    ).all()
    return [add_case_review(meeting, review.case.reference, list(review.agencies)) for review in earlier]


class ReviewHasActions(Exception):
    """A review with actions cannot be removed: the actions would lose their context."""


def remove_case_review(review: CaseReview) -> None:
    meeting = review.meeting
    ensure_editable(meeting)
    if review.actions:
        raise ReviewHasActions()
    case_id = review.case_id
    audit.record("case_review_removed", review, detail=f"meeting {meeting.id} case {case_id}")
    db.session.delete(review)
    db.session.flush()
    for position, remaining in enumerate(sorted(meeting.reviews, key=lambda r: r.position), start=1):
        remaining.position = position
    refresh_repeat_flags([case_id])
    db.session.flush()


class NothingToPublish(Exception):
    """An agenda with no cases on it is not published."""


def publish_agenda(meeting: Meeting, by: User, service_url: str) -> int:
    """Publish the agenda: every partner agency involved in a case on it can now see its cases and
    return its information, and its officers are told by e-mail (case references only, never
    personal details), once the request has committed. Publishing again tells them again (the
    agenda may have changed). Returns how many people are told."""
    ensure_editable(meeting)
    if not meeting.reviews:
        raise NothingToPublish()
    first_time = meeting.agenda_published_at is None
    meeting.agenda_published_at, meeting.agenda_published_by = utcnow(), by
    db.session.flush()
    references_by_agency: dict[int, list[str]] = {}
    for review in sorted(meeting.reviews, key=lambda r: r.position):
        for agency in review.agencies:
            references_by_agency.setdefault(agency.id, []).append(review.case.reference)
    told = 0
    for user in agenda_recipients(list(references_by_agency)):
        outbox.queue(agenda_message(user, meeting, references_by_agency[user.agency_id], service_url))
        told += 1
    audit.record(
        "agenda_published" if first_time else "agenda_republished",
        meeting,
        detail=f"{len(meeting.reviews)} cases, {len(references_by_agency)} agencies, {told} people told",
    )
    return told


def agenda_token(meeting: Meeting) -> str:
    """The agenda order as the chair sees it, carried in the move buttons."""
    return agenda_token_of(meeting.reviews)


def agenda_token_of(reviews) -> str:
    """The same token from reviews already loaded (the agenda page has them)."""
    return ",".join(str(review.id) for review in sorted(reviews, key=lambda r: r.position))


def move_case_review(meeting: Meeting, review_id: int, direction: str, seen_agenda: str) -> None:
    ensure_editable(meeting)
    ordered = sorted(meeting.reviews, key=lambda r: r.position)
    if seen_agenda != agenda_token(meeting) or direction not in ("up", "down"):
        raise StaleAgenda()
    index = next((i for i, review in enumerate(ordered) if review.id == review_id), None)
    if index is None:
        raise StaleAgenda()
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, review in enumerate(ordered, start=1):
        review.position = position
    db.session.flush()
    audit.record("agenda_reordered", meeting, detail=agenda_token(meeting))


# Actions ----------------------------------------------------------------------------------


def raise_action(
    meeting: Meeting,
    *,
    review: CaseReview | None,
    description: str,
    agency: Agency,
    owner: User | None,
    due_date: date,
    by: User,
) -> Action:
    ensure_editable(meeting)
    action = Action(
        meeting=meeting,
        case_review=review,
        description=description,
        owning_agency=agency,
        owner=owner,
        due_date=due_date,
        status=ActionStatus.OPEN,
        created_by=by,
    )
    db.session.add(action)
    db.session.flush()
    audit.record(
        "action_raised", action, detail=f"meeting {meeting.id} agency {agency.code} due {due_date.isoformat()}"
    )
    return action

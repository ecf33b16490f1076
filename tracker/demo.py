"""Demo data for development and the README's walk-through. Never loaded in production.

A lived-in service: twelve recent weekly meetings (ten approved, this week's in progress, next
week's scheduled), repeat cases, every scrutiny grade, and actions for every demo agency with
progress notes, some completed and some overdue; before them, two years of approved weekly meetings
whose learning themes rise and fall, with extensions agreed and declined and late completions, so
the reports have eight quarters worth reading. Random choices use a fixed seed: every run is the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pyotp
from flask import current_app
from sqlalchemy import select

from tracker import signals
from tracker.admin import operations as admin_operations
from tracker.extensions import db
from tracker.meetings import operations as meeting_operations
from tracker.models import (
    RISK_FLAGS,
    Action,
    ActionStatus,
    ActionUpdate,
    Agency,
    Attendance,
    AttendanceStatus,
    Case,
    CaseReview,
    ExtensionRequest,
    LearningTheme,
    Meeting,
    MeetingRole,
    MeetingStatus,
    RiskLevel,
    Role,
    SecondFactor,
    User,
)
from tracker.models.extension import ExtensionStatus
from tracker.permissions import may_own_actions, sees_own_agency_only
from tracker.reviews import operations as review_operations
from tracker.timeutil import LONDON, london_today, utcnow

DEMO_PASSWORD = "demo-password-2026"
# Every demo account's authenticator-app key, so anyone following the README can pass the second step
# (`flask --app tracker demo-code EMAIL` prints the current code; or add this key to any authenticator
# app). Only ever set here, by seed-demo, which refuses to run in production; no configuration holds it.
DEMO_TOTP_SECRET = "SCRUTINYDEMOKEYSCRUTINYDEMOKEY23"

DEMO_AGENCIES = [
    ("Police – Protecting Vulnerable People unit", "POL"),
    ("Council – Safer Communities domestic abuse service", "KSC"),
    ("Specialist domestic abuse service", "SDAS"),
    ("Independent Domestic Violence Advisor (IDVA) service", "IDVA"),
    ("Multi-agency safeguarding hub (children's services)", "MASH"),
    ("Health – NHS safeguarding team", "NHS"),
    ("Housing – council housing options", "HOU"),
    ("Probation service", "PROB"),
]

# email, display name, role, agency code, SPOC
DEMO_USERS = [
    ("admin@example.org", "Demo Administrator", Role.ADMIN, "POL", False),
    ("chair@example.org", "Demo Chair", Role.CHAIR, "POL", False),
    ("manager@example.org", "Demo Manager", Role.MANAGER, "POL", False),
    ("idva@example.org", "Demo IDVA Officer", Role.PARTNER, "IDVA", True),
    ("housing@example.org", "Demo Housing Officer", Role.PARTNER, "HOU", False),
]

DEMO_THEMES = [
    "Coercive control not identified",
    "DASH not completed at the scene",
    "Children's voice not recorded",
    "Positive action taken",
    "Referral to IDVA delayed",
    "Bail conditions not considered",
    "Good multi-agency information sharing",
]

SUMMARIES = [
    "Report of a verbal argument escalating to assault; suspect left before officers arrived.",
    "Third-party call from a neighbour about shouting; victim initially declined to engage.",
    "Breach of a non-molestation order reported by the victim by phone.",
    "Repeat call about harassment by an ex-partner through social media and messages.",
    "Assault reported at hospital by safeguarding staff; injuries consistent with the account.",
]
FINDINGS = [
    "Attendance within target time. Body-worn video used. DASH completed and referral made the same day.",
    "Good initial response, but the DASH was completed the next day and the children were not spoken to.",
    "Arrest not considered despite grounds; no record of why positive action was not taken.",
    "Not enough information to reach a conclusion; the officer's statement is outstanding.",
]
ACTION_TEXTS = {
    "POL": [
        "Feed back the panel's observations to the attending officer",
        "Review bail conditions with the officer in the case",
    ],
    "KSC": ["Consider a referral to the perpetrator programme", "Add the address to the community safety watch list"],
    "SDAS": ["Offer outreach support and a safety plan", "Invite the victim to the recovery group"],
    "IDVA": [
        "Make contact within 48 hours and complete a safety plan",
        "Update the risk assessment after the court hearing",
    ],
    "MASH": [
        "Complete a strategy discussion for the children in the household",
        "Share the outcome with the school's safeguarding lead",
    ],
    "NHS": [
        "Flag the record for routine enquiry at the next appointment",
        "Share the safeguarding concern with the GP practice",
    ],
    "HOU": [
        "Assess for a management move on safety grounds",
        "Fit additional security to the property (sanctuary scheme)",
    ],
    "PROB": ["Check licence conditions and report any breach", "Share the risk information with the offender manager"],
}


@dataclass(frozen=True)
class DemoCode:
    code: str
    seconds_valid: int


def demo_code(email: str, now: datetime | None = None) -> DemoCode | None:
    """The code a demo account's authenticator app would give now, for `flask demo-code` and scripts.

    None unless the account holds the demo key. Codes work once, so if the current one has been used
    this is the next one (the service accepts a code one 30-second step early); None if that has
    been used too (wait half a minute).
    """
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    factor = db.session.get(SecondFactor, user.id) if user is not None else None
    if factor is None or factor.secret != DEMO_TOTP_SECRET:
        return None
    now = now or utcnow()
    totp = pyotp.TOTP(DEMO_TOTP_SECRET)
    current = totp.timecode(now)
    step = current if factor.last_used_step is None or factor.last_used_step < current else factor.last_used_step + 1
    if step > current + 1:
        return None
    # A code of step s is accepted until the end of step s + 1.
    valid_until = (step + 2) * totp.interval
    return DemoCode(totp.generate_otp(step), int(valid_until - now.timestamp()))


def seed_demo() -> bool:
    """Create the demo agencies, accounts and meeting history. Returns False if already loaded."""
    if db.session.scalar(select(User.id).where(User.email == DEMO_USERS[0][0])) is not None:
        return False
    agencies = {}
    for name, code in DEMO_AGENCIES:
        agencies[code] = db.session.scalar(select(Agency).where(Agency.code == code)) or admin_operations.create_agency(
            name=name, code=code
        )
    users = {}
    for email, name, role, code, spoc in DEMO_USERS:
        user = admin_operations.create_user(
            email=email,
            display_name=name,
            role=role.value,
            agency=agencies[code],
            is_spoc=spoc,
            password=DEMO_PASSWORD,
        )
        db.session.add(SecondFactor(user_id=user.id, secret=DEMO_TOTP_SECRET, confirmed_at=utcnow()))
        users[email] = user
    themes = [admin_operations.create_theme(name) for name in DEMO_THEMES]
    _seed_meetings(agencies, users, themes)
    seed_extension_requests(users)
    _seed_history(agencies, users, themes)
    db.session.flush()
    return True


def _seed_meetings(agencies: dict[str, Agency], users: dict[str, User], themes: list[LearningTheme]) -> None:
    rng = random.Random(2026)
    chair = users["chair@example.org"]
    today = london_today()
    this_tuesday = today - timedelta(days=(today.weekday() - 1) % 7)
    first_day = this_tuesday - timedelta(weeks=10)
    meetings = meeting_operations.schedule_meetings(
        first_day=first_day,
        start=time(10, 0),
        weeks=12,
        location="Committee Room 2, Civic Centre (or Teams)",
        chair=chair,
        invited=list(agencies.values()),
    )
    case_numbers = [f"DA/{today.year}/{n:05d}" for n in rng.sample(range(10000, 99999), 44)]
    reviewed: list[str] = []
    partner_codes = list(agencies)
    for index, meeting in enumerate(meetings[:11]):  # the last one is next week's, still to come
        for code, agency in agencies.items():
            status = "apologies" if rng.random() < 0.12 and code not in ("POL", "IDVA", "HOU") else "present"
            meeting_operations.add_attendance(
                meeting,
                agency=agency,
                user=users["chair@example.org"] if code == "POL" else None,
                person_name="" if code == "POL" else f"{code} representative",
                status=status,
                role="chair" if code == "POL" else "member",
                deputy_for="",
            )
        meeting_operations.record_statement_read(meeting, chair)
        for slot in range(4):
            # About one case in four comes back within the year: a repeat.
            repeat = reviewed and rng.random() < 0.25
            reference = rng.choice(reviewed) if repeat else case_numbers.pop()
            added = meeting_operations.add_case_review(meeting, reference)
            if not added.created:
                continue
            reviewed.append(reference)
            involved = {agencies["POL"], agencies[rng.choice(["IDVA", "HOU"])], agencies[rng.choice(partner_codes)]}
            grade = (index + slot) % 4 + 1
            dash = rng.randint(4, 20)
            review_operations.update_case_review(
                added.review,
                dash_score=dash,
                risk_overridden=False,
                risk_level=None,
                risk_override_reason="",
                flags=[column for column, _ in rng.sample(RISK_FLAGS, rng.randint(0, 2))],
                agencies=sorted(involved, key=lambda a: a.name),
                summary=rng.choice(SUMMARIES),
                findings=FINDINGS[grade - 1],
                scrutiny_grade=grade,
                themes=rng.sample(themes, rng.randint(1, 2)),
                feedback_to_officer="Thank you for a thorough account."
                if grade == 1
                else "Please see the panel's observations.",
            )
            for code in {rng.choice(["IDVA", "HOU"]), rng.choice(partner_codes)}:
                _seed_action(rng, meeting, added.review, agencies[code], users, chair, today)
        if index < 10:
            meeting_operations.save_minutes_text(
                meeting, general_notes="Apologies noted. Terms of reference reviewed.", any_other_business="None."
            )
            _approve(meeting, chair)
    # This week's meeting is under way; next week's is scheduled, its agenda published, and the
    # IDVA service has returned its information on one of its cases (the others are still to come).
    meetings[10].status = MeetingStatus.IN_PROGRESS
    _seed_next_agenda(meetings[11], agencies, users, case_numbers)


def _seed_next_agenda(meeting, agencies: dict[str, Agency], users: dict[str, User], case_numbers: list[str]) -> None:
    for codes in (("POL", "IDVA"), ("POL", "HOU", "IDVA"), ("POL", "MASH")):
        meeting_operations.add_case_review(meeting, case_numbers.pop(), [agencies[code] for code in codes])
    # Demo data sends no e-mail: the request that would send it never happens (see notify/outbox.py).
    meeting_operations.publish_agenda(meeting, users["chair@example.org"], service_url="")
    first = min(meeting.reviews, key=lambda review: review.position)
    review_operations.save_agency_return(
        first,
        agency=agencies["IDVA"],
        by=users["idva@example.org"],
        no_information_held=False,
        contact_made=True,
        information="Known to the IDVA service since the spring. Safety plan reviewed last week; "
        "the victim has agreed to a referral to the specialist service.",
    )


def _approve(meeting, chair) -> None:
    """Approve the minutes as a chair does; the minutes_approved signal then renders and stores the
    approved PDF. The test configuration sets DEMO_STORES_APPROVED_MINUTES = False: ten PDFs per demo
    load cost more than the rest of the demo and no test of the demo needs them, so the signal is
    muted (for the whole process, while the demo approves) and the demo meetings have no stored PDF."""
    if current_app.config.get("DEMO_STORES_APPROVED_MINUTES", True):
        meeting_operations.approve_minutes(meeting, chair)
        return
    with signals.minutes_approved.muted():
        meeting_operations.approve_minutes(meeting, chair)


def _seed_action(rng, meeting, review, agency, users, chair, today) -> None:
    meeting_day = meeting.starts_at.astimezone(LONDON).date()
    owner = next(
        (u for u in users.values() if u.agency_id == agency.id and sees_own_agency_only(u) and may_own_actions(u)),
        None,
    )
    action = meeting_operations.raise_action(
        meeting,
        review=review,
        description=rng.choice(ACTION_TEXTS[agency.code]),
        agency=agency,
        owner=owner if rng.random() < 0.6 else None,
        due_date=max(meeting_day + timedelta(days=rng.choice([7, 14, 21, 28])), today - timedelta(days=40)),
        by=chair,
    )
    action.created_at = meeting.starts_at  # raised in the meeting, not when the demo was loaded
    age_days = (today - meeting_day).days
    roll = rng.random()
    author = owner or chair
    if age_days > 21 and roll < 0.6:
        _progress(
            action,
            author,
            "Contact made and support offered.",
            ActionStatus.IN_PROGRESS,
            meeting_day + timedelta(days=3),
        )
        _progress(
            action,
            author,
            "Completed: safety plan agreed and shared.",
            ActionStatus.COMPLETED,
            meeting_day + timedelta(days=10),
        )
        action.completion_note = "Completed: safety plan agreed and shared."
        action.closed_at = _at(meeting_day + timedelta(days=10))
    elif roll < 0.8 and age_days > 0:
        _progress(
            action,
            author,
            "Tried to make contact twice; will try again this week.",
            ActionStatus.IN_PROGRESS,
            meeting_day + timedelta(days=2),
        )
    elif roll < 0.85 and age_days > 7:
        old_due = action.due_date
        action.due_date = old_due + timedelta(days=14)
        db.session.add(
            ActionUpdate(
                action=action,
                author=chair,
                note="Waiting for the court date.",
                due_from=old_due,
                due_to=action.due_date,
                due_change_reason="Court hearing adjourned",
                at=_at(meeting_day + timedelta(days=5)),
            )
        )


def _progress(action, author, note, status, day) -> None:
    db.session.add(
        ActionUpdate(action=action, author=author, note=note, status_from=action.status, status_to=status, at=_at(day))
    )
    action.status = status


def _at(day):
    moment = datetime.combine(day, time(14, 0), tzinfo=LONDON)
    return min(moment, utcnow())


def seed_extension_requests(users: dict[str, User]) -> None:
    """Three extension requests on the demo's open actions: one agreed (the due date moved, the
    original kept), one declined (still due on its date) and one waiting for the chair."""
    from tracker.models import OPEN_STATUSES, Action, ExtensionRequest, ExtensionStatus

    chair, today = users["chair@example.org"], london_today()
    idva, housing = users["idva@example.org"], users["housing@example.org"]

    def open_actions(user: User) -> list[Action]:
        return list(
            db.session.scalars(
                select(Action)
                .where(Action.owning_agency_id == user.agency_id, Action.status.in_(OPEN_STATUSES))
                .order_by(Action.due_date.desc(), Action.id)
            )
        )

    def ask(action: Action, by: User, days: int, reason: str, asked) -> ExtensionRequest:
        request = ExtensionRequest(
            action=action,
            requested_by=by,
            requested_at=_at(asked),
            current_due_date=action.due_date,
            requested_due_date=action.due_date + timedelta(days=days),
            reason=reason,
            status=ExtensionStatus.PENDING,
        )
        db.session.add(request)
        db.session.add(ActionUpdate(action=action, author=by, note="Asked for more time.", at=_at(asked)))
        return request

    idva_actions, housing_actions = open_actions(idva), open_actions(housing)
    if idva_actions:  # the latest-due IDVA action: agreed, so it moves later
        action = idva_actions[0]
        asked = min(today, action.due_date) - timedelta(days=2)
        request = ask(action, idva, 21, "The victim is in hospital until the end of the month.", asked)
        request.status, request.decided_by, request.decided_at = ExtensionStatus.AGREED, chair, _at(asked)
        request.decision_note = "Agreed: contact when discharged."
        db.session.add(
            ActionUpdate(
                action=action,
                author=chair,
                note=request.decision_note,
                due_from=action.due_date,
                due_to=request.requested_due_date,
                due_change_reason=f"Extension agreed: {request.reason}",
                at=_at(asked),
            )
        )
        action.due_date = request.requested_due_date
    overdue_housing = [action for action in housing_actions if action.due_date < today]
    if overdue_housing:  # declined: still overdue on its date
        action = overdue_housing[0]
        asked = action.due_date - timedelta(days=1)
        request = ask(action, housing, 14, "Waiting for a panel decision on the transfer.", asked)
        request.status, request.decided_by, request.decided_at = ExtensionStatus.DECLINED, chair, _at(asked)
        request.decision_note = "Declined: the move is urgent; escalate to the housing manager."
        db.session.add(
            ActionUpdate(
                action=action,
                author=chair,
                note=f"Extension declined. {request.decision_note}",
                at=_at(asked + timedelta(days=1)),
            )
        )
    waiting = [action for action in housing_actions if action not in overdue_housing[:1]]
    if waiting:  # waiting for the chair: on the chair's home page
        ask(waiting[0], housing, 14, "The tenancy officer is on leave until next week.", today)


# Two years of history ----------------------------------------------------------------------------

HISTORY_WEEKS = 104
# How often each theme is recorded over the two years (start, end): training on the DASH lands, the
# children's voice becomes a focus, coercive control peaks in the middle.
THEME_TRENDS = {
    "Coercive control not identified": (0.15, 0.15),
    "DASH not completed at the scene": (0.45, 0.08),
    "Children's voice not recorded": (0.05, 0.4),
    "Positive action taken": (0.1, 0.35),
    "Referral to IDVA delayed": (0.3, 0.12),
    "Bail conditions not considered": (0.2, 0.2),
    "Good multi-agency information sharing": (0.08, 0.3),
}
# The chance an agency is represented at a meeting, and of apologies when it is not.
ATTENDANCE = {"POL": 1.0, "IDVA": 0.95, "HOU": 0.85, "KSC": 0.8, "SDAS": 0.85, "MASH": 0.75, "NHS": 0.65, "PROB": 0.55}


def _seed_history(agencies: dict[str, Agency], users: dict[str, User], themes: list[LearningTheme]) -> None:
    """Approved weekly meetings for the two years before the recent ones, built directly as rows
    (the operations would take minutes for this many)."""
    rng = random.Random(1989)
    chair = users["chair@example.org"]
    today = london_today()
    this_tuesday = today - timedelta(days=(today.weekday() - 1) % 7)
    first_recent = this_tuesday - timedelta(weeks=10)
    used = set(db.session.scalars(select(Case.reference)))
    theme_by_name = {theme.name: theme for theme in themes}
    partner_codes = [code for code in agencies if code != "POL"]
    recent_cases: list[tuple[object, Case]] = []  # (meeting day, case) for repeats within a year
    for week in range(HISTORY_WEEKS, 0, -1):
        day = first_recent - timedelta(weeks=week)
        progress = (HISTORY_WEEKS - week) / HISTORY_WEEKS  # 0 two years ago, 1 now
        starts_at = _meeting_time(day)
        meeting = Meeting(
            starts_at=starts_at,
            location="Committee Room 2, Civic Centre (or Teams)",
            chair=chair,
            status=MeetingStatus.APPROVED,
            invited_agencies=list(agencies.values()),
            statement_read_at=starts_at,
            statement_read_by=chair,
            general_notes="Apologies noted.",
            any_other_business="None.",
            approved_at=starts_at + timedelta(days=2),
            approved_by=chair,
            created_at=starts_at - timedelta(days=7),
        )
        db.session.add(meeting)
        for code, agency in agencies.items():
            if rng.random() < ATTENDANCE[code]:
                status = AttendanceStatus.PRESENT
            elif rng.random() < 0.6:
                status = AttendanceStatus.APOLOGIES
            else:
                continue  # absent: nobody came and no apologies were sent
            db.session.add(
                Attendance(
                    meeting=meeting,
                    agency=agency,
                    user=chair if code == "POL" else None,
                    person_name="" if code == "POL" else f"{code} representative",
                    status=status,
                    role=MeetingRole.CHAIR if code == "POL" else MeetingRole.MEMBER,
                )
            )
        recent_cases = [(seen, case) for seen, case in recent_cases if (day - seen).days <= 365]
        for position in range(1, rng.randint(3, 5) + 1):
            repeat = bool(recent_cases) and rng.random() < 0.25
            if repeat:
                case = rng.choice(recent_cases)[1]
                if any(review.case is case for review in meeting.reviews):
                    continue
            else:
                reference = f"DA/{day.year}/{rng.randint(10000, 99999):05d}"
                while reference in used:
                    reference = f"DA/{day.year}/{rng.randint(10000, 99999):05d}"
                used.add(reference)
                case = Case(reference=reference, created_at=starts_at)
            recent_cases.append((day, case))
            # Grades improve over the two years: fewer 3s and 4s.
            grade = rng.choices([1, 2, 3, 4], weights=[3 + 3 * progress, 4, 3 - 2 * progress, 1])[0]
            dash = rng.randint(3, 22)
            chosen = [
                theme_by_name[name]
                for name, (start, end) in THEME_TRENDS.items()
                if rng.random() < start + (end - start) * progress
            ]
            involved = {agencies["POL"], agencies[rng.choice(["IDVA", "HOU"])], agencies[rng.choice(partner_codes)]}
            flags = {column: rng.random() < 0.2 for column, _ in RISK_FLAGS}
            review = CaseReview(
                meeting=meeting,
                case=case,
                position=position,
                dash_score=dash,
                risk_level=RiskLevel.from_dash_score(dash),
                is_repeat=repeat,
                summary=rng.choice(SUMMARIES),
                findings=FINDINGS[grade - 1],
                scrutiny_grade=grade,
                feedback_to_officer="Please see the panel's observations.",
                agencies=sorted(involved, key=lambda a: a.name),
                themes=sorted(chosen, key=lambda t: t.name),
                created_at=starts_at,
                **flags,
            )
            db.session.add(review)
            for code in {rng.choice(["IDVA", "HOU"]), rng.choice(partner_codes)}:
                _history_action(rng, meeting, review, agencies[code], chair, today)


def _history_action(rng, meeting, review, agency, chair, today) -> None:
    """An action from the history: most completed (about a third late), a few extended or declined
    an extension, a few cancelled, and a handful still open and long overdue."""
    day = meeting.starts_at.astimezone(LONDON).date()
    due = day + timedelta(days=rng.choice([14, 21, 28]))
    action = Action(
        meeting=meeting,
        case_review=review,
        description=rng.choice(ACTION_TEXTS[agency.code]),
        owning_agency=agency,
        due_date=due,
        original_due_date=due,
        created_by=chair,
        created_at=meeting.starts_at,
    )
    db.session.add(action)
    if rng.random() < 0.12:
        asked = due + timedelta(days=rng.choice([14, 21, 28]))
        agreed = rng.random() < 0.7
        decided = _at(due - timedelta(days=2))
        db.session.add(
            ExtensionRequest(
                action=action,
                requested_at=_at(due - timedelta(days=5)),
                current_due_date=due,
                requested_due_date=asked,
                reason="Waiting for a case conference date.",
                status=ExtensionStatus.AGREED if agreed else ExtensionStatus.DECLINED,
                decided_by=chair,
                decided_at=decided,
                decision_note="Agreed: the conference is booked." if agreed else "Declined: please complete as agreed.",
            )
        )
        if agreed:
            db.session.add(
                ActionUpdate(
                    action=action,
                    author=chair,
                    note="Extension agreed.",
                    due_from=due,
                    due_to=asked,
                    due_change_reason="Extension agreed: waiting for a case conference date",
                    at=decided,
                )
            )
            action.due_date = asked
    roll = rng.random()
    if roll < 0.04:
        action.status = ActionStatus.CANCELLED
        action.cancellation_reason = "No longer needed: the family moved out of the area."
        action.closed_at = _at(day + timedelta(days=10))
    elif roll < 0.97:
        # Completed: most before the due date, about a third after it.
        finished = min(action.due_date + timedelta(days=rng.randint(-12, 9)), today - timedelta(days=1))
        finished = max(finished, day + timedelta(days=1))
        action.status = ActionStatus.COMPLETED
        action.completion_note = "Completed and recorded."
        action.closed_at = _at(finished)
        db.session.add(
            ActionUpdate(
                action=action,
                author=chair,
                note="Completed and recorded.",
                status_from=ActionStatus.OPEN,
                status_to=ActionStatus.COMPLETED,
                at=action.closed_at,
            )
        )
    else:
        action.status = ActionStatus.IN_PROGRESS
        db.session.add(
            ActionUpdate(
                action=action,
                author=chair,
                note="Chased twice; waiting for the agency's reply.",
                status_from=ActionStatus.OPEN,
                status_to=ActionStatus.IN_PROGRESS,
                at=_at(day + timedelta(days=7)),
            )
        )


def _meeting_time(day):
    return datetime.combine(day, time(10, 0), tzinfo=LONDON)

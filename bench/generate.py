"""Generate a realistic, seeded data set of N years of weekly scrutiny meetings, for the page benchmarks.

What it makes, at --scale 1 (reviews, actions and audit events are multiplied by --scale):
- 15 agencies (police PVP unit POL, IDVA, HOU, children's services, health, probation, ...), ~300 users:
  3 admins, 5 chairs, 10 managers, the rest partner officers with one SPOC per agency; the demo
  accounts of tracker/demo.py (chair@example.org, ...) plus police.partner@example.org, a partner
  officer of the police agency. Every account's password is tracker.demo.DEMO_PASSWORD.
- one meeting a week over N years, ending next week: next week's scheduled (agenda published, not held),
  this week's in progress, the rest approved, about 1 % cancelled;
- ~20 case reviews a meeting (~30 % repeats of a case reviewed in the previous 12 months, flagged as
  is_repeat), each with DASH score, risk level, flags, grade 1-4, findings, summary, some feedback to the
  officer, 2-4 agencies involved (police always), learning themes, and agency returns from the partners;
- attendance for every invited agency (mostly present, some apologies or absent);
- ~3 actions a review (owning agency among the involved ones, due 1-6 weeks after the meeting): old ones
  mostly completed (some late) or cancelled, ~10 % of all actions overdue and still open, recent ones
  open or in progress; 1-3 action updates each;
- audit events at about one per page view: --audit-per-week (default 5,000 x scale, ~2.6 million
  over ten years), written in large executemany batches.

The schema is made by the real migrations (flask_migrate.upgrade()); on PostgreSQL the public schema is
dropped and recreated first. Rows go in with SQLAlchemy Core insert() and lists of dicts (executemany),
never through the app's operations. A small table bench_generated records the parameters, so
bench/pages.py can tell whether a database already holds what it wants.

Usage:
    .venv/bin/python bench/generate.py --years 10 --scale 1
    .venv/bin/python bench/generate.py --years 10 --scale 1 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_tracker

It prints the rows made per table and the seconds each step took.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask_migrate import upgrade

from tracker import create_app
from tracker.auth.passwords import hash_password
from tracker.demo import DEMO_AGENCIES, DEMO_PASSWORD, DEMO_THEMES, DEMO_TOTP_SECRET, DEMO_USERS
from tracker.extensions import db
from tracker.models import (
    Action,
    ActionStatus,
    ActionUpdate,
    Agency,
    AgencyReturn,
    Attendance,
    AttendanceStatus,
    AuditEvent,
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
from tracker.models.case import case_review_agencies, case_review_themes
from tracker.models.extension import ExtensionStatus
from tracker.models.meeting import meeting_invited_agencies
from tracker.timeutil import LONDON, london_today, utcnow

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "tracker-bench"
POLICE_PARTNER_EMAIL = "police.partner@example.org"
BATCH = 20_000
AUDIT_BATCH = 50_000

EXTRA_AGENCIES = [
    ("Children's social care", "CSC"),
    ("Adult social care", "ASC"),
    ("Mental health trust", "MHT"),
    ("Drug and alcohol recovery service", "DARS"),
    ("Education safeguarding team", "EDU"),
    ("Fire and rescue service – home safety", "FIRE"),
    ("Women's refuge charity", "REF"),
]
EXTRA_THEMES = ["Stalking not recognised", "Language interpreter not used", "Victim's wishes not recorded"]
# How likely each partner agency is to be involved in a case, beside the police (always involved).
INVOLVEMENT_WEIGHTS = {"IDVA": 10, "HOU": 6, "MASH": 6, "KSC": 5, "SDAS": 5, "CSC": 4, "NHS": 3, "PROB": 3}

# Generated accounts are named by agency, role and number ("IDVA officer 12"): the data names nobody.
ROLE_WORDS = {Role.ADMIN: "administrator", Role.CHAIR: "chair", Role.MANAGER: "manager", Role.PARTNER: "officer"}
SUMMARIES = [
    "Report of a verbal argument escalating to assault; suspect left before officers arrived.",
    "Third-party call from a neighbour about shouting; victim initially declined to engage.",
    "Breach of a non-molestation order reported by the victim by phone.",
    "Repeat call about harassment by an ex-partner through social media and messages.",
    "Assault reported at hospital by safeguarding staff; injuries consistent with the account.",
    "Child called 999 during an incident at the family home; both parents present on arrival.",
    "Victim reported controlling behaviour over money and the car; no physical assault disclosed.",
    "Criminal damage to the victim's front door overnight; suspect identified on a doorbell camera.",
]
FINDINGS = {
    1: "Attendance within target time. Body-worn video used. DASH completed and referral made the same day. "
    "Positive action taken and the victim's wishes recorded.",
    2: "Good initial response, but the DASH was completed the next day and the children were not spoken to. "
    "Safeguarding referral made; supervision note added.",
    3: "Arrest not considered despite grounds; no record of why positive action was not taken. "
    "The DASH was not completed and no referral was made to the IDVA service.",
    4: "Not enough information to reach a conclusion; the officer's statement is outstanding. "
    "Re-score at the next meeting.",
}
FEEDBACK = [
    "Thank you for a thorough account and a timely referral.",
    "Please see the panel's observations on completing the DASH at the scene.",
    "Consider positive action where there are grounds, and record the rationale either way.",
    "Please ensure the children's voice is recorded in the account.",
]
ACTION_TEXTS = {
    "POL": ["Feed back the panel's observations to the attending officer", "Review bail conditions with the OIC"],
    "KSC": ["Consider a referral to the perpetrator programme", "Add the address to the community safety watch list"],
    "SDAS": ["Offer outreach support and a safety plan", "Invite the victim to the recovery group"],
    "IDVA": ["Make contact within 48 hours and complete a safety plan", "Update the risk assessment after court"],
    "MASH": ["Complete a strategy discussion for the children", "Share the outcome with the school's DSL"],
    "NHS": ["Flag the record for routine enquiry at the next appointment", "Share the concern with the GP practice"],
    "HOU": ["Assess for a management move on safety grounds", "Fit additional security (sanctuary scheme)"],
    "PROB": ["Check licence conditions and report any breach", "Share the risk information with the OM"],
}
GENERIC_ACTIONS = ["Check our records and share anything relevant", "Confirm whether the family is known to us"]
NOTES = [
    "Tried to make contact twice; will try again this week.",
    "Contact made and support offered.",
    "Referral received and allocated to a worker.",
    "Waiting for the outcome of the strategy meeting.",
]
RETURN_TEXTS = [
    "Known to the service since last year; engaged with outreach and a safety plan is in place.",
    "Open case; allocated worker in contact weekly. No new concerns since the last review.",
    "One previous referral, closed after no contact could be made.",
]
AUDIT_MIX = [  # (action, object type, weight): roughly one event per page view
    ("meeting_viewed", "meetings", 24),
    ("case_review_viewed", "case_reviews", 24),
    ("action_viewed", "actions", 16),
    ("case_viewed", "cases", 8),
    ("case_search", None, 5),
    ("sign_in", "users", 8),
    ("sign_out", "users", 3),
    ("action_updated", "actions", 6),
    ("case_review_updated", "case_reviews", 2),
    ("actions_exported", None, 1),
    ("minutes_pdf_downloaded", "meetings", 1.5),
    ("action_summary_downloaded", None, 0.5),
    ("sign_in_failed", "users", 0.6),
    ("calendar_feed_read", "users", 0.4),
]

bench_metadata = sa.MetaData()
bench_generated = sa.Table(
    "bench_generated",
    bench_metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def default_database_url(years: float, scale: float, seed: int) -> str:
    DEFAULT_SQLITE.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE / f'years{years:g}-scale{scale:g}-seed{seed}.sqlite'}"


def make_app(database_url: str):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})


def prepare_schema(app, database_url: str) -> None:
    """A fresh schema built by the real migrations."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            path = Path(url.database)
            path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    with app.app_context():
        upgrade()


@dataclass
class World:
    """Everything generated, as lists of row dicts per table, plus what the audit events refer to."""

    rng: random.Random
    today: date
    now: datetime
    rows: dict[str, list[dict]] = field(default_factory=dict)
    agencies: dict[str, int] = field(default_factory=dict)  # code -> id
    partners_by_agency: dict[int, list[int]] = field(default_factory=dict)
    users_by_role: dict[Role, list[int]] = field(default_factory=dict)
    active_user_ids: list[int] = field(default_factory=list)
    # per meeting: (starts_at, first review id, last review id, first action id, last action id, case ids)
    meeting_spans: list[tuple] = field(default_factory=list)

    def add(self, table: sa.Table, row: dict) -> None:
        self.rows.setdefault(table.name, []).append(row)

    def count(self, table: sa.Table) -> int:
        return len(self.rows.get(table.name, ()))

    def next_id(self, table: sa.Table) -> int:
        return self.count(table) + 1


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time on ``day``, as aware UTC."""
    return datetime.combine(day, clock(hour, minute), tzinfo=LONDON).astimezone(UTC)


def build_people(world: World, password_hash: str, total_users: int) -> None:
    rng, created = world.rng, world.now - timedelta(days=3650)
    agency_table = Agency.__table__
    for name, code in [*DEMO_AGENCIES, *EXTRA_AGENCIES]:
        world.agencies[code] = world.next_id(agency_table)
        world.add(
            agency_table,
            {"id": world.agencies[code], "name": name, "code": code, "active": True, "created_at": created},
        )
    user_table = User.__table__
    emails: set[str] = set()

    def add_user(email, name, role, code, spoc=False, active=True):
        user_id = world.next_id(user_table)
        emails.add(email)
        world.add(
            user_table,
            {
                "id": user_id,
                "email": email,
                "display_name": name,
                "role": role,
                "agency_id": world.agencies[code],
                "is_spoc": spoc,
                "active": active,
                "password_hash": password_hash,
                "must_change_password": False,
                "calendar_token": None,
                "created_at": created,
                "updated_at": created,
            },
        )
        if active:
            world.users_by_role.setdefault(role, []).append(user_id)
            world.active_user_ids.append(user_id)
            if role == Role.PARTNER:
                world.partners_by_agency.setdefault(world.agencies[code], []).append(user_id)
        return user_id

    signing_in = [add_user(email, name, role, code, spoc) for email, name, role, code, spoc in DEMO_USERS]
    signing_in.append(add_user(POLICE_PARTNER_EMAIL, "Police Partner Officer", Role.PARTNER, "POL"))
    # The accounts bench/pages.py signs in as pass the second step with the demo key, as in the demo.
    for user_id in signing_in:
        world.add(SecondFactor.__table__, {"user_id": user_id, "secret": DEMO_TOTP_SECRET, "updated_at": created})

    numbered: dict[tuple[str, Role], int] = {}

    def person(code: str, role: Role) -> tuple[str, str]:
        word = ROLE_WORDS[role]
        while True:
            numbered[code, role] = number = numbered.get((code, role), 0) + 1
            email = f"{word}{number}@{code.lower()}.example.org"
            if email not in emails:
                return email, f"{code} {word} {number}"

    for role, wanted, codes in ((Role.ADMIN, 3, ["POL"]), (Role.CHAIR, 5, ["POL"]), (Role.MANAGER, 10, ["POL", "KSC"])):
        for n in range(wanted - len(world.users_by_role.get(role, []))):
            add_user(*person(codes[n % len(codes)], role), role, codes[n % len(codes)])
    codes = list(world.agencies)
    weights = [8 if code == "POL" else 2 if code in INVOLVEMENT_WEIGHTS else 1 for code in codes]
    for code in codes:  # one SPOC in every agency that has none yet
        if not any(row["is_spoc"] for row in world.rows["users"] if row["agency_id"] == world.agencies[code]):
            add_user(*person(code, Role.PARTNER), Role.PARTNER, code, spoc=True)
    while world.count(user_table) < total_users:
        code = rng.choices(codes, weights)[0]
        add_user(*person(code, Role.PARTNER), Role.PARTNER, code, active=rng.random() > 0.05)

    theme_table = LearningTheme.__table__
    for index, name in enumerate([*DEMO_THEMES, *EXTRA_THEMES]):
        world.add(theme_table, {"id": index + 1, "name": name, "active": index != len(DEMO_THEMES) + 2})


def _involved(world: World) -> list[int]:
    rng = world.rng
    others = [code for code in world.agencies if code != "POL"]
    weights = [INVOLVEMENT_WEIGHTS.get(code, 1) for code in others]
    wanted = rng.choices([1, 2, 3], [0.3, 0.45, 0.25])[0]
    chosen: set[str] = set()
    while len(chosen) < wanted:
        chosen.add(rng.choices(others, weights)[0])
    return [world.agencies["POL"], *(world.agencies[code] for code in sorted(chosen))]


def build_meetings(world: World, years: float, scale: float) -> None:
    rng, today, now = world.rng, world.today, world.now
    weeks = max(2, round(years * 52))
    this_tuesday = today - timedelta(days=(today.weekday() - 1) % 7)
    first_day = this_tuesday + timedelta(weeks=1) - timedelta(weeks=weeks - 1)
    chairs = world.users_by_role[Role.CHAIR]
    demo_chair = chairs[0]
    agency_ids = list(world.agencies.values())
    code_of = {agency_id: code for code, agency_id in world.agencies.items()}
    theme_ids = [row["id"] for row in world.rows["learning_themes"]]
    next_reference: dict[int, int] = {}
    last_review_of_case: dict[int, date] = {}  # case id -> day of its latest review
    recent: deque[tuple[date, int]] = deque()  # (day, case id) of the last 52 weeks' reviews
    meeting_t, review_t, action_t = Meeting.__table__, CaseReview.__table__, Action.__table__
    attendance_t, return_t = Attendance.__table__, AgencyReturn.__table__

    for index in range(weeks):
        day = first_day + timedelta(weeks=index)
        starts_at = _at(day, 10)
        if index == weeks - 1:
            status = MeetingStatus.SCHEDULED
        elif index == weeks - 2:
            status = MeetingStatus.IN_PROGRESS
        elif index < weeks - 6 and rng.random() < 0.01:
            status = MeetingStatus.CANCELLED
        else:
            status = MeetingStatus.APPROVED
        approved = status == MeetingStatus.APPROVED
        held = status in (MeetingStatus.APPROVED, MeetingStatus.IN_PROGRESS)
        chair_id = demo_chair if rng.random() < 0.4 else rng.choice(chairs)
        meeting_id = world.next_id(meeting_t)
        revision = 2 if approved and rng.random() < 0.03 else 1
        world.add(
            meeting_t,
            {
                "id": meeting_id,
                "starts_at": starts_at,
                "location": "Committee Room 2, Civic Centre (or Teams)",
                "chair_id": chair_id,
                "status": status,
                "cancellation_reason": "Clash with a critical incident debrief"
                if status == MeetingStatus.CANCELLED
                else None,
                "statement_read_at": starts_at + timedelta(minutes=2) if held else None,
                "statement_read_by_id": chair_id if held else None,
                "agenda_published_at": starts_at - timedelta(days=5) if status != MeetingStatus.CANCELLED else None,
                "agenda_published_by_id": chair_id if status != MeetingStatus.CANCELLED else None,
                "general_notes": "Apologies noted. Terms of reference reviewed." if held else "",
                "any_other_business": "None." if approved else "",
                "minutes_revision": revision,
                "approved_at": starts_at + timedelta(days=2) if approved else None,
                "approved_by_id": chair_id if approved else None,
                "created_at": starts_at - timedelta(weeks=4),
                "updated_at": starts_at + timedelta(days=2) if approved else starts_at - timedelta(days=5),
            },
        )
        for agency_id in agency_ids:
            world.add(meeting_invited_agencies, {"meeting_id": meeting_id, "agency_id": agency_id})
        if held:
            for agency_id in agency_ids:
                partners = world.partners_by_agency.get(agency_id, [])
                if agency_id == world.agencies["POL"]:
                    user_id, name, role, state = chair_id, "", MeetingRole.CHAIR, AttendanceStatus.PRESENT
                else:
                    role = MeetingRole.MEMBER
                    state = rng.choices(list(AttendanceStatus), [0.85, 0.10, 0.05])[0]
                    user_id = rng.choice(partners) if partners and rng.random() < 0.5 else None
                    name = "" if user_id else f"{code_of[agency_id]} representative"
                world.add(
                    attendance_t,
                    {
                        "id": world.next_id(attendance_t),
                        "meeting_id": meeting_id,
                        "agency_id": agency_id,
                        "user_id": user_id,
                        "person_name": name,
                        "status": state,
                        "deputy_for": "Team manager" if rng.random() < 0.05 else "",
                        "role": role,
                    },
                )
        first_review, first_action = world.next_id(review_t), world.next_id(action_t)
        case_ids: list[int] = []
        while recent and (day - recent[0][0]).days > 364:
            recent.popleft()
        if status != MeetingStatus.CANCELLED:
            reviews = max(1, round(rng.gauss(20 * scale, 2 * scale)))
            for position in range(1, reviews + 1):
                case_id, is_repeat = _pick_case(world, day, recent, last_review_of_case, case_ids, next_reference)
                case_ids.append(case_id)
                last_review_of_case[case_id] = day
                recent.append((day, case_id))
                review_id = _add_review(world, meeting_id, case_id, position, reviews, status, starts_at, is_repeat)
                involved = _involved(world)
                for agency_id in involved:
                    world.add(case_review_agencies, {"case_review_id": review_id, "agency_id": agency_id})
                for theme_id in rng.sample(theme_ids, rng.choices([0, 1, 2, 3], [0.1, 0.45, 0.35, 0.1])[0]):
                    world.add(case_review_themes, {"case_review_id": review_id, "theme_id": theme_id})
                for agency_id in involved[1:]:
                    if rng.random() < (0.5 if status == MeetingStatus.SCHEDULED else 0.85):
                        partners = world.partners_by_agency.get(agency_id) or [None]
                        nothing = rng.random() < 0.2
                        world.add(
                            return_t,
                            {
                                "id": world.next_id(return_t),
                                "case_review_id": review_id,
                                "agency_id": agency_id,
                                "no_information_held": nothing,
                                "contact_made": not nothing and rng.random() < 0.6,
                                "information": "" if nothing else rng.choice(RETURN_TEXTS),
                                "submitted_by_id": rng.choice(partners),
                                "submitted_at": min(starts_at - timedelta(days=2), now),
                                "updated_at": min(starts_at - timedelta(days=2), now),
                            },
                        )
                complete = status == MeetingStatus.APPROVED or (held and position <= reviews // 2 + 1)
                if complete:
                    count = rng.choices([1, 2, 3, 4, 5], [0.1, 0.25, 0.3, 0.2, 0.15])[0]
                    for _ in range(count):
                        _add_action(world, meeting_id, review_id, rng.choice(involved), day, starts_at, chair_id)
            if held and rng.random() < 0.25:
                _add_action(world, meeting_id, None, rng.choice(agency_ids), day, starts_at, chair_id)
        world.meeting_spans.append(
            (
                starts_at,
                meeting_id,
                first_review,
                world.count(review_t),
                first_action,
                world.count(action_t),
                case_ids,
            )
        )


def _pick_case(world, day, recent, last_review_of_case, taken, next_reference) -> tuple[int, bool]:
    """A repeat of a case reviewed in the last 12 months (~30 %), an old case back after longer (~2 %),
    or a new case."""
    rng, case_t = world.rng, Case.__table__
    roll = rng.random()
    if roll < 0.30 and recent:
        for _ in range(5):
            _, case_id = rng.choice(recent)
            if case_id not in taken and (day - last_review_of_case[case_id]).days <= 364:
                return case_id, True
    if roll > 0.98 and world.count(case_t) > 50:
        case_id = rng.randint(1, world.count(case_t))
        if case_id not in taken and (day - last_review_of_case[case_id]).days > 366:
            return case_id, False
    year = day.year
    next_reference[year] = next_reference.get(year, rng.randint(10000, 20000)) + rng.randint(1, 40)
    case_id = world.next_id(case_t)
    world.add(
        case_t,
        {
            "id": case_id,
            "reference": f"DA/{year}/{next_reference[year]:05d}",
            "created_at": _at(day, 9) - timedelta(days=6),
        },
    )
    return case_id, False


def _add_review(world, meeting_id, case_id, position, reviews, status, starts_at, is_repeat) -> int:
    rng, table = world.rng, CaseReview.__table__
    review_id = world.next_id(table)
    dash = max(0, min(24, round(rng.gauss(12, 5))))
    overridden = rng.random() < 0.03
    grade = rng.choices([1, 2, 3, 4], [0.45, 0.30, 0.18, 0.07])[0]
    # Next week's agenda is not recorded yet; this week's is half done; the rest are complete.
    recorded = status == MeetingStatus.APPROVED or (
        status == MeetingStatus.IN_PROGRESS and position <= reviews // 2 + 1
    )
    world.add(
        table,
        {
            "id": review_id,
            "meeting_id": meeting_id,
            "case_id": case_id,
            "position": position,
            "dash_score": dash,
            "risk_level": RiskLevel.HIGH if overridden else RiskLevel.from_dash_score(dash),
            "risk_overridden": overridden,
            "risk_override_reason": "Professional judgement: escalating frequency and severity" if overridden else "",
            "children_in_household": rng.random() < 0.45,
            "non_fatal_strangulation": rng.random() < 0.15,
            "stalking": rng.random() < 0.2,
            "threats_to_kill": rng.random() < 0.12,
            "honour_based_abuse": rng.random() < 0.03,
            "is_repeat": is_repeat,
            "summary": rng.choice(SUMMARIES),
            "findings": FINDINGS[grade] if recorded else "",
            "scrutiny_grade": grade if recorded else None,
            "feedback_to_officer": rng.choice(FEEDBACK) if recorded and rng.random() < 0.4 else "",
            "created_at": starts_at - timedelta(days=6),
            "updated_at": starts_at + timedelta(hours=2) if recorded else starts_at - timedelta(days=6),
        },
    )
    return review_id


def _add_action(world, meeting_id, review_id, agency_id, day, starts_at, chair_id) -> None:
    rng, today, now = world.rng, world.today, world.now
    table, update_table = Action.__table__, ActionUpdate.__table__
    action_id = world.next_id(table)
    code = next(code for code, value in world.agencies.items() if value == agency_id)
    partners = world.partners_by_agency.get(agency_id, [])
    owner = rng.choice(partners) if partners and rng.random() < 0.6 else None
    author = owner or (rng.choice(partners) if partners else chair_id)
    created = starts_at + timedelta(hours=1)
    due = original_due = day + timedelta(weeks=rng.randint(1, 6))
    updates: list[dict] = []

    def update(at, note="", status_from=None, status_to=None, **extra):
        updates.append(
            {
                "action_id": action_id,
                "author_id": author,
                "at": min(at, now),
                "note": note,
                "status_from": status_from,
                "status_to": status_to,
                "due_from": extra.get("due_from"),
                "due_to": extra.get("due_to"),
                "due_change_reason": extra.get("reason", ""),
            }
        )

    if rng.random() < 0.06 and due - timedelta(days=5) > day:
        # An extension request: about two in three agreed (the due date moves), the rest declined.
        asked = due + timedelta(days=rng.choice([14, 21, 28]))
        agreed = rng.random() < 0.67
        decided = min(_at(due - timedelta(days=2), 11), now)
        world.add(
            ExtensionRequest.__table__,
            {
                "id": world.next_id(ExtensionRequest.__table__),
                "action_id": action_id,
                "requested_by_id": author,
                "requested_at": min(_at(due - timedelta(days=5), 10), now),
                "current_due_date": due,
                "requested_due_date": asked,
                "reason": "Waiting for the court date.",
                "status": ExtensionStatus.AGREED if agreed else ExtensionStatus.DECLINED,
                "decided_by_id": chair_id,
                "decided_at": decided,
                "decision_note": "Agreed." if agreed else "Declined: please complete as agreed.",
            },
        )
        if agreed:
            update(decided, "Extension agreed.", due_from=due, due_to=asked, reason="Court hearing adjourned")
            due = asked
    closed_at, note, reason = None, "", ""
    started = created + timedelta(days=rng.randint(1, 4))
    if due >= today:  # not yet due
        status = rng.choices([ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED], [0.5, 0.4, 0.1])[0]
    elif rng.random() < 0.10:  # overdue and still open
        status = rng.choices([ActionStatus.OPEN, ActionStatus.IN_PROGRESS], [0.4, 0.6])[0]
    elif rng.random() < 0.06:
        status, reason = ActionStatus.CANCELLED, "No longer needed: the family moved out of the area"
    else:
        status = ActionStatus.COMPLETED
    if status == ActionStatus.COMPLETED:
        if due >= today or rng.random() < 0.8:  # on time
            span = max(1, (min(due, today) - day).days)
            closed_at = min(_at(day + timedelta(days=rng.randint(1, span)), 15), now)
        else:  # late
            closed_at = min(_at(due + timedelta(days=rng.randint(1, 30)), 15), now)
        closed_at = max(closed_at, created + timedelta(hours=1))
        note = "Completed: safety plan agreed and shared."
    elif status == ActionStatus.CANCELLED:
        closed_at = min(max(_at(due, 12), created + timedelta(hours=1)), now)
    if status != ActionStatus.OPEN:
        first_step = min(started, closed_at - timedelta(minutes=30)) if closed_at else started
        update(first_step, rng.choice(NOTES), ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
        if rng.random() < 0.5:
            update(first_step + timedelta(minutes=10), rng.choice(NOTES))
        if status == ActionStatus.COMPLETED:
            update(closed_at, note, ActionStatus.IN_PROGRESS, ActionStatus.COMPLETED)
        elif status == ActionStatus.CANCELLED:
            update(closed_at, reason, ActionStatus.IN_PROGRESS, ActionStatus.CANCELLED)
    else:
        update(started, rng.choice(NOTES))
    last = max(u["at"] for u in updates)
    world.add(
        table,
        {
            "id": action_id,
            "meeting_id": meeting_id,
            "case_review_id": review_id,
            "description": rng.choice(ACTION_TEXTS.get(code, GENERIC_ACTIONS)),
            "owning_agency_id": agency_id,
            "owner_id": owner,
            "due_date": due,
            "original_due_date": original_due,
            "status": status,
            "completion_note": note,
            "cancellation_reason": reason,
            "created_by_id": chair_id,
            "created_at": created,
            "updated_at": max(last, created),
            "closed_at": closed_at,
            "version": 1 + sum(1 for u in updates if u["status_to"] is not None or u["due_to"] is not None),
        },
    )
    for row in sorted(updates, key=lambda u: u["at"]):
        row["id"] = world.next_id(update_table)
        world.add(update_table, row)


def insert_all(connection, world: World, echo) -> dict[str, int]:
    """Parents first, in batches of lists of dicts (one executemany each)."""
    counts = {}
    order = [
        Agency.__table__,
        User.__table__,
        SecondFactor.__table__,
        LearningTheme.__table__,
        Case.__table__,
        Meeting.__table__,
        meeting_invited_agencies,
        Attendance.__table__,
        CaseReview.__table__,
        case_review_agencies,
        case_review_themes,
        AgencyReturn.__table__,
        Action.__table__,
        ActionUpdate.__table__,
        ExtensionRequest.__table__,
    ]
    for table in order:
        rows = world.rows.get(table.name, [])
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            connection.execute(table.insert(), rows[start : start + BATCH])
        counts[table.name] = len(rows)
        echo(f"  {table.name:26} {len(rows):>10,} rows  {time.perf_counter() - started:6.1f} s")
    return counts


def audit_events(world: World, per_week: int, users: list[int]):
    """Batches of audit event rows, in time order (ids follow time, as in life)."""
    rng, now = world.rng, world.now
    actions, types, weights = zip(*AUDIT_MIX, strict=True)
    cumulative = list(_accumulate(weights))
    chair_like = set(world.users_by_role[Role.CHAIR]) | set(world.users_by_role[Role.MANAGER])
    user_weights = list(_accumulate([20 if user in chair_like else 1 for user in users]))
    spans = world.meeting_spans
    ips = {user: f"10.{rng.randint(0, 40)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for user in users}
    batch: list[dict] = []
    next_id = 1
    for index, (starts_at, meeting_id, r_first, r_last, _a_first, a_last, case_ids) in enumerate(spans):
        week_start = starts_at - timedelta(days=1, hours=10)
        if week_start > now:
            break
        seconds = min(timedelta(weeks=1), now - week_start).total_seconds()
        busy_seconds = min(8 * 3600, max(0.0, (now - starts_at).total_seconds()))
        # Actions raised in the last few meetings are the ones being viewed and updated.
        a_low = spans[max(0, index - 8)][4]
        kinds = rng.choices(range(len(actions)), cum_weights=cumulative, k=per_week)
        who = rng.choices(users, cum_weights=user_weights, k=per_week)
        events = []
        for kind, user_id in zip(kinds, who, strict=True):
            object_type = types[kind]
            if busy_seconds and rng.random() < 0.4:  # meeting day is busy
                at = starts_at + timedelta(seconds=rng.random() * busy_seconds)
            else:
                at = week_start + timedelta(seconds=rng.random() * seconds)
            object_id = None
            if object_type == "meetings":
                object_id = meeting_id if rng.random() < 0.7 else spans[max(0, index - rng.randint(1, 5))][1]
            elif object_type == "case_reviews" and r_last >= r_first:
                object_id = rng.randint(r_first, r_last)
            elif object_type == "actions" and a_last >= a_low:
                object_id = rng.randint(a_low, a_last)
            elif object_type == "cases" and case_ids:
                object_id = rng.choice(case_ids)
            elif object_type == "users":
                object_id = user_id
            events.append(
                {
                    "at": at,
                    "user_id": user_id,
                    "ip_address": ips[user_id],
                    "action": actions[kind],
                    "object_type": object_type if object_id is not None else None,
                    "object_id": str(object_id) if object_id is not None else None,
                    "detail": "",
                }
            )
        events.sort(key=lambda event: event["at"])
        for event in events:
            event["id"] = next_id
            next_id += 1
        batch.extend(events)
        if len(batch) >= AUDIT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def reset_sequences(connection) -> None:
    """PostgreSQL: ids were given explicitly, so move each serial sequence past them."""
    rows = connection.execute(
        sa.text(
            "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')"
        )
    ).all()
    for table, column, sequence in rows:
        connection.execute(
            # Identifiers from information_schema, not from input.
            sa.text(f'SELECT setval(:sequence, COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'),  # noqa: S608
            {"sequence": sequence},
        )


def generate(
    database_url: str,
    years: float,
    scale: float,
    seed: int = 2026,
    audit_per_week: int | None = None,
    users: int = 300,
    echo=print,
) -> dict:
    """Build the schema and fill it. Returns the row counts and timings."""
    started = time.perf_counter()
    audit_per_week = round(5000 * scale) if audit_per_week is None else audit_per_week
    app = make_app(database_url)
    backend = sa.engine.make_url(database_url).get_backend_name()
    echo(f"Generating {years:g} years at scale {scale:g} (seed {seed}) into {_safe(database_url)}")
    prepare_schema(app, database_url)
    timings = {"migrations": time.perf_counter() - started}
    with app.app_context():
        step = time.perf_counter()
        password_hash = hash_password(DEMO_PASSWORD)  # one hash, reused by every account
        world = World(rng=random.Random(seed), today=london_today(), now=utcnow())
        build_people(world, password_hash, users)
        build_meetings(world, years, scale)
        timings["build rows in memory"] = time.perf_counter() - step
        engine = db.engine
        with engine.begin() as connection:
            if backend == "sqlite":
                connection.exec_driver_sql("PRAGMA synchronous=OFF")
            step = time.perf_counter()
            echo("Inserting:")
            counts = insert_all(connection, world, echo)
            timings["insert"] = time.perf_counter() - step
            step = time.perf_counter()
            audit_rows = 0
            # PostgreSQL: one INSERT of many VALUES per 5,000 rows rather than SQLAlchemy's default 1,000.
            insert = AuditEvent.__table__.insert().execution_options(insertmanyvalues_page_size=5000)
            for batch in audit_events(world, audit_per_week, world.active_user_ids):
                connection.execute(insert, batch)
                audit_rows += len(batch)
            counts["audit_events"] = audit_rows
            timings["audit events"] = time.perf_counter() - step
            rate = audit_rows / max(timings["audit events"], 1e-9)
            echo(f"  {'audit_events':26} {audit_rows:>10,} rows  {timings['audit events']:6.1f} s ({rate:,.0f} rows/s)")
            if backend == "postgresql":
                reset_sequences(connection)
            bench_metadata.create_all(connection)
            summary = {
                "years": years,
                "scale": scale,
                "seed": seed,
                "audit_per_week": audit_per_week,
                "generated_on": world.today.isoformat(),
                "counts": counts,
            }
            connection.execute(bench_generated.delete())
            connection.execute(
                bench_generated.insert(), [{"key": key, "value": json.dumps(value)} for key, value in summary.items()]
            )
        if backend == "postgresql":
            step = time.perf_counter()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
            timings["vacuum analyze"] = time.perf_counter() - step
        engine.dispose()
    timings["total"] = time.perf_counter() - started
    summary["timings"] = timings
    summary["derived"] = describe(world)
    return summary


def describe(world: World) -> dict:
    """A few figures that show the data is shaped as intended."""
    reviews = world.rows.get("case_reviews", [])
    actions = world.rows.get("actions", [])
    today = world.today
    open_statuses = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
    overdue = sum(1 for a in actions if a["status"] in open_statuses and a["due_date"] < today)
    return {
        "meetings by status": _tally(row["status"].value for row in world.rows.get("meetings", [])),
        "repeat reviews": f"{sum(r['is_repeat'] for r in reviews) / max(1, len(reviews)):.1%}",
        "actions per review": f"{len(actions) / max(1, len(reviews)):.2f}",
        "actions by status": _tally(a["status"].value for a in actions),
        "overdue and open": f"{overdue:,} ({overdue / max(1, len(actions)):.1%} of actions)",
    }


def _tally(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def print_summary(summary: dict) -> None:
    print("\nMade:")
    for table, count in summary["counts"].items():
        print(f"  {table:26} {count:>10,}")
    print(f"  {'total rows':26} {sum(summary['counts'].values()):>10,}")
    for label, value in summary["derived"].items():
        print(f"  {label}: {value}")
    print("\nSeconds:  " + ",  ".join(f"{label} {seconds:.1f}" for label, seconds in summary["timings"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=float, default=10, help="years of weekly meetings, ending next week (10)")
    parser.add_argument("--scale", type=float, default=1, help="multiplies reviews per meeting and audit events (1)")
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL; SQLite files are replaced, PostgreSQL's public schema is dropped and recreated "
        f"(default: a SQLite file under {DEFAULT_SQLITE})",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed: the same seed gives the same data (2026)")
    parser.add_argument(
        "--audit-per-week", type=int, help="audit events per week (default 5,000 x scale: ~2.6 million in 10 years)"
    )
    parser.add_argument("--users", type=int, default=300, help="user accounts (300)")
    args = parser.parse_args()
    url = args.database_url or default_database_url(args.years, args.scale, args.seed)
    summary = generate(url, args.years, args.scale, args.seed, args.audit_per_week, args.users)
    print_summary(summary)
    print(f"\nDatabase: {_safe(url)}")


if __name__ == "__main__":
    main()

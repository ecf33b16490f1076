"""Daily reminder digests and escalations for actions.

- Digest: one e-mail per person per day listing the actions they follow up that are due within N
  days or overdue. Actions with a named owner go to the owner (while active and still in the owning
  agency); the others to the agency's SPOCs.
- Escalation: actions overdue by more than the grace period go to the agency's SPOCs and to the
  chair of the meeting that raised them, one e-mail per person per day.

E-mails carry no case details: action numbers, due dates, agency, counts and links only.
Idempotent: what was sent is logged (one row per person, kind and day, committed as each e-mail
goes), so a second run the same day sends nothing again, even after a failure part-way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker import audit
from tracker.extensions import db
from tracker.models import IS_OPEN, Action, Meeting, ReminderSent, User
from tracker.notify.mail import Mailer, build_message
from tracker.permissions import follows_up_as_named_owner, spoc_condition
from tracker.timeutil import format_date

DIGEST, ESCALATION = "digest", "escalation"


@dataclass
class Reminder:
    user: User
    kind: str
    actions: list[Action] = field(default_factory=list)


def _spocs_by_agency() -> dict[int, list[User]]:
    spocs = db.session.scalars(select(User).where(spoc_condition()))
    by_agency: dict[int, list[User]] = defaultdict(list)
    for user in spocs:
        by_agency[user.agency_id].append(user)
    return by_agency


def plan(today: date, due_within_days: int, grace_days: int) -> tuple[list[Reminder], list[Action]]:
    """Who gets what today, before checking what has already been sent; and the actions nobody
    can be reminded about (no active named owner, and the agency has no SPOC)."""
    actions = list(
        db.session.scalars(
            select(Action)
            .options(
                joinedload(Action.owner),
                joinedload(Action.owning_agency),
                joinedload(Action.meeting).joinedload(Meeting.chair),
            )
            .where(IS_OPEN, Action.due_date <= today + timedelta(days=due_within_days))
            .order_by(Action.due_date, Action.id)
        )
    )
    spocs = _spocs_by_agency()
    reminders: dict[tuple[int, str], Reminder] = {}
    unreachable: list[Action] = []

    def add(user: User, kind: str, action: Action) -> None:
        reminder = reminders.setdefault((user.id, kind), Reminder(user, kind))
        if action not in reminder.actions:
            reminder.actions.append(action)

    for action in actions:
        followers = (
            [action.owner]
            if action.owner is not None and follows_up_as_named_owner(action.owner, action)
            else spocs.get(action.owning_agency_id, [])
        )
        if not followers:
            unreachable.append(action)
        for user in followers:
            add(user, DIGEST, action)
        if action.due_date < today - timedelta(days=grace_days):
            chair = action.meeting.chair
            for user in spocs.get(action.owning_agency_id, []) + (
                [chair] if chair is not None and chair.active else []
            ):
                add(user, ESCALATION, action)
    return sorted(reminders.values(), key=lambda r: (r.kind, r.user.email)), unreachable


def _already_sent(today: date) -> set[tuple[int, str]]:
    rows = db.session.execute(select(ReminderSent.user_id, ReminderSent.kind).where(ReminderSent.sent_on == today))
    return {(user_id, kind) for user_id, kind in rows}


def compose(reminder: Reminder, today: date, service_url: str) -> tuple[str, str]:
    overdue = [a for a in reminder.actions if a.due_date < today]
    due_soon = [a for a in reminder.actions if a.due_date >= today]

    def line(action: Action) -> str:
        days = (today - action.due_date).days
        when = f"overdue by {days} day{'s' if days != 1 else ''}" if days > 0 else f"due {format_date(action.due_date)}"
        return f"- {action.reference} ({action.owning_agency.code}), {when}: {service_url}/actions/{action.id}"

    if reminder.kind == ESCALATION:
        subject = f"Escalation: {len(reminder.actions)} action{'s' if len(reminder.actions) != 1 else ''} overdue"
        intro = (
            "These actions are overdue by more than the grace period. As the agency's single point of contact "
            "or the chair who raised them, please make sure they are followed up."
        )
    else:
        subject = f"Actions to follow up: {len(overdue)} overdue, {len(due_soon)} due soon"
        intro = "These actions you follow up are overdue or due soon."
    parts = [f"Hello {reminder.user.display_name},", "", intro, ""]
    if overdue:
        parts += [f"Overdue ({len(overdue)}):"] + [line(a) for a in overdue] + [""]
    if due_soon:
        parts += [f"Due soon ({len(due_soon)}):"] + [line(a) for a in due_soon] + [""]
    parts += [
        "Sign in to record progress, change a due date with a reason, or complete an action.",
        "",
        "This message contains no case details. Do not reply to it.",
        f"{service_url}/actions",
    ]
    return subject, "\n".join(parts)


@dataclass
class RunResult:
    sent: list[Reminder]
    skipped: list[Reminder]  # already sent today
    unreachable: list[Action]  # no named owner and no SPOC: nobody to remind


def send_reminders(
    *, today: date, due_within_days: int, grace_days: int, service_url: str, dry_run: bool = False, echo=print
) -> RunResult:
    reminders, unreachable = plan(today, due_within_days, grace_days)
    for action in unreachable:
        echo(f"No one to remind about {action.reference}: no named owner, and {action.owning_agency.code} has no SPOC")
    done = _already_sent(today)
    sent, skipped = [], []
    mailer = Mailer()
    try:
        for reminder in reminders:
            if (reminder.user.id, reminder.kind) in done:
                skipped.append(reminder)
                continue
            subject, body = compose(reminder, today, service_url)
            if dry_run:
                echo(f"Would send {reminder.kind} to {reminder.user.email}: {subject}")
                sent.append(reminder)
                continue
            mailer.send(build_message(reminder.user.email, subject, body))
            db.session.add(
                ReminderSent(
                    user_id=reminder.user.id,
                    kind=reminder.kind,
                    sent_on=today,
                    action_ids=",".join(str(a.id) for a in reminder.actions),
                )
            )
            audit.record(
                f"reminder_{reminder.kind}_sent", reminder.user, detail=f"{len(reminder.actions)} actions", user=None
            )
            db.session.commit()  # logged as it goes: a failure later never causes a resend of this one
            echo(f"Sent {reminder.kind} to {reminder.user.email}: {subject}")
            sent.append(reminder)
    finally:
        mailer.close()
    return RunResult(sent, skipped, unreachable)

"""The e-mail telling a partner agency's officers that an agenda involving them is published.

Case references only: no names, no narrative. The references are pseudonymous by design (DESIGN §2).
"""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Meeting, User
from tracker.notify.mail import build_message
from tracker.permissions import agency_officer_condition
from tracker.timeutil import format_datetime


def agenda_recipients(agency_ids: list[int]) -> list[User]:
    """The active partner agency officers of these agencies (they return their agency's information)."""
    if not agency_ids:
        return []
    return list(
        db.session.scalars(
            select(User).where(User.agency_id.in_(agency_ids), agency_officer_condition()).order_by(User.id)
        )
    )


def agenda_message(user: User, meeting: Meeting, references: list[str], service_url: str) -> EmailMessage:
    count = len(references)
    lines = [
        f"Hello {user.display_name},",
        "",
        f"The agenda for the scrutiny meeting on {format_datetime(meeting.starts_at)} is published. "
        f"{count} case{'s' if count != 1 else ''} on it involve{'s' if count == 1 else ''} your agency:",
        "",
        *(f"- {reference}" for reference in references),
        "",
        "Before the meeting, please sign in and return what your agency holds on each case and what it has done:",
        f"{service_url}/meetings/{meeting.id}",
        "",
        "This message contains no personal details. Do not reply to it.",
    ]
    return build_message(user.email, "Scrutiny meeting agenda: your agency's cases", "\n".join(lines))

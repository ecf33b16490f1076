"""The private iCalendar feed: upcoming meetings and the user's agency's open action due dates.

The feed carries no case details: meeting times and places, and action numbers with their agency.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import or_, select

from tracker import audit
from tracker.extensions import db
from tracker.models import IS_OPEN, Action, Agency, Meeting, MeetingStatus, User
from tracker.permissions import meeting_scope, sees_every_agency
from tracker.timeutil import utcnow

MEETING_LENGTH = timedelta(hours=2)


def token_digest(token: str) -> str:
    """What is stored of a feed secret: its SHA-256. A copy of the database, a backup or a log of
    its queries gives no working feed address (the secret has 256 random bits: no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def user_for_token(token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token_hash == token_digest(token)))
    return user if user is not None and user.active else None


def regenerate_token(user: User) -> str:
    """A new secret, returned to be shown once; only its digest is kept. The old address stops
    working at once."""
    token = secrets.token_urlsafe(32)
    user.calendar_token_hash = token_digest(token)
    db.session.flush()
    audit.record("calendar_link_created", user)
    return token


def has_feed(user: User) -> bool:
    return user.calendar_token_hash is not None


def revoke_token(user: User) -> None:
    user.calendar_token_hash = None
    db.session.flush()
    audit.record("calendar_link_revoked", user)


def _upcoming_meetings(user: User) -> list[Meeting]:
    query = (
        select(Meeting)
        .where(Meeting.starts_at >= utcnow() - timedelta(days=1), Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at)
    )
    if not sees_every_agency(user):
        query = query.where(or_(meeting_scope(user), Meeting.invited_agencies.any(Agency.id == user.agency_id)))
    return list(db.session.scalars(query))


def _open_actions(user: User) -> list[Action]:
    return list(
        db.session.scalars(
            select(Action).where(Action.owning_agency_id == user.agency_id, IS_OPEN).order_by(Action.due_date)
        )
    )


def feed_for(user: User, service_name: str, uid_domain: str) -> bytes:
    """The feed's events carry UIDs under ``uid_domain`` (configured), so a calendar that fetches the
    feed through another address still recognises every event as the same one."""
    calendar = Calendar()
    calendar.add("prodid", f"-//{service_name}//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Scrutiny meetings and action due dates")
    for meeting in _upcoming_meetings(user):
        event = Event()
        event.add("uid", f"meeting-{meeting.id}@{uid_domain}")
        event.add("summary", "Domestic abuse scrutiny meeting")
        event.add("dtstart", meeting.starts_at)
        event.add("dtend", meeting.starts_at + MEETING_LENGTH)
        event.add("dtstamp", utcnow())
        event.add("location", meeting.location)
        calendar.add_component(event)
    for action in _open_actions(user):
        event = Event()
        event.add("uid", f"action-{action.id}@{uid_domain}")
        event.add("summary", f"Action {action.reference} due ({user.agency.code})")
        event.add("dtstart", action.due_date)
        event.add("dtend", action.due_date + timedelta(days=1))
        event.add("dtstamp", utcnow())
        calendar.add_component(event)
    return calendar.to_ical()

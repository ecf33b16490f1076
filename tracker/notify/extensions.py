"""E-mail about extension requests: chairs are told one waits; the requester is told the decision.

References, agencies and dates only: the reason and the chair's note stay in the service.
"""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import ExtensionRequest, User
from tracker.notify.mail import build_message
from tracker.permissions import extension_decider_condition
from tracker.timeutil import format_date

FOOTER = "This message contains no personal details. Do not reply to it."


def extension_deciders() -> list[User]:
    """The people who decide extension requests and are told about them."""
    return list(db.session.scalars(select(User).where(extension_decider_condition()).order_by(User.id)))


def extension_requested_message(user: User, request: ExtensionRequest, service_url: str) -> EmailMessage:
    action = request.action
    lines = [
        f"Hello {user.display_name},",
        "",
        f"{action.owning_agency.name} asks for more time on action {action.reference}: "
        f"from {format_date(request.current_due_date)} to {format_date(request.requested_due_date)}.",
        "Until a chair agrees, the action stays due on its current date.",
        "",
        "Please sign in to agree or decline:",
        f"{service_url}/actions/{action.id}/extensions/{request.id}",
        "",
        FOOTER,
    ]
    return build_message(user.email, f"Extension request waiting: action {action.reference}", "\n".join(lines))


def extension_decided_message(user: User, request: ExtensionRequest, service_url: str) -> EmailMessage:
    action = request.action
    outcome = "agreed" if request.status == "agreed" else "declined"
    if outcome == "agreed":
        effect = f"The action is now due on {format_date(request.requested_due_date)}."
    else:
        effect = f"The action stays due on {format_date(action.due_date)}."
    lines = [
        f"Hello {user.display_name},",
        "",
        f"Your request for more time on action {action.reference} was {outcome}. {effect}",
        "",
        "The chair's note is on the action's page:" if request.decision_note.strip() else "See the action:",
        f"{service_url}/actions/{action.id}",
        "",
        FOOTER,
    ]
    return build_message(user.email, f"Extension request {outcome}: action {action.reference}", "\n".join(lines))

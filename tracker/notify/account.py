"""E-mails about a person's own account: an invitation to set a password, and a password reset link.

The link is the only secret in them; nothing about cases. Sent through the outbox after the request
commits (tracker/notify/outbox.py), so a link is never mailed for a token that was rolled back.
"""

from __future__ import annotations

from email.message import EmailMessage

from tracker.models import User
from tracker.notify.mail import build_message


def invitation_message(user: User, link: str, hours: int, service_name: str) -> EmailMessage:
    lines = [
        f"Hello {user.display_name},",
        "",
        f"An account has been made for you on the {service_name}, the service for the domestic abuse "
        "scrutiny meeting and its actions.",
        "",
        "To start, choose your password here:",
        link,
        "",
        f"The link works once and expires in {hours} hours. If it has expired, ask your service "
        "administrator to send a new invitation.",
        "",
        "If you did not expect this e-mail, you can ignore it. Do not reply to it.",
    ]
    return build_message(user.email, f"Your account on the {service_name}", "\n".join(lines))


def password_reset_message(user: User, link: str, hours: int, service_name: str) -> EmailMessage:
    plural = "s" if hours != 1 else ""
    lines = [
        f"Hello {user.display_name},",
        "",
        f"Someone asked to reset the password of your account on the {service_name}. "
        "To choose a new password, use this link:",
        link,
        "",
        f"The link works once and expires in {hours} hour{plural}. Choosing a new password signs you "
        "out everywhere. Your two-step verification stays as it is.",
        "",
        "If you did not ask for this, you can ignore this e-mail: your password has not changed. Do not reply to it.",
    ]
    return build_message(user.email, f"Reset your password for the {service_name}", "\n".join(lines))

"""E-mail a request wants sent once its transaction has committed.

A request queues messages while it works; create_app()'s commit hook sends them only after the
commit succeeds, so nobody is told about something (say, a published agenda) that was rolled back.
A message that cannot be sent is logged; what it announced stays done.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage

from flask import g

from tracker.notify.mail import Mailer

log = logging.getLogger(__name__)


def queue(message: EmailMessage) -> None:
    g.setdefault("outbox", []).append(message)


def discard() -> None:
    g.pop("outbox", None)


def send_queued() -> int:
    """Send what this request queued; returns how many were sent."""
    return send_now(g.pop("outbox", []))


def send_now(messages: list[EmailMessage]) -> int:
    """Send ``messages`` at once, for what is already committed outside the request's transaction
    (an alert about refused access, whose request ends in an error and is rolled back)."""
    if not messages:
        return 0
    mailer = Mailer()
    sent = 0
    try:
        for message in messages:
            try:
                mailer.send(message)
                sent += 1
            except OSError:
                log.exception("Could not send an e-mail (subject %r)", message["Subject"])
                break
    finally:
        try:
            mailer.close()
        except OSError:
            log.warning("Could not close the SMTP connection cleanly")
    return sent

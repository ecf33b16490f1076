"""Sending e-mail over SMTP with the settings in the app config."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


class Mailer:
    """One SMTP connection for a whole run (opened on first use)."""

    def __init__(self):
        self._smtp = None

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            config = current_app.config
            self._smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
            if config["MAIL_USE_TLS"]:
                self._smtp.starttls()
            if config["MAIL_USERNAME"]:
                self._smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        self._smtp.send_message(message)

    def close(self) -> None:
        if self._smtp is not None:
            self._smtp.quit()
            self._smtp = None

"""Keep calendar-feed secrets out of access logs.

A calendar program can only fetch a plain address, so the feed's secret is part of the path
(/calendar/<secret>.ics). Every line the web servers write about a request goes through here:
gunicorn's access log in production (``logger_class`` in gunicorn.conf.py) and the development
server's request log (a filter on the ``werkzeug`` logger, installed by create_app()).
"""

from __future__ import annotations

import logging
import re

from gunicorn import glogging

CALENDAR_SECRET = re.compile(r"(/calendar/)[^/?#\s\"]+?(\.ics\b|(?=[?#\s\"]|$))")
REDACTED = r"\1[secret]\2"


def redact(text: str) -> str:
    return CALENDAR_SECRET.sub(REDACTED, text)


class GunicornLogger(glogging.Logger):
    """gunicorn's logger with every access-log value (request line, path, referer, environ) redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


class RedactingFilter(logging.Filter):
    """For the development server's request lines ('"GET /calendar/... HTTP/1.1" 200 -')."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


REDACTING_FILTER = RedactingFilter()


def install() -> None:
    """Idempotent: logging keeps one copy of the same filter however many apps are created."""
    logging.getLogger("werkzeug").addFilter(REDACTING_FILTER)

"""Error pages: plain words, a reference id for 500s, never a stack trace."""

import logging
import secrets

from flask import render_template, session
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker import refusals
from tracker.extensions import db

log = logging.getLogger(__name__)

PAGES = {
    400: ("There is a problem with your request", "Go back, reload the page and try again."),
    403: ("You do not have permission to see this page", "If you think you should, ask your administrator."),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you followed a link, the page may have been removed"
        " or you may not have access to it.",
    ),
    405: ("That action is not possible here", "Go back and use the buttons on the page."),
    409: (
        "Someone else saved a change at the same time",
        "Nothing you sent has been saved. Go back and reload the page to see what is there now, then make your"
        " change again if it is still needed.",
    ),
    413: ("What you sent is too large", "Send less at a time, or shorten the text, and try again."),
    429: ("Too many requests", "Wait a few minutes and try again."),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. If it keeps happening, contact your administrator and give them the reference below.",
    ),
}


def render_error(status: int, reference: str | None = None):
    title, advice = PAGES.get(status, PAGES[500])
    return render_template("errors/error.html", status=status, title=title, advice=advice, reference=reference), status


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        refusals.record(refusals.CSRF_FAILED)
        return render_error(400)

    @app.errorhandler(HTTPException)
    def http_error(error):
        # Refused access is audited in a transaction of its own (the request's is rolled back).
        if error.code == 403:
            refusals.record(refusals.FORBIDDEN)
        elif error.code == 404 and refusals.should_audit_not_found():
            refusals.record(refusals.NOT_FOUND)
        if error.code in PAGES and error.code != 500:
            return render_error(error.code)
        if error.code and error.code < 500:
            return render_error(400)
        return server_error(error)

    @app.errorhandler(IntegrityError)
    def conflicting_save(error):
        """Two saves at once that the database could not both keep (the same new code or record
        made twice, say): the later one is told plainly, not given a 500."""
        log.warning("A save clashed with another made at the same time: %s", error.orig)
        db.session.rollback()
        session.pop("_flashes", None)
        return render_error(409)

    @app.errorhandler(InternalServerError)
    @app.errorhandler(Exception)
    def server_error(error):
        if isinstance(getattr(error, "original_exception", None), IntegrityError):
            return conflicting_save(error.original_exception)  # raised by the commit after the view
        reference = secrets.token_hex(4).upper()
        log.exception("Unhandled error, reference %s", reference, exc_info=error)
        # The failed transaction must not be reused to render the page (or be committed after it).
        db.session.rollback()
        session.pop("_flashes", None)
        return render_error(500, reference)

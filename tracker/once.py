"""A repeated POST lands on the first result.

Every form that creates something carries a one-time token, ``{{ one_time_token() }}`` (the macro in
templates/components/once.html), made when the page is rendered. The first signed-in POST with a
token records it for that user (only its SHA-256) in the request's own transaction, before the
view runs. If the view answers with a redirect, the redirect's address is kept on that row and
committed with whatever the view saved; the same token posted again by the same user (a double
click, a reload, the back button) creates nothing and is sent to that same address.

Two submits at the same moment collide on the unique (user, token) constraint. The database itself
makes the second INSERT wait until the first request's transaction has ended: if the first was
committed the INSERT fails, and the second request rolls back and is redirected to the first one's
result; if the first saved nothing (an error rolls its transaction back; a form shown again deletes
its row) the INSERT succeeds and the second request is processed as normal. No polling is needed,
on SQLite (one writer at a time) or on PostgreSQL.

A form shown again with errors keeps its token, and its row is deleted, so the corrected form can be
sent with the same token. A user's tokens older than a day are deleted when they next record one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import Flask, abort, current_app, flash, g, has_request_context, redirect, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import FormSubmission
from tracker.timeutil import utcnow

TOKEN_FIELD = "form_token"  # noqa: S105 (the name of a form field, not a secret)
# What secrets.token_urlsafe makes; anything else posted in the field is ignored.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")
KEPT_FOR = timedelta(days=1)
ALREADY_SAVED = "That was already saved."
# Each failed attempt means another request with the same token was committed meanwhile, so the
# next look finds its result; a third is only for a row deleted between the two (a form shown again).
_ATTEMPTS = 3


def register(app: Flask) -> None:
    """Call after the commit hook is registered: after_request hooks run in reverse order, so the
    address is stored (or the row deleted) before the request's transaction is committed."""
    app.jinja_env.globals["new_form_token"] = new_form_token
    app.jinja_env.globals["one_time_token"] = one_time_token
    app.before_request(claim_token)
    app.after_request(keep_result)


def new_form_token() -> str:
    """The token for a form being rendered: a new one, or the posted one when a form is shown again."""
    return _posted_token() or secrets.token_urlsafe(32)


def one_time_token() -> Markup:
    """The hidden input, from templates/components/once.html, for templates that do not import it."""
    return current_app.jinja_env.get_template("components/once.html").module.one_time_token()  # type: ignore[attr-defined]


def _posted_token() -> str | None:
    if not has_request_context() or request.method != "POST":
        return None
    token = request.form.get(TOKEN_FIELD, "")
    return token if _TOKEN_SHAPE.fullmatch(token) else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _recorded(user_id: int, token_hash: str) -> FormSubmission | None:
    return db.session.scalar(
        select(FormSubmission).where(FormSubmission.user_id == user_id, FormSubmission.token_hash == token_hash)
    )


def claim_token():
    """Before the view: send a repeat to the first result, or record the token and let the view run."""
    token = _posted_token()
    if token is None or not current_user.is_authenticated:
        return None
    user_id, token_hash = current_user.id, _digest(token)
    for _ in range(_ATTEMPTS):
        earlier = _recorded(user_id, token_hash)
        if earlier is not None:
            if earlier.location is None:  # never committed so; refuse rather than risk a second record
                abort(409)
            flash(ALREADY_SAVED, "info")
            return redirect(earlier.location)
        db.session.execute(
            delete(FormSubmission).where(
                FormSubmission.user_id == user_id, FormSubmission.created_at < utcnow() - KEPT_FOR
            )
        )
        submission = FormSubmission(user_id=user_id, token_hash=token_hash)
        db.session.add(submission)
        try:
            db.session.flush()
        except IntegrityError:
            # The same token, committed by another request since we looked: go and find its result.
            db.session.rollback()
            continue
        g.form_submission = submission
        return None
    abort(409)


def forget() -> None:
    """The view refused this submission (say, the minutes were locked meanwhile): nothing was saved,
    so the same form may be sent again later and must not be answered with "already saved"."""
    submission = g.pop("form_submission", None)
    if submission is not None and submission in db.session:
        db.session.delete(submission)


def keep_result(response):
    """After the view: keep where a redirect went; forget the token when the form was shown again.

    An error response needs nothing: the commit hook rolls the whole transaction back, row included.
    """
    submission = g.pop("form_submission", None)
    # A view that rolled back its own work has rolled the row back too: nothing to keep or forget.
    if submission is None or submission not in db.session or response.status_code >= 400:
        return response
    if 300 <= response.status_code < 400 and response.location:
        submission.location = response.location
    else:
        db.session.delete(submission)
    return response

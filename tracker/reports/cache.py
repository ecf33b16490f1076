"""The reports page's figures, rendered once and kept for a few minutes in each server process.

Counting a period's figures and drawing its charts is the costly part of the page; a manager moving
between periods, or several readers of the same report, should not pay it on every request. A kept
rendering is used only while all of these hold:
- it is for the same database, the same scope (every agency, or one agency), the same period and the
  same day (the database too: two apps in one process, as in bench/pages.py, must not share figures);
- no write that can change a figure has been flushed by this process since it was rendered (any
  flush of a row other than the bookkeeping below, and any bulk UPDATE, DELETE or INSERT);
- it is at most FRESH_FOR old, which bounds what another server process's writes can leave unseen.
The page says when its figures were calculated. The board report PDF and the CSV files are always
counted afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from cachetools import TTLCache
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker import models
from tracker.extensions import db
from tracker.timeutil import utcnow

FRESH_FOR_SECONDS = 300
# Rows written while reading, signing in or preparing a document: they never change a report's figures.
BOOKKEEPING = (
    models.AccountToken,
    models.AuditEvent,
    models.DocumentJob,
    models.FormSubmission,
    models.LoginFailure,
    models.RecoveryCode,
    models.ReminderSent,
    models.SecondFactor,
    models.UserSession,
)
_BOOKKEEPING_TABLES = frozenset(model.__table__ for model in BOOKKEEPING)

_lock = threading.Lock()
_kept: TTLCache = TTLCache(maxsize=128, ttl=FRESH_FOR_SECONDS)
_writes = 0  # bumped by every flush or bulk statement that may change a figure


def _note_write() -> None:
    global _writes
    with _lock:
        _writes += 1


def _after_flush(session, _context) -> None:
    changed = [*session.new, *session.dirty, *session.deleted]
    if any(not isinstance(row, BOOKKEEPING) for row in changed):
        _note_write()


def _do_orm_execute(state) -> None:
    # A bulk UPDATE, DELETE or INSERT, unless it is on a bookkeeping table (sign-in steps, ending
    # sessions, spent throttles): those ran on every sign-in and threw the kept figures away.
    if not state.is_select and getattr(state.statement, "table", None) not in _BOOKKEEPING_TABLES:
        _note_write()


def listen() -> None:
    """Watch every session for writes (called once by the app factory)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)


def figures(key: tuple, render: Callable[[], str]) -> tuple[str, datetime]:
    """The kept rendering for ``key`` (scope, period, day), or a fresh one, with when it was made."""
    key = (db.engine.url.render_as_string(hide_password=True), *key)
    with _lock:
        writes = _writes
        kept = _kept.get((key, writes))
    if kept is not None:
        return kept
    made = (render(), utcnow())
    with _lock:
        if _writes == writes:  # nothing was written while rendering
            _kept[(key, writes)] = made
    return made


def forget_all() -> None:
    """For tests: start with nothing kept."""
    with _lock:
        _kept.clear()

"""Actions after they are raised: lists, the action page, progress, due dates, owners, CSV."""

from flask import Blueprint

bp = Blueprint("actions", __name__)

from tracker.actions import views  # noqa: E402,F401

"""Case reviews: the record of one case at one meeting (risk, grade, findings, themes, feedback).

Which cases are on a meeting's agenda, and in which order, belongs to tracker.meetings.
"""

from flask import Blueprint

bp = Blueprint("reviews", __name__)

from tracker.reviews import views  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("meetings", __name__)

from tracker.meetings import views  # noqa: E402,F401

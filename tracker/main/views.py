from flask import render_template
from flask_login import current_user

from tracker.main import bp
from tracker.permissions import Capability, public, requires


@bp.route("/")
@requires(Capability.SIGNED_IN)
def home():
    return render_template("main/home.html", user=current_user)


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("main/accessibility.html")


@bp.route("/privacy")
@public
def privacy():
    return render_template("main/privacy.html")


@bp.route("/healthz")
@public
def health():
    """For load balancers: answers without touching the session or showing any data."""
    return {"status": "ok"}

from flask import render_template
from flask_login import current_user

from tracker.main import bp
from tracker.permissions import (
    Capability,
    can,
    may_decide_extensions,
    public,
    reads_case_work,
    requires,
    sees_own_agency_only,
)


@bp.route("/")
@requires(Capability.SIGNED_IN)
def home():
    """Partners see their agency's actions; chairs and managers the workload by agency and the next
    meetings; administrators, who read no case work, what they can manage."""
    from tracker.actions import queries as action_queries
    from tracker.timeutil import london_today

    user = current_user._get_current_object()
    if not reads_case_work(user):
        return render_template("main/admin_home.html", user=user)
    context = {"user": user, "today": london_today(), "next_meetings": action_queries.next_meetings(user)}
    if sees_own_agency_only(user):
        context["mine"] = action_queries.partner_home(user)
    else:
        context["workload"] = action_queries.workload_by_agency()
    if can(user, Capability.APPROVE_MINUTES):
        context["awaiting_approval"] = action_queries.awaiting_approval()
    if may_decide_extensions(user):
        context["extension_requests"], context["extension_total"] = action_queries.pending_extension_requests()
    return render_template("main/home.html", **context)


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("main/accessibility.html")


@bp.route("/privacy")
@public
def privacy():
    return render_template("main/privacy.html")


@bp.route("/calendar/<token>.ics")
@public
def calendar_feed(token: str):
    """Public by design: the secret token in the address is the credential. Unknown or revoked: 404."""
    from flask import Response, abort, current_app

    from tracker import calendar_feed as feeds

    user = feeds.user_for_token(token)
    if user is None or not can(user, Capability.READ_MEETINGS):
        abort(404)
    from tracker import audit

    audit.record("calendar_feed_read", user, user=user)
    body = feeds.feed_for(user, current_app.config["SERVICE_NAME"], current_app.config["CALENDAR_UID_DOMAIN"])
    return Response(
        body, mimetype="text/calendar", headers={"Content-Disposition": 'attachment; filename="scrutiny-tracker.ics"'}
    )


@bp.route("/healthz")
@public
def health():
    """For load balancers: answers without touching the session or showing any data."""
    return {"status": "ok"}

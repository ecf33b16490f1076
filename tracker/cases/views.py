from flask import abort, current_app, render_template, request
from flask_login import current_user

from tracker import audit
from tracker.cases import bp, queries
from tracker.params import page_param, search_text
from tracker.permissions import Capability, requires
from tracker.timeutil import london_today


@bp.route("/cases")
@requires(Capability.READ_CASES)
def cases():
    text = search_text(request.args.get("reference"), 40)
    page, stats = queries.search(
        current_user, text, page_param(request.args.get("page")), current_app.config["CASES_PER_PAGE"]
    )
    if text:
        audit.record("case_search", detail=f"reference contains {text}")
    return render_template("cases/search.html", page=page, stats=stats, text=text)


@bp.route("/cases/<int:case_id>")
@requires(Capability.READ_CASES)
def case(case_id: int):
    page = queries.case_page(current_user, case_id)
    if page is None:
        abort(404)  # audited as a refusal by tracker/refusals.py
    audit.record("case_viewed", page.case)
    return render_template("cases/case.html", page=page, today=london_today())

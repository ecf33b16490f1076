from flask import abort, current_app, flash, render_template, request
from flask_login import current_user

from tracker import audit
from tracker.cases import bp, queries
from tracker.cases.filters import FLAG_CHOICES, GRADE_CHOICES, RISK_CHOICES, CaseSearch
from tracker.params import page_param
from tracker.permissions import Capability, requires
from tracker.timeutil import london_today


@bp.route("/cases")
@requires(Capability.READ_CASES)
def cases():
    criteria, problems = CaseSearch.parse(request.args)
    if problems:
        # The service's own messages, never the text that was typed.
        flash("Some search terms were ignored. " + " ".join(f"{problem.message}." for problem in problems), "info")
    page = queries.search(
        current_user, criteria, page_param(request.args.get("page")), current_app.config["CASES_PER_PAGE"]
    )
    if not criteria.is_empty:
        audit.record("case_search", detail=criteria.for_audit())
    themes, agencies = queries.search_choices()
    return render_template(
        "cases/search.html",
        page=page,
        criteria=criteria,
        themes=themes,
        agencies=agencies,
        grades=GRADE_CHOICES,
        risks=RISK_CHOICES,
        flags=FLAG_CHOICES,
    )


@bp.route("/cases/<int:case_id>")
@requires(Capability.READ_CASES)
def case(case_id: int):
    page = queries.case_page(current_user._get_current_object(), case_id)
    if page is None:
        abort(404)  # audited as a refusal by tracker/refusals.py
    audit.record("case_viewed", page.case)
    return render_template("cases/case.html", page=page, today=london_today())

"""Case reviews on the agenda, repeat detection, raising actions, cases, and partner scope."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import error_messages, get_page, parse, sign_in, summary_errors, text_of
from tracker.extensions import db
from tracker.forms import date_example
from tracker.models import Action, AuditEvent, Case, CaseReview, LearningTheme, Meeting
from tracker.timeutil import london_today


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def chair(login_as, agencies):
    return login_as("chair", agencies["POL"])


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def reviews_of(app, meeting_id):
    with app.app_context():
        return [
            (r.case.reference, r.position, r.is_repeat)
            for r in db.session.scalars(
                select(CaseReview).where(CaseReview.meeting_id == meeting_id).order_by(CaseReview.position)
            )
        ]


def banners(page) -> str:
    return " ".join(text_of(banner) for banner in page.select(".govuk-notification-banner"))


def add_to_agenda(client, meeting_id, *rows, publish=False):
    """Post the agenda page's new-case rows: each row a reference or (reference, [agency ids])."""
    data = {"publish" if publish else "save": "y"}
    for index, row in enumerate(rows):
        reference, agency_ids = (row, []) if isinstance(row, str) else row
        data[f"rows-{index}-reference"] = reference
        data[f"rows-{index}-agency_ids"] = [str(agency_id) for agency_id in agency_ids]
    return client.post(f"/meetings/{meeting_id}/agenda", data=data)


def review_link(client, meeting_id, reference):
    page = get_page(client, f"/meetings/{meeting_id}/agenda")
    return next(a["href"] for a in page.select("[data-testid=agenda-table] a") if text_of(a) == reference)


def test_adding_cases_creates_them_with_their_agencies(client, app, chair, agencies, make_meeting):
    meeting_id = make_meeting(0, chair=chair, invited=list(agencies.values()))
    response = add_to_agenda(client, meeting_id, ("  cr/2026/ 0042 ", [agencies["IDVA"].id]), "CR/2026/0043")
    assert response.headers["Location"] == f"/meetings/{meeting_id}/agenda"
    assert reviews_of(app, meeting_id) == [("CR/2026/ 0042", 1, False), ("CR/2026/0043", 2, False)]
    page = get_page(client, response.headers["Location"])
    rows = [[text_of(td) for td in tr.select("td")][1:3] for tr in page.select("[data-testid=agenda-table] tbody tr")]
    assert rows == [["CR/2026/ 0042", "IDVA"], ["CR/2026/0043", "None yet"]]
    page = get_page(client, review_link(client, meeting_id, "CR/2026/ 0042"))
    assert text_of(page.h1).startswith("Case CR/2026/ 0042")
    assert "This is the first review of this case" in text_of(page.select_one("[data-testid=case-history]"))


def test_an_existing_reference_links_to_the_case_and_shows_its_history(
    client, app, chair, agencies, make_meeting, add_review, add_action
):
    earlier = make_meeting(-28, chair=chair)
    earlier_review = add_review(earlier, "CR/7", agencies=[agencies["IDVA"]], grade=2)
    add_action(earlier, agencies["IDVA"], review_id=earlier_review, description="Refer to IDVA")
    meeting_id = make_meeting(0, chair=chair)
    add_to_agenda(client, meeting_id, "cr/7")
    page = get_page(client, review_link(client, meeting_id, "CR/7"))
    history = text_of(page.select_one("[data-testid=case-history]"))
    assert "Repeat" in text_of(page.h1)
    assert "Appropriate, with observations" in history and "Refer to IDVA" in history
    assert count(app, Case) == 1
    assert reviews_of(app, meeting_id) == [("CR/7", 1, True)]


def test_a_double_submitted_agenda_makes_one_review_per_case(client, app, chair, make_meeting):
    meeting_id = make_meeting(0, chair=chair)
    first = add_to_agenda(client, meeting_id, "CR/9")
    second = add_to_agenda(client, meeting_id, "CR/9")
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, CaseReview) == 1
    assert "1 of the cases was already on this agenda" in banners(get_page(client, second.headers["Location"]))


@pytest.mark.parametrize(
    "row, message",
    [
        (("", ["IDVA"]), "Enter the case reference, or untick its agencies"),
        (("   ", ["IDVA"]), "Enter the case reference, or untick its agencies"),
        ("X" * 41, "Case reference must be 40 characters or fewer"),
        ("CR/1\nJane Smith", "Case reference must be on one line"),
        ("jane smith", "Case reference must be a crime or incident number, with digits: never a person's name"),
        ("Jane Smith²", "Case reference must be a crime or incident number, with digits: never a person's name"),
        (
            ("CR/NO-DIGITS", ["IDVA"]),
            "Case reference must be a crime or incident number, with digits: never a person's name",
        ),
        (("CR/1", ["999999"]), "Select agencies from the list"),
    ],
)
def test_bad_case_references(client, app, chair, agencies, make_meeting, row, message):
    meeting_id = make_meeting(0, chair=chair, invited=list(agencies.values()))
    if not isinstance(row, str):
        row = (row[0], [agencies[code].id if code in agencies else code for code in row[1]])
    response = add_to_agenda(client, meeting_id, row)
    assert response.status_code == 200
    assert message in error_messages(parse(response)).values()
    assert count(app, Case) == 0


def test_the_agenda_says_what_each_agency_code_stands_for(client, chair, agencies, make_meeting):
    """The agencies' checkboxes are labelled by code (fifteen to a row); a key gives each one's name."""
    meeting_id = make_meeting(0, chair=chair, invited=[agencies["IDVA"], agencies["HOU"]])
    page = get_page(client, f"/meetings/{meeting_id}/agenda")
    key = page.select_one("[data-testid=agency-codes]")
    assert [(text_of(dt), text_of(dt.find_next("dd"))) for dt in key.select("dt")] == [
        ("HOU", agencies["HOU"].name),
        ("IDVA", agencies["IDVA"].name),
    ]


def test_the_agendas_error_summary_names_each_case_by_its_row(client, chair, agencies, make_meeting):
    meeting_id = make_meeting(0, chair=chair, invited=list(agencies.values()))
    idva = [agencies["IDVA"].id]
    response = add_to_agenda(client, meeting_id, ("CR/1", idva), ("", idva), ("X" * 41, idva))
    assert summary_errors(parse(response)) == [
        ("#rows-1-reference", "Case 2: Enter the case reference, or untick its agencies"),
        ("#rows-2-reference", "Case 3: Case reference must be 40 characters or fewer"),
    ]


@pytest.mark.parametrize("days_between, repeat", [(90, True), (360, True), (370, False)])
def test_repeat_is_a_review_within_twelve_months(client, app, chair, make_meeting, add_review, days_between, repeat):
    add_review(make_meeting(-days_between, chair=chair), "CR/REPEAT")
    meeting_id = make_meeting(0, chair=chair)
    add_review(meeting_id, "CR/REPEAT")
    assert reviews_of(app, meeting_id) == [("CR/REPEAT", 1, repeat)]
    page = get_page(client, f"/meetings/{meeting_id}")
    tags = text_of(page.select_one("[data-testid=case-review]").find_parent("li"))
    assert ("Repeat" in tags) is repeat


def test_repeat_flags_follow_a_cancelled_earlier_meeting(client, app, chair, make_meeting, add_review):
    earlier = make_meeting(-30, chair=chair)
    add_review(earlier, "CR/R")
    meeting_id = make_meeting(0, chair=chair)
    add_review(meeting_id, "CR/R")
    assert reviews_of(app, meeting_id)[0][2] is True
    client.post(f"/meetings/{earlier}/cancel", data={"reason": "Did not take place"})
    assert reviews_of(app, meeting_id)[0][2] is False


def review_form(**overrides):
    data = {
        "dash_score": "11",
        "summary": "Call to police after an assault",
        "findings": "Good initial response",
        "scrutiny_grade": "2",
        "feedback_to_officer": "Well done",
        "flags": ["stalking", "threats_to_kill"],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_recording_a_review_derives_risk_from_the_dash_score(client, app, chair, agencies, make_meeting, add_review):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/1")
    with app.app_context():
        theme = LearningTheme(name="Coercive control not identified")
        db.session.add(theme)
        db.session.commit()
        theme_id = theme.id
    response = client.post(
        f"/meetings/{meeting_id}/reviews/{review_id}",
        data=review_form(agency_ids=[str(agencies["IDVA"].id), str(agencies["HOU"].id)], theme_ids=[str(theme_id)]),
    )
    assert response.status_code == 302
    with app.app_context():
        review = db.session.get(CaseReview, review_id)
        assert (review.dash_score, review.risk_level, review.scrutiny_grade) == (11, "medium", 2)
        assert review.flags == ["Stalking", "Threats to kill"]
        assert [a.code for a in review.agencies] == ["HOU", "IDVA"]
        assert [t.name for t in review.themes] == ["Coercive control not identified"]
    page = get_page(client, f"/meetings/{meeting_id}")
    section = page.select_one("[data-testid=case-review]").find_parent("li")
    text = text_of(section)
    assert "Medium risk" in text and "Grade 2" in text and "Coercive control not identified" in text
    assert "Completed" in text_of(section.select_one(".govuk-task-list__status"))
    # The summary and the police-only feedback are on the chair's meeting page.
    assert text_of(section.select_one("[data-testid=review-summary]")) == "Summary: Call to police after an assault"
    assert "Well done" in text_of(section.select_one("[data-testid=review-feedback]"))


@pytest.mark.parametrize("role", ["manager", "partner"])
def test_the_review_page_reads_the_review_with_its_agencies_and_themes_in_name_order_in_one_statement(
    client, app, chair, agencies, make_meeting, add_review, make_user, query_counter, role
):
    """A partner's scope asks about the review's agencies under names of its own: the agencies read
    with the review must be the review's, all of them, whoever reads it."""
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["IDVA"]])
    reader_user = make_user(role, agencies["POL"] if role == "manager" else agencies["IDVA"])
    few = add_review(meeting_id, "CR/FEW", agencies=[agencies["IDVA"]])
    many = add_review(meeting_id, "CR/MANY", agencies=[agencies["POL"], agencies["HOU"], agencies["IDVA"]])
    with app.app_context():
        themes = [LearningTheme(name=name) for name in ("Risk not reassessed", "Coercive control missed")]
        db.session.add_all(themes)
        db.session.get(CaseReview, many).themes = themes
        db.session.commit()
    reader = app.test_client()  # a reader sees the review as a list, not a form
    sign_in(reader, reader_user.email, reader_user.password)
    counted = {}
    for review_id in (few, many):
        with query_counter() as statements:
            page = get_page(reader, f"/meetings/{meeting_id}/reviews/{review_id}")
        counted[review_id] = len(statements)
        rows = {text_of(row.dt): text_of(row.dd) for row in page.select(".govuk-summary-list__row")}
    # Three agencies and two themes, each list in name order, from the one statement that reads the review.
    assert rows["Agencies involved"] == "HOU agency, IDVA agency, POL agency"
    assert rows["Learning themes"] == "Coercive control missed, Risk not reassessed"
    # The session, the meeting, the review (with its case, themes and agencies), the case's earlier
    # reviews, its actions, the agencies' information, the audit event.
    assert counted == {few: 7, many: 7}, counted


def test_professional_judgement_overrides_the_dash_score_with_a_reason(client, app, chair, make_meeting, add_review):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/1")
    client.post(
        f"/meetings/{meeting_id}/reviews/{review_id}",
        data=review_form(
            dash_score="6", risk_overridden="y", risk_level="high", risk_override_reason="Escalation in the last week"
        ),
    )
    with app.app_context():
        review = db.session.get(CaseReview, review_id)
        assert (review.risk_level, review.risk_overridden, review.risk_override_reason) == (
            "high",
            True,
            "Escalation in the last week",
        )


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"dash_score": "25"}, "dash_score", "DASH score must be a whole number from 0 to 24"),
        ({"dash_score": "-1"}, "dash_score", "DASH score must be a whole number from 0 to 24"),
        ({"dash_score": "twelve"}, "dash_score", "DASH score must be a whole number from 0 to 24"),
        (
            {"risk_overridden": "y", "risk_level": "high", "risk_override_reason": ""},
            "risk_override_reason",
            "Enter the reason for setting the risk level by professional judgement",
        ),
        (
            {"risk_overridden": "y", "risk_override_reason": "Because"},
            "risk_level",
            "Select the risk level you have judged",
        ),
        ({"scrutiny_grade": "5"}, "scrutiny_grade", "Select a scrutiny grade from 1 to 4"),
        ({"scrutiny_grade": "0"}, "scrutiny_grade", "Select a scrutiny grade from 1 to 4"),
        ({"flags": ["telepathy"]}, "flags", "Select risk factors from the list"),
        ({"agency_ids": ["99999"]}, "agency_ids", "Select agencies from the list"),
    ],
)
def test_bad_review_input_changes_nothing(client, app, chair, make_meeting, add_review, overrides, field, message):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/1")
    response = client.post(f"/meetings/{meeting_id}/reviews/{review_id}", data=review_form(**overrides))
    assert response.status_code == 200
    assert error_messages(parse(response))[field] == message
    with app.app_context():
        review = db.session.get(CaseReview, review_id)
        assert (review.dash_score, review.summary, review.scrutiny_grade) == (None, "", None)


def _agenda(page):
    form = page.select_one("form[action$='/reviews/move']")
    return form.select_one("input[name=agenda]")["value"]


def test_reorder_moves_a_case_and_refuses_a_stale_agenda(client, app, chair, make_meeting, add_review):
    meeting_id = make_meeting(0, chair=chair)
    first, second, third = (add_review(meeting_id, f"CR/{n}") for n in (1, 2, 3))
    agenda = _agenda(get_page(client, f"/meetings/{meeting_id}/agenda"))
    assert agenda == f"{first},{second},{third}"
    client.post(f"/meetings/{meeting_id}/reviews/move", data={"review_id": third, "direction": "up", "agenda": agenda})
    assert [ref for ref, *_ in reviews_of(app, meeting_id)] == ["CR/1", "CR/3", "CR/2"]
    # A second click from the old page would move the wrong thing: refused, nothing changes.
    response = client.post(
        f"/meetings/{meeting_id}/reviews/move", data={"review_id": first, "direction": "down", "agenda": agenda}
    )
    assert "The agenda changed since you opened this page" in banners(get_page(client, response.headers["Location"]))
    assert [ref for ref, *_ in reviews_of(app, meeting_id)] == ["CR/1", "CR/3", "CR/2"]
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "agenda_reordered")) == 1


def test_remove_a_review_before_approval_but_not_one_with_actions(
    client, app, chair, agencies, make_meeting, add_review, add_action
):
    meeting_id = make_meeting(0, chair=chair)
    plain = add_review(meeting_id, "CR/1")
    with_action = add_review(meeting_id, "CR/2")
    add_action(meeting_id, agencies["IDVA"], review_id=with_action)
    # A confirmation page first: looking at it removes nothing.
    confirm = get_page(client, f"/meetings/{meeting_id}/reviews/{plain}/remove")
    assert text_of(confirm.h1) == "Take case CR/1 off the agenda?"
    assert confirm.select_one("form button, form input[type=submit]")
    assert len(reviews_of(app, meeting_id)) == 2
    response = client.post(f"/meetings/{meeting_id}/reviews/{plain}/remove")
    assert response.headers["Location"] == f"/meetings/{meeting_id}/agenda"
    response = client.post(f"/meetings/{meeting_id}/reviews/{with_action}/remove")
    assert "has actions, so it cannot be taken off the agenda" in banners(
        get_page(client, response.headers["Location"])
    )
    assert reviews_of(app, meeting_id) == [("CR/2", 1, False)]


def action_form(agency, **overrides):
    due = london_today() + timedelta(days=14)
    data = {
        "description": "Offer a referral to the IDVA service",
        "owning_agency_id": str(agency.id),
        "owner_id": "",
        "due_date": [str(due.day), str(due.month), str(due.year)],
    }
    data.update(overrides)
    return data


def test_raise_actions_for_a_review_and_for_the_meeting(
    client, app, chair, agencies, make_meeting, add_review, make_user
):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/1")
    officer = make_user("partner", agencies["IDVA"], name="IDVA Officer")
    response = client.post(
        f"/meetings/{meeting_id}/actions/new?review={review_id}",
        data=action_form(agencies["IDVA"], owner_id=str(officer.id)),
    )
    assert response.status_code == 302
    client.post(
        f"/meetings/{meeting_id}/actions/new", data=action_form(agencies["HOU"], description="Review housing policy")
    )
    with app.app_context():
        actions = list(db.session.scalars(select(Action).order_by(Action.id)))
        assert [(a.case_review_id, a.owning_agency_id, a.owner_id, a.status, a.created_by_id) for a in actions] == [
            (review_id, agencies["IDVA"].id, officer.id, "open", chair.id),
            (None, agencies["HOU"].id, None, "open", chair.id),
        ]
    assert response.headers["Location"] == f"/meetings/{meeting_id}/reviews/{review_id}"
    review_page = get_page(client, response.headers["Location"])
    assert "IDVA Officer" in text_of(review_page.select_one("[data-testid=actions-table]"))
    page = get_page(client, f"/meetings/{meeting_id}")
    assert "1 action." in text_of(page.select_one("[data-testid=case-review]").find_parent("li"))
    assert "Review housing policy" in text_of(page.select_one("[data-testid=meeting-actions]"))


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"description": ""}, "description", "Describe the action"),
        ({"owning_agency_id": ""}, "owning_agency_id", "Select the owning agency from the list"),
        ({"owning_agency_id": "99999"}, "owning_agency_id", "Select the owning agency from the list"),
        ({"owner_id": "OTHER_AGENCY"}, "owner_id", "The named owner must belong to the owning agency"),
        ({"due_date": ["31", "2", "2027"]}, "due_date-day", "Due date must be a real date, like {example}"),
        ({"due_date": ["", "", ""]}, "due_date-day", "Enter the due date"),
        ({"due_date": "YESTERDAY"}, "due_date-day", "Due date must be today or in the future"),
    ],
)
def test_bad_action_input_creates_nothing(
    client, app, chair, agencies, make_meeting, make_user, overrides, field, message
):
    meeting_id = make_meeting(0, chair=chair)
    if overrides.get("owner_id") == "OTHER_AGENCY":
        overrides["owner_id"] = str(make_user("partner", agencies["HOU"]).id)
    if overrides.get("due_date") == "YESTERDAY":
        yesterday = london_today() - timedelta(days=1)
        overrides["due_date"] = [str(yesterday.day), str(yesterday.month), str(yesterday.year)]
    response = client.post(f"/meetings/{meeting_id}/actions/new", data=action_form(agencies["IDVA"], **overrides))
    assert response.status_code == 200
    page = parse(response)
    assert error_messages(page)[field] == message.format(example=date_example())  # worked out as the form is made
    # The summary links to the control itself (a date input's day box), so the cursor lands in it.
    [link] = page.select(".govuk-error-summary a")
    assert link["href"] == f"#{field}" and page.select_one(f"#{field}").name in ("input", "select", "textarea")
    assert count(app, Action) == 0


def test_an_action_raised_with_a_review_links_its_date_error_to_the_day_box(
    client, chair, agencies, make_meeting, add_review
):
    meeting_id = make_meeting(0, chair=chair)
    review_id = add_review(meeting_id, "CR/DATE")
    response = client.post(
        f"/meetings/{meeting_id}/reviews/{review_id}",
        data={
            "findings": "Prompt attendance.",
            "action-description": "Refer to the IDVA service",
            "action-owning_agency_id": str(agencies["IDVA"].id),
            "action-due_date": ["31", "2", "2027"],
        },
    )
    page = parse(response)
    assert error_messages(page)["action-due_date-day"].startswith("Due date must be a real date")
    links = {text_of(link): link["href"] for link in page.select(".govuk-error-summary a")}
    assert links[error_messages(page)["action-due_date-day"]] == "#action-due_date-day"
    assert page.select_one("#action-due_date-day").name == "input"


def test_an_inactive_agency_cannot_own_a_new_action(client, app, chair, make_meeting, make_agency):
    closed = make_agency(code="OLD", active=False)
    meeting_id = make_meeting(0, chair=chair)
    response = client.post(f"/meetings/{meeting_id}/actions/new", data=action_form(closed))
    assert error_messages(parse(response))["owning_agency_id"] == "Select the owning agency from the list"


# Partner scope ----------------------------------------------------------------------------


@pytest.fixture
def scoped_world(app, agencies, make_user, make_meeting, add_review, add_action):
    """A meeting attended by IDVA (not HOU) with three reviews: one involving IDVA, one where
    IDVA only owns an action, one that does not concern IDVA at all."""
    chair = make_user("chair", agencies["POL"])
    meeting_id = make_meeting(-1, chair=chair, attended_by=[agencies["IDVA"], agencies["POL"]])
    involved = add_review(meeting_id, "CR/INVOLVED", agencies=[agencies["IDVA"]])
    owns_action = add_review(meeting_id, "CR/OWNS-ACTION", agencies=[agencies["POL"]])
    add_action(meeting_id, agencies["IDVA"], review_id=owns_action, description="IDVA action")
    unrelated = add_review(meeting_id, "CR/UNRELATED", agencies=[agencies["POL"]])
    add_action(meeting_id, agencies["POL"], review_id=unrelated, description="Police action")
    add_action(meeting_id, agencies["POL"], description="Police meeting action")
    other_meeting = make_meeting(-8, chair=chair, attended_by=[agencies["POL"]])
    add_review(other_meeting, "CR/ELSEWHERE", agencies=[agencies["IDVA"]])
    return {
        "meeting": meeting_id,
        "involved": involved,
        "owns_action": owns_action,
        "unrelated": unrelated,
        "other_meeting": other_meeting,
    }


def test_partner_sees_only_what_concerns_their_agency(client, app, agencies, make_user, scoped_world):
    partner = make_user("partner", agencies["IDVA"])
    sign_in(client, partner.email, partner.password)
    meetings = get_page(client, "/meetings")
    assert [a["href"] for a in meetings.select("[data-testid=meetings-table] tbody a")] == [
        f"/meetings/{scoped_world['meeting']}"
    ]

    page = get_page(client, f"/meetings/{scoped_world['meeting']}")
    references = [text_of(s) for s in page.select("[data-testid=case-review]")]
    assert references == ["1. Case CR/INVOLVED", "2. Case CR/OWNS-ACTION"]
    body = text_of(page)
    assert "CR/UNRELATED" not in body and "Police action" not in body and "Police meeting action" not in body
    owns = page.select("[data-testid=case-review]")[1].find_parent("li")
    assert "1 action for your agency" in text_of(owns)
    review_page = get_page(client, f"/meetings/{scoped_world['meeting']}/reviews/{scoped_world['owns_action']}")
    assert "IDVA action" in text_of(review_page.select_one("[data-testid=actions-table]"))
    # Each action it lists links to its page, which the partner may open.
    links = [a["href"] for a in review_page.select("[data-testid=actions-table] tbody a")]
    assert links and all(client.get(href).status_code == 200 for href in links)
    # Other agencies' actions are counted beside the actions they sit with: here one meeting-level
    # police action. The police action on a case IDVA may not see is counted once, after the cases.
    [hidden] = page.select("[data-testid=hidden-actions]")
    assert text_of(hidden) == "1 action belongs to other agencies and is not shown."
    elsewhere = page.select_one("[data-testid=hidden-actions-other-cases]")
    assert text_of(elsewhere) == "1 action on cases your agency is not involved in is not shown."
    assert page.select("form[method=post]:not([action='/sign-out'])") == []
    assert page.select("a[href$='/approve'], a[href$='/agenda'], a[href$='/attendance']") == []

    assert client.get(f"/meetings/{scoped_world['meeting']}/reviews/{scoped_world['unrelated']}").status_code == 404
    assert client.get(f"/meetings/{scoped_world['other_meeting']}").status_code == 404
    assert client.get(f"/meetings/{scoped_world['meeting']}/reviews/{scoped_world['involved']}").status_code == 200


def test_the_meetings_list_counts_only_the_cases_the_reader_may_see(client, agencies, make_user, scoped_world):
    def case_counts(user):
        reader = client.application.test_client()
        sign_in(reader, user.email, user.password)
        table = get_page(reader, "/meetings").select_one("[data-testid=meetings-table]")
        return {
            row.select_one("a")["href"]: text_of(row.select("td")[3])  # Date, Location, Chair, Cases
            for row in table.select("tbody tr")
        }

    meeting = f"/meetings/{scoped_world['meeting']}"
    assert case_counts(make_user("partner", agencies["IDVA"])) == {meeting: "2"}
    assert case_counts(make_user("manager", agencies["POL"]))[meeting] == "3"


def test_partner_of_an_agency_that_did_not_attend_sees_nothing(client, agencies, make_user, scoped_world):
    partner = make_user("partner", agencies["HOU"])
    sign_in(client, partner.email, partner.password)
    assert get_page(client, "/meetings").select("[data-testid=meetings-table] tbody tr") == []
    assert client.get(f"/meetings/{scoped_world['meeting']}").status_code == 404
    assert get_page(client, "/cases").select("[data-testid=cases-table] tbody tr") == []


def test_case_search_and_case_page_are_scoped_and_audited(client, app, agencies, make_user, scoped_world):
    partner = make_user("partner", agencies["IDVA"])
    sign_in(client, partner.email, partner.password)
    page = get_page(client, "/cases?reference=cr/")
    assert [text_of(a) for a in page.select("[data-testid=cases-table] tbody a")] == ["CR/INVOLVED", "CR/OWNS-ACTION"]
    with app.app_context():
        unrelated_case = db.session.scalar(select(Case.id).where(Case.reference == "CR/UNRELATED"))
        involved_case = db.session.scalar(select(Case.id).where(Case.reference == "CR/INVOLVED"))
    assert client.get(f"/cases/{unrelated_case}").status_code == 404
    case_page = get_page(client, f"/cases/{involved_case}")
    assert text_of(case_page.h1) == "CR/INVOLVED"
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "case_viewed" in actions and "access_not_found" in actions and "case_search" in actions


def test_chair_case_page_shows_every_review_and_action(
    client, app, chair, agencies, make_meeting, add_review, add_action, query_counter
):
    first = make_meeting(-60, chair=chair)
    review = add_review(first, "CR/HIST", grade=3, agencies=[agencies["HOU"]])
    add_action(first, agencies["HOU"], review_id=review, description="Housing review")
    add_review(make_meeting(-5, chair=chair), "CR/HIST", grade=1)
    with app.app_context():
        case_id = db.session.scalar(select(Case.id))
    with query_counter() as statements:
        page = get_page(client, f"/cases/{case_id}")
    sections = page.select("[data-testid=case-review]")
    assert len(sections) == 2
    assert "Repeat" in text_of(sections[0]) and "Grade 1" in text_of(sections[0])
    assert "Housing review" in text_of(sections[1])
    # The session, the case, its reviews with their meetings, their actions, the audit event: the page
    # shows no agencies or themes, so they are not read.
    assert len(statements) == 5, "\n".join(statements)


def test_manager_reads_but_cannot_record(client, app, agencies, make_user, scoped_world):
    manager = make_user("manager", agencies["POL"])
    sign_in(client, manager.email, manager.password)
    page = get_page(client, f"/meetings/{scoped_world['meeting']}")
    assert len(page.select("[data-testid=case-review]")) == 3
    assert page.select("form[method=post][action*='/meetings/']") == []
    assert page.select("a[href$='/approve'], a[href$='/agenda'], a[href$='/attendance']") == []
    agenda = f"/meetings/{scoped_world['meeting']}/agenda"
    assert client.post(agenda, data={"rows-0-reference": "X", "save": "y"}).status_code == 403
    with app.app_context():
        assert db.session.get(Meeting, scoped_world["meeting"]).status == "scheduled"


def test_case_search_queries_do_not_grow_with_cases(client, chair, make_meeting, add_review, query_counter):
    meeting_id = make_meeting(-1, chair=chair)
    for n in range(3):
        add_review(meeting_id, f"CR/{n}")
    with query_counter() as few:
        get_page(client, "/cases")
    for n in range(3, 40):
        add_review(meeting_id, f"CR/{n}")
    with query_counter() as many:
        page = get_page(client, "/cases")
    assert len(many) == len(few)
    assert len(page.select("[data-testid=cases-table] tbody tr")) == 25


def test_a_partner_sees_only_their_agencys_actions_in_a_cases_history_and_page(
    client, app, agencies, make_user, make_meeting, add_review, add_action
):
    chair = make_user("chair", agencies["POL"])
    earlier = make_meeting(-28, chair=chair, attended_by=[agencies["IDVA"], agencies["POL"]])
    first = add_review(earlier, "CR/HISTORY", agencies=[agencies["IDVA"], agencies["POL"]])
    add_action(earlier, agencies["IDVA"], review_id=first, description="Refer to the IDVA service")
    add_action(earlier, agencies["POL"], review_id=first, description="Police safeguarding visit")
    later = make_meeting(-1, chair=chair, attended_by=[agencies["IDVA"], agencies["POL"]])
    again = add_review(later, "CR/HISTORY", agencies=[agencies["IDVA"]])
    add_action(later, agencies["IDVA"], review_id=again, description="Book the IDVA follow-up call")
    add_action(later, agencies["POL"], review_id=again, description="Police second visit")
    partner = make_user("partner", agencies["IDVA"])
    sign_in(client, partner.email, partner.password)
    page = get_page(client, f"/meetings/{later}/reviews/{again}")
    history = text_of(page.select_one("[data-testid=case-history]"))
    assert "Refer to the IDVA service" in history and "Book the IDVA follow-up call" in history
    assert "Police safeguarding visit" not in history and "Police second visit" not in history
    # This review's own actions: the agency's, and the other agency's as a count beside them.
    raised_here = text_of(page.select_one("[data-testid=actions-table]"))
    assert "Book the IDVA follow-up call" in raised_here and "Refer to the IDVA service" not in raised_here
    assert "Police second visit" not in text_of(page.select_one("main"))
    assert text_of(page.select_one("[data-testid=hidden-actions]")).startswith("1 action belongs to other agencies")
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.reference == "CR/HISTORY"))
    case_page = text_of(get_page(client, f"/cases/{case_id}").select_one("main"))
    assert "Refer to the IDVA service" in case_page and "Police safeguarding visit" not in case_page

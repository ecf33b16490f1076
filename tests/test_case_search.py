"""Case search: reference, review dates, theme, grade, risk, flags, agency and words in the summary and
findings (full text: FTS5 on SQLite, tsvector on PostgreSQL), scoped to what the user may see, paginated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import ON_POSTGRES, get_page, sign_in, text_of
from tracker.extensions import db
from tracker.models import AuditEvent, CaseReview, LearningTheme, RiskLevel
from tracker.timeutil import london_today


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def chair(login_as, agencies):
    return login_as("chair", agencies["POL"])


def record(app, review_id, *, summary="", findings="", grade=None, risk=None, flags=(), theme=None, feedback=""):
    with app.app_context():
        review = db.session.get(CaseReview, review_id)
        review.summary, review.findings, review.feedback_to_officer = summary, findings, feedback
        review.scrutiny_grade = grade
        review.risk_level = RiskLevel(risk) if risk else None
        for flag in flags:
            setattr(review, flag, True)
        if theme:
            review.themes = [db.session.get(LearningTheme, theme)]
        db.session.commit()


@pytest.fixture
def world(app, agencies, chair, make_meeting, add_review):
    with app.app_context():
        themes = [LearningTheme(name="Strangulation missed"), LearningTheme(name="Good practice")]
        db.session.add_all(themes)
        db.session.commit()
        missed, good = (theme.id for theme in themes)
    earlier = make_meeting(-100, chair=chair, attended_by=[agencies["IDVA"]])
    later = make_meeting(-10, chair=chair, attended_by=[agencies["IDVA"], agencies["HOU"]])
    a = add_review(earlier, "CR/SEARCH/A", agencies=[agencies["IDVA"]])
    b = add_review(later, "CR/SEARCH/B", agencies=[agencies["HOU"]])
    c = add_review(later, "CR/SEARCH/C", agencies=[agencies["IDVA"]])
    record(
        app, a, summary="Officer visited the address twice", findings="Strangulation was not recorded on the DASH",
        grade=3, risk="high", flags=["non_fatal_strangulation"], theme=missed,
    )  # fmt: skip
    record(
        app, b, summary="Neighbour called the police", findings="Good response by the housing officer",
        grade=1, risk="standard", flags=["stalking"], theme=good, feedback="zebrafeedback for the officer only",
    )  # fmt: skip
    record(app, c, summary="Café owner raised concerns", findings="Visit delayed by a week", grade=2, risk="medium")
    return {"a": a, "b": b, "c": c, "missed": missed, "good": good, "earlier": earlier, "later": later}


def found(client, query: str) -> list[str]:
    page = get_page(client, f"/cases?{query}")
    return sorted(text_of(a) for a in page.select("[data-testid=cases-table] tbody a"))


A, B, C = "CR/SEARCH/A", "CR/SEARCH/B", "CR/SEARCH/C"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", [A, B, C]),
        ("words=visit", [A, C]),  # "visited" and "Visit"
        ("words=STRANGULATION+recorded", [A]),  # every word, any case
        ("words=strangulation+police", []),
        ("words=police+housing", [B]),  # one in the summary, one in the findings
        ("words=cafe", [C]),  # accents folded
        ("words=zebrafeedback", []),  # police-only feedback is never searched
        ("reference=cr/search/b", [B]),
        ("grade=3", [A]),
        ("risk=standard", [B]),
        ("flags=stalking", [B]),
        ("flags=stalking&flags=non_fatal_strangulation", []),
        ("agency={IDVA}", [A, C]),
        ("theme={missed}", [A]),
        ("reviewed_from={recent}", [B, C]),
        ("reviewed_to={recent}", [A]),
        ("words=visit&grade=2", [C]),
    ],
)
def test_each_criterion_narrows_the_search(client, agencies, world, query, expected):
    recent = (london_today() - timedelta(days=20)).isoformat()
    assert found(client, query.format(IDVA=agencies["IDVA"].id, missed=world["missed"], recent=recent)) == expected


@pytest.mark.parametrize(
    "words",
    ['"', "visit OR police", "NEAR(visit police)", "*", "visit*", "a:b", "-police", "'; DROP TABLE cases; --", "€€€"],
)
def test_anything_typed_is_searched_as_words_never_as_query_syntax(client, world, words):
    response = client.get("/cases", query_string={"words": words})
    assert response.status_code == 200


def test_bad_criteria_are_ignored_with_a_message(client, world):
    page = get_page(client, "/cases?grade=9&risk=extreme&flags=made_up&reviewed_from=2027-13-01&theme=x")
    banner = text_of(page.select_one(".govuk-notification-banner"))
    for message in (
        "Choose a scrutiny grade from 1 to 4",
        "Choose a risk level from the list",
        "Choose risk factors from the list",
        "Reviewed from must be a real date",
        "Choose the learning theme from the list",
    ):
        assert message in banner
    assert len(page.select("[data-testid=cases-table] tbody tr")) == 3
    page = get_page(client, "/cases?reviewed_from=2026-02-01&reviewed_to=2026-01-01")
    assert "The review date range is the wrong way round" in text_of(page.select_one(".govuk-notification-banner"))


def test_a_partner_finds_only_what_their_agency_may_see(client, app, agencies, world, make_user):
    partner = make_user("partner", agencies["IDVA"])
    client.post("/sign-out")
    sign_in(client, partner.email, partner.password)
    assert found(client, "") == [A, C]
    assert found(client, "words=police") == []  # only in a review that involves housing
    assert found(client, f"agency={agencies['HOU'].id}") == []
    assert found(client, "grade=1") == []


def test_the_index_follows_every_change_to_a_review(client, app, world, chair):
    record(app, world["a"], summary="Refuge place found", findings="Multi-agency plan agreed")
    assert found(client, "words=refuge") == [A]
    assert found(client, "words=strangulation") == []
    assert found(client, "words=delayed") == [C]
    response = client.post(f"/meetings/{world['later']}/reviews/{world['c']}/remove", data={})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(CaseReview, world["c"]) is None
    assert found(client, "words=delayed") == []


def test_results_are_paginated_and_the_links_keep_the_search(client, app, world, chair, make_meeting, add_review):
    app.config["CASES_PER_PAGE"] = 2
    meeting = make_meeting(-5, chair=chair)
    for n in range(3):
        record(app, add_review(meeting, f"CR/MORE/{n}"), findings="Visit planned", grade=2)
    page = get_page(client, "/cases?words=visit&grade=2")
    assert len(page.select("[data-testid=cases-table] tbody tr")) == 2
    caption = text_of(page.select_one("[data-testid=cases-table] caption"))
    assert caption.startswith("4 cases")
    next_link = page.select_one(".govuk-pagination__next a")["href"]
    assert "words=visit" in next_link and "grade=2" in next_link and "page=2" in next_link
    last = get_page(client, next_link)
    assert len(last.select("[data-testid=cases-table] tbody tr")) == 2


def test_a_search_is_audited_without_the_words_typed(client, app, world):
    get_page(client, "/cases?words=strangulation+recorded&grade=3")
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case_search"))
    assert "grade=3" in event.detail and "words=2" in event.detail
    assert "strangulation" not in event.detail.lower()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: set TEST_DATABASE_URL to a PostgreSQL database")
def test_postgres_answers_the_words_from_the_index(app, world):
    """The search's to_tsvector() expression is the indexed one, so the planner can use the GIN index."""
    from sqlalchemy import text

    from tracker.fulltext import matches_words

    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        query = select(CaseReview.id).where(matches_words("postgresql", ["visit"]))
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {compiled}")))
    assert "ix_case_reviews_fulltext" in plan


def test_a_page_past_the_end_is_empty_and_still_gives_the_total(client, world):
    page = get_page(client, "/cases?words=visit&page=7")
    assert page.select("[data-testid=cases-table]") == []
    assert "of 2." in text_of(page.select_one("main"))


def test_the_case_list_pages_most_recently_reviewed_first_without_a_total(
    client, app, chair, make_meeting, add_review, monkeypatch
):
    """The unfiltered list walks back through the reviews (tracker.cases.queries._latest_cases), reading
    more when too few cases were found: the order is the grouped order (latest review first, cases of
    the same meeting by id), each case once, with its review count, one case a page here."""
    from tracker.cases import queries

    monkeypatch.setattr(queries, "_FIRST_WALK", 1)
    app.config["CASES_PER_PAGE"] = 1
    oldest, middle, newest = (make_meeting(days, chair=chair) for days in (-30, -20, -10))
    for meeting, references in (
        (oldest, ["CR/W/1", "CR/W/2", "CR/W/3"]),
        (middle, ["CR/W/4", "CR/W/2", "CR/W/5"]),
        (newest, ["CR/W/6", "CR/W/1"]),
    ):
        for reference in references:
            add_review(meeting, reference)
    listed, url = [], "/cases"
    while url:
        page = get_page(client, url)
        assert text_of(page.select_one("[data-testid=cases-table] caption")) == "Cases, most recently reviewed first"
        [row] = page.select("[data-testid=cases-table] tbody tr")
        listed.append((text_of(row.select_one("a")), text_of(row.select("td")[-1])))
        assert page.select(".govuk-pagination__item") == []  # no page numbers: the list is not counted
        assert bool(page.select(".govuk-pagination__prev")) == (len(listed) > 1)
        next_link = page.select_one(".govuk-pagination__next a")
        url = next_link["href"] if next_link else None
    assert listed == [
        ("CR/W/1", "2"), ("CR/W/6", "1"), ("CR/W/2", "2"), ("CR/W/4", "1"), ("CR/W/5", "1"), ("CR/W/3", "1")
    ]  # fmt: skip
    assert get_page(client, "/cases?page=7").select_one("[data-testid=no-cases]") is not None
    counted = get_page(client, "/cases?reference=CR/W")
    assert text_of(counted.select_one("[data-testid=cases-table] caption")).startswith("6 cases")


def test_cases_of_meetings_at_the_same_time_are_listed_by_case(
    client, app, chair, make_meeting, add_review, monkeypatch
):
    """Two meetings at the same time: the walk reads the later-made one first, and the first read ends
    inside their reviews; cases reviewed at the same time are still listed by case, as grouping lists them."""
    from tracker.cases import queries
    from tracker.models import Meeting

    monkeypatch.setattr(queries, "_FIRST_WALK", 1)
    app.config["CASES_PER_PAGE"] = 1
    first, second = make_meeting(-10, chair=chair), make_meeting(-9, chair=chair)
    add_review(first, "CR/SAME/1")
    for n in range(2, 6):
        add_review(second, f"CR/SAME/{n}")
    with app.app_context():
        db.session.get(Meeting, second).starts_at = db.session.get(Meeting, first).starts_at
        db.session.commit()
    listed = [
        text_of(get_page(client, f"/cases?page={number}").select_one("[data-testid=cases-table] tbody a"))
        for number in range(1, 6)
    ]
    assert listed == [f"CR/SAME/{n}" for n in range(1, 6)]


def test_a_partner_counts_only_the_reviews_their_agency_may_see(
    client, app, agencies, make_user, make_meeting, add_review
):
    """A case reviewed twice, the IDVA service involved once: a partner of it sees the case with one
    matching review, the chair with two; a page number far past the end answers, with no cases."""
    chair = make_user("chair", agencies["POL"])
    first = make_meeting(-20, chair=chair, attended_by=[agencies["IDVA"]])
    second = make_meeting(-10, chair=chair, attended_by=[agencies["HOU"]])
    add_review(first, "CR/COUNTED", agencies=[agencies["IDVA"]])
    add_review(second, "CR/COUNTED", agencies=[agencies["HOU"]])

    def listed(user, query=""):
        reader = app.test_client()
        sign_in(reader, user.email, user.password)
        page = get_page(reader, f"/cases{query}")
        return [(text_of(row.select_one("a")), text_of(row.select("td")[-1])) for row in page.select("tbody tr")]

    assert listed(make_user("partner", agencies["IDVA"])) == [("CR/COUNTED", "1")]
    assert listed(chair) == [("CR/COUNTED", "2")]
    assert listed(chair, "?page=100000") == []

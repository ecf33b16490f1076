"""Period reports: scrutiny figures, learning themes, attendance and accountability by agency, each
against the previous period, as page tables, SVG charts, CSV and the board report PDF; partners see
their own agency's figures only."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import UTC, date, datetime

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from tests.conftest import get_page, parse, text_of
from tracker.reports.periods import Period, parse_period, period_of, quarters_ending_with

SECOND_QUARTER_2025 = "period=quarter&of=2025-05-01"


# Periods ---------------------------------------------------------------------------------------


def test_a_quarter_month_and_year_contain_the_day_and_compare_with_the_one_before():
    quarter = period_of("quarter", date(2025, 5, 17))
    assert (quarter.first, quarter.last) == (date(2025, 4, 1), date(2025, 6, 30))
    assert (quarter.previous().first, quarter.previous().last) == (date(2025, 1, 1), date(2025, 3, 31))
    assert period_of("quarter", date(2025, 1, 1)).previous().first == date(2024, 10, 1)
    month = period_of("month", date(2024, 2, 10))
    assert (month.first, month.last) == (date(2024, 2, 1), date(2024, 2, 29))
    assert period_of("year", date(2025, 12, 31)).previous() == Period("year", date(2024, 1, 1), date(2024, 12, 31))


def test_a_custom_period_compares_with_the_same_number_of_days_before_it():
    period, problems = parse_period({"period": "custom", "from": "2025-03-10", "to": "2025-03-19"})
    assert problems == []
    before = period.previous()
    assert (before.first, before.last, before.days) == (date(2025, 2, 28), date(2025, 3, 9), 10)


def test_eight_quarters_end_with_the_quarter_the_period_ends_in():
    quarters = quarters_ending_with(period_of("month", date(2025, 5, 3)))
    assert len(quarters) == 8
    assert quarters[-1].first == date(2025, 4, 1)
    assert quarters[0].first == date(2023, 7, 1)


@pytest.mark.parametrize(
    "args",
    [
        {"period": "fortnight"},
        {"period": "quarter", "of": "2025-02-30"},
        {"period": "month", "of": "9999-01-01"},
        {"period": "custom", "from": "2025-03-10"},
        {"period": "custom", "from": "2025-03-10", "to": "2025-03-01"},
        {"period": "custom", "from": "2020-01-01", "to": "2025-01-01"},
    ],
)
def test_a_period_that_cannot_be_used_is_a_problem_not_an_error(args):
    _period, problems = parse_period(args)
    assert problems


def test_the_reports_page_says_what_is_wrong_with_the_period(client, login_as):
    login_as("manager")
    response = client.get("/reports?period=custom&from=2025-03-10&to=2025-03-01")
    assert response.status_code == 400
    page = get_page(client, "/reports?period=custom&from=2025-03-10&to=2025-03-01", status=400)
    summary = text_of(page.select_one(".govuk-error-summary"))
    assert "The last day must be the same as or after the first day" in summary
    assert page.select_one(".govuk-error-summary a")["href"] == "#period-to"


# Figures on a known world ----------------------------------------------------------------------


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(app, make_agency, make_user):
    """Q1 2025: one meeting; Q2 2025: two held meetings and a cancelled one (which never counts).

    Housing and the IDVA service are invited; Housing comes to both Q2 meetings, the IDVA service
    sends apologies once and misses once. Actions: Housing completes one on time and one late after an
    agreed 31-day extension (late against the original due date); the IDVA service completes in Q2 an
    action from Q1 and leaves one from Q2 open and overdue.
    """
    from tracker.extensions import db
    from tracker.models import (
        Action,
        ActionStatus,
        Agency,
        Attendance,
        AttendanceStatus,
        Case,
        CaseReview,
        ExtensionRequest,
        LearningTheme,
        Meeting,
        MeetingStatus,
        RiskLevel,
        User,
    )
    from tracker.models.extension import ExtensionStatus

    housing_ref = make_agency(name="Housing test agency", code="HSG")
    idva_ref = make_agency(name="IDVA test agency", code="IDV")
    police_ref = make_agency(name="Police test unit", code="POL")
    chair_ref = make_user("chair", police_ref)
    with app.app_context():
        housing, idva = db.session.get(Agency, housing_ref.id), db.session.get(Agency, idva_ref.id)
        chair = db.session.get(User, chair_ref.id)
        dash, bail = LearningTheme(name="DASH not completed"), LearningTheme(name="Bail conditions not considered")
        db.session.add_all([dash, bail])

        def meeting(day, status, invited):
            m = Meeting(starts_at=_at(day), location="Room", chair=chair, status=status, invited_agencies=invited)
            db.session.add(m)
            return m

        m1 = meeting(date(2025, 2, 10), MeetingStatus.APPROVED, [housing])
        m2 = meeting(date(2025, 4, 14), MeetingStatus.APPROVED, [housing, idva])
        m3 = meeting(date(2025, 5, 12), MeetingStatus.APPROVED, [housing, idva])
        m4 = meeting(date(2025, 6, 9), MeetingStatus.CANCELLED, [housing, idva])
        db.session.add_all(
            [
                Attendance(meeting=m2, agency=housing, person_name="Housing officer", status=AttendanceStatus.PRESENT),
                Attendance(meeting=m2, agency=idva, person_name="IDVA officer", status=AttendanceStatus.APOLOGIES),
                Attendance(meeting=m3, agency=housing, person_name="Housing officer", status=AttendanceStatus.PRESENT),
            ]
        )

        def review(m, reference, grade, risk, agencies, themes, repeat=False, **flags):
            r = CaseReview(
                meeting=m,
                case=Case(reference=reference),
                scrutiny_grade=grade,
                risk_level=risk,
                agencies=agencies,
                themes=themes,
                is_repeat=repeat,
                findings="Findings",
                **flags,
            )
            db.session.add(r)
            return r

        review(m1, "RPT/1", 2, RiskLevel.MEDIUM, [housing], [dash])
        review(m2, "RPT/2", 1, RiskLevel.HIGH, [housing, idva], [dash, bail], repeat=True, stalking=True)
        review(m3, "RPT/3", 3, RiskLevel.STANDARD, [idva], [bail])
        review(m3, "RPT/4", 1, RiskLevel.HIGH, [housing], [])
        review(m4, "RPT/5", 4, RiskLevel.HIGH, [housing], [dash])

        def action(m, agency, due, status=ActionStatus.OPEN, closed=None, original=None):
            a = Action(
                meeting=m,
                description=f"Action for {agency.code}",
                owning_agency=agency,
                due_date=due,
                original_due_date=original or due,
                status=status,
                closed_at=_at(closed) if closed else None,
            )
            db.session.add(a)
            return a

        action(m2, housing, date(2025, 4, 30), ActionStatus.COMPLETED, closed=date(2025, 4, 28))
        extended = action(
            m2, housing, date(2025, 5, 31), ActionStatus.COMPLETED, closed=date(2025, 5, 20), original=date(2025, 4, 30)
        )
        action(m3, housing, date(2025, 6, 20), ActionStatus.CANCELLED, closed=date(2025, 5, 30))
        action(m3, idva, date(2025, 6, 1))
        action(m1, idva, date(2025, 3, 1), ActionStatus.COMPLETED, closed=date(2025, 4, 10))
        db.session.flush()
        db.session.add(
            ExtensionRequest(
                action=extended,
                requested_at=_at(date(2025, 4, 25)),
                current_due_date=date(2025, 4, 30),
                requested_due_date=date(2025, 5, 31),
                reason="Waiting for a housing panel",
                status=ExtensionStatus.AGREED,
                decided_by_id=chair.id,
                decided_at=_at(date(2025, 4, 29)),
            )
        )
        db.session.commit()
    return {"housing": housing_ref, "idva": idva_ref, "police": police_ref}


def _table(page, caption_start: str) -> dict[str, list[str]]:
    """A table's rows by their first cell, found by the start of its caption."""
    for table in page.select("table"):
        caption = table.select_one("caption")
        if caption is not None and text_of(caption).startswith(caption_start):
            return {
                text_of(row.select_one("th, td")): [text_of(cell) for cell in row.select("td")]
                for row in table.select("tbody tr")
            }
    raise AssertionError(f"no table captioned {caption_start!r}")


def test_the_report_counts_reviews_grades_risks_and_themes_against_the_previous_quarter(client, login_as, world):
    login_as("manager", world["police"])
    page = get_page(client, f"/reports?{SECOND_QUARTER_2025}")
    assert text_of(page.select_one("#report")) == "April to June 2025"
    headline = _table(page, "Headline figures")
    assert headline["Meetings held"][:2] == ["2", "1"]  # the cancelled meeting never counts
    assert headline["Cases reviewed"] == ["3", "1", "up 2"]
    assert headline["Repeat cases"][:2] == ["1", "0"]
    assert headline["Repeat rate"][:2] == ["33%", "0%"]
    grades = _table(page, "Scrutiny grades")
    assert grades["1: Consistent with policy"][:2] == ["2", "0"]
    assert grades["2: Appropriate, with observations"][:2] == ["0", "1"]
    assert grades["3: Inappropriate or inconsistent with policy"][:2] == ["1", "0"]
    assert grades["4: No conclusion – re-score at the next meeting"][:2] == ["0", "0"]
    risks = _table(page, "Risk levels")
    assert risks["High"][:2] == ["2", "0"] and risks["Medium"][:2] == ["0", "1"]
    assert _table(page, "Risk flags")["Stalking"][:2] == ["1", "0"]
    themes = _table(page, "Reviews tagged")
    assert themes["Bail conditions not considered"][:2] == ["2", "0"]
    assert themes["DASH not completed"][:2] == ["1", "1"]
    # The eight quarters end with April to June 2025: Q1 then Q2 are the last two columns.
    assert themes["DASH not completed"][-2:] == ["1", "1"]
    involved = _table(page, "Cases reviewed that each agency")
    assert involved["Housing test agency"][:2] == ["2", "1"]
    assert involved["IDVA test agency"][:2] == ["2", "0"]


def test_attendance_counts_each_invited_agency_as_attended_apologies_or_absent(client, login_as, world):
    login_as("manager", world["police"])
    page = get_page(client, f"/reports?{SECOND_QUARTER_2025}")
    attendance = _table(page, "Held meetings each agency was invited to")
    # Invited, attended, apologies, absent, rate: this period (the previous period).
    assert attendance["Housing test agency"] == ["2 (1)", "2 (0)", "0 (0)", "0 (1)", "100% (0%)"]
    assert attendance["IDVA test agency"] == ["2 (0)", "0 (0)", "1 (0)", "1 (0)", "0% (–)"]


def test_accountability_measures_completion_against_the_original_due_date(client, login_as, world):
    login_as("manager", world["police"])
    page = get_page(client, f"/reports?{SECOND_QUARTER_2025}")
    rows = _table(page, "Actions by owning agency")
    # Each cell is "this period (previous period)"; columns as ACCOUNTABILITY_COLUMNS.
    housing = rows["Housing test agency"]
    assert housing == [
        "3 (0)",  # raised (the cancelled one was raised too)
        "2 (0)",  # completed
        "1 (0)",  # on time: the extended action was late against its original due date
        "50% (–)",
        "0 (0)",  # open at the end
        "0 (0)",  # overdue at the end
        "1 (0)",  # extensions agreed
        "31 (0)",  # days added
        "25 (–)",  # median days to complete: 14 and 36
    ]
    idva = rows["IDVA test agency"]
    assert idva == ["1 (1)", "1 (0)", "0 (0)", "0% (–)", "1 (1)", "1 (1)", "0 (0)", "0 (0)", "59 (–)"]


def test_every_chart_is_svg_with_a_title_a_description_of_its_values_and_no_script(client, login_as, world):
    login_as("manager", world["police"])
    response = client.get(f"/reports?{SECOND_QUARTER_2025}")
    page = parse(response)
    charts = page.select(".app-chart svg")
    assert len(charts) == 8
    for chart in charts:
        assert chart["role"] == "img"
        title_id, desc_id = chart["aria-labelledby"].split()
        assert text_of(page.find(id=title_id)) and text_of(page.find(id=desc_id))
        assert chart.select("script") == []
        assert [text_of(title) for title in chart.select("title")] == [text_of(page.find(id=title_id))]
    grades = next(chart for chart in charts if text_of(chart.select_one("title")) == "Scrutiny grades")
    assert "1: Consistent with policy: 2 in April to June 2025, 0 in January to March 2025" in text_of(
        grades.select_one("desc")
    )
    # The charts' one stylesheet each is allowed by this response's nonce, and nothing else inline.
    nonces = {style["nonce"] for style in page.select("svg style")}
    assert len(nonces) == 1
    assert f"'nonce-{nonces.pop()}'" in response.headers["Content-Security-Policy"]
    assert page.select("svg [style]") == []
    # Each chart is named by a short id of its own (not pygal's random UUID), and its style rules are
    # scoped by that id, so no chart's rules reach another's.
    ids = [chart["id"] for chart in charts]
    assert len(set(ids)) == 8 and all(re.fullmatch(r"chart-[0-9a-f]{10}", chart_id) for chart_id in ids)
    for chart in charts:
        rules = chart.select_one("style").get_text()
        assert f"#{chart['id']} " in rules and not re.search(r"#chart-[0-9a-f]{8}-", rules)
        assert set(re.findall(r"#(chart-[0-9a-f-]+)", rules)) == {chart["id"]}


def _csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_each_table_downloads_as_csv_with_the_same_figures(client, login_as, world):
    login_as("manager", world["police"])
    response = client.get(f"/reports/accountability.csv?{SECOND_QUARTER_2025}")
    assert response.status_code == 200
    assert 'filename="report-accountability-2025-04-01-to-2025-06-30.csv"' in response.headers["Content-Disposition"]
    header, *rows = _csv(response)
    assert header[:3] == ["Agency", "Raised (April to June 2025)", "Completed (April to June 2025)"]
    by_agency = {row[0]: row for row in rows}
    assert by_agency["Housing test agency"][1:10] == ["3", "2", "1", "50%", "0", "0", "1", "31", "25"]
    for table in ("headline", "grades", "risks", "themes", "agencies", "attendance", "overdue"):
        assert client.get(f"/reports/{table}.csv?{SECOND_QUARTER_2025}").status_code == 200
    assert client.get("/reports/secrets.csv").status_code == 404
    assert client.get("/reports/grades.csv?period=custom&from=2025-01-01").status_code == 400


def test_a_theme_name_that_looks_like_a_formula_is_neutralised_in_the_csv(app, client, login_as, world):
    from tracker.extensions import db
    from tracker.models import LearningTheme

    with app.app_context():
        db.session.scalars(db.select(LearningTheme).filter_by(name="DASH not completed")).one().name = "=HYPERLINK(1)"
        db.session.commit()
    login_as("manager", world["police"])
    rows = _csv(client.get(f"/reports/themes.csv?{SECOND_QUARTER_2025}"))
    assert "'=HYPERLINK(1)" in [row[0] for row in rows]


def _board_report(client, query: str):
    """Ask for the board report, follow to its page (the job runs at once in tests), download it."""
    asked = client.get(f"/reports/board.pdf?{query}")
    assert asked.status_code == 302 and "/reports/documents/" in asked.headers["Location"]
    page = get_page(client, asked.headers["Location"])
    assert text_of(page.select_one(".govuk-panel__title")) == "Your document is ready"
    assert page.select_one("meta[http-equiv=refresh]") is None
    return client.get(page.select_one("a.govuk-button")["href"])


def test_the_board_report_pdf_has_the_figures_charts_and_overdue_actions(client, login_as, world):
    login_as("manager", world["police"])
    response = _board_report(client, SECOND_QUARTER_2025)
    assert response.status_code == 200
    assert 'filename="board-report-2025-04-01-to-2025-06-30.pdf"' in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert reader.metadata.title == "Scrutiny board report, April to June 2025"
    assert "OFFICIAL-SENSITIVE" in text
    for expected in ("Headline figures", "Cases reviewed", "Learning themes", "Attendance by agency"):
        assert expected in text
    assert "Accountability by agency" in text and "Housing test agency" in text
    assert "Overdue actions" in text and "Action for IDV" in text
    assert "Scrutiny grades" in text  # the chart's own title is drawn as text in the PDF


def test_downloads_are_audited(app, client, login_as, world):
    from tracker.extensions import db
    from tracker.models import AuditEvent

    login_as("manager", world["police"])
    client.get(f"/reports?{SECOND_QUARTER_2025}")
    _board_report(client, SECOND_QUARTER_2025)
    client.get(f"/reports/grades.csv?{SECOND_QUARTER_2025}")
    with app.app_context():
        events = {event.action for event in db.session.scalars(db.select(AuditEvent))}
    assert {"period_report_viewed", "document_requested", "board_report_downloaded", "period_report_exported"} <= events


def test_a_partner_sees_only_its_own_agency_figures_on_the_page_in_csv_and_in_the_pdf(client, login_as, world):
    login_as("partner", world["housing"])
    page = get_page(client, f"/reports?{SECOND_QUARTER_2025}")
    main = text_of(page.select_one("main"))
    assert "Housing test agency" in main
    assert "IDVA test agency" not in main and "IDV" not in main
    assert list(_table(page, "Held meetings each agency was invited to")) == ["Housing test agency"]
    assert list(_table(page, "Actions by owning agency")) == ["Housing test agency"]
    # Reviews: only those Housing is involved in, at meetings it attended.
    assert _table(page, "Headline figures")["Cases reviewed"][:2] == ["2", "0"]
    for table in ("headline", "grades", "risks", "themes", "agencies", "attendance", "accountability", "overdue"):
        response = client.get(f"/reports/{table}.csv?{SECOND_QUARTER_2025}")
        assert "-hsg.csv" in response.headers["Content-Disposition"]
        assert "IDVA test agency" not in response.get_data(as_text=True)
    pdf = _board_report(client, SECOND_QUARTER_2025)
    assert "-hsg.pdf" in pdf.headers["Content-Disposition"]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.get_data())).pages).split())
    assert "For Housing test agency" in text
    assert "IDVA test agency" not in text and "Action for IDV" not in text


def test_the_report_uses_a_fixed_number_of_queries_however_many_meetings(app, client, login_as, world, query_counter):
    login_as("manager", world["police"])
    with query_counter() as small:
        client.get(f"/reports?{SECOND_QUARTER_2025}")
    from tracker.extensions import db
    from tracker.models import Meeting, MeetingStatus, User

    with app.app_context():
        chair = db.session.scalars(db.select(User).filter_by(role="chair")).first()
        for day in range(1, 28):
            db.session.add(
                Meeting(starts_at=_at(date(2025, 5, day)), location="Room", chair=chair, status=MeetingStatus.APPROVED)
            )
        db.session.commit()
    with query_counter() as large:
        client.get(f"/reports?{SECOND_QUARTER_2025}")
    assert len(large) == len(small)


# Kept renderings ---------------------------------------------------------------------------------


def test_the_figures_are_kept_until_something_changes_them(app, client, login_as, world, query_counter):
    from tracker.extensions import db
    from tracker.models import Action, ActionStatus

    login_as("manager", world["police"])
    url = f"/reports?{SECOND_QUARTER_2025}"
    with query_counter() as first:
        page = get_page(client, url)
    assert "Figures calculated at" in text_of(page.select_one("[data-testid=calculated-at]"))
    with query_counter() as second:
        again = get_page(client, url)
    assert len(second) < len(first), "the second view recounted the figures"
    assert _table(again, "Actions by owning agency")["IDVA test agency"][1] == "1 (0)"
    # Completing the IDVA service's open action changes its figures: the next view counts afresh.
    with app.app_context():
        action = db.session.scalars(db.select(Action).filter_by(status=ActionStatus.OPEN)).one()
        action.status, action.closed_at = ActionStatus.COMPLETED, _at(date(2025, 6, 5))
        db.session.commit()
    changed = get_page(client, url)
    assert _table(changed, "Actions by owning agency")["IDVA test agency"][1] == "2 (0)"


def test_preparing_a_document_keeps_the_figures(app, client, login_as, world, query_counter):
    """A document job is bookkeeping, like an audit event: it changes no figure, so it must not
    throw away the kept figures (under load, every board report asked for did)."""
    from tracker.extensions import db
    from tracker.models import DocumentJob, User

    login_as("manager", world["police"])
    url = f"/reports?{SECOND_QUARTER_2025}"
    with query_counter() as first:
        get_page(client, url)
    with app.app_context():
        someone = db.session.scalars(db.select(User)).first()
        db.session.add(DocumentJob(user_id=someone.id, kind="board_report", title="Board report", filename="b.pdf"))
        db.session.commit()
    with query_counter() as second:
        get_page(client, url)
    assert len(second) < len(first), "a document job made the next view count the figures again"


def test_a_partner_never_gets_the_figures_kept_for_every_agency(client, login_as, world):
    login_as("manager", world["police"])
    assert "IDVA test agency" in text_of(get_page(client, f"/reports?{SECOND_QUARTER_2025}").select_one("main"))
    client.post("/sign-out")
    login_as("partner", world["housing"])
    main = text_of(get_page(client, f"/reports?{SECOND_QUARTER_2025}").select_one("main"))
    assert "Housing test agency" in main and "IDVA test agency" not in main


def test_kept_figures_belong_to_their_database(app, tmp_path):
    """Two apps in one process (as bench/pages.py runs the demo and ten years side by side) never
    share kept figures: the same scope, period and day on another database is counted afresh."""
    from tracker import create_app
    from tracker.reports import cache

    key = ("every agency", "a period", date(2025, 6, 30))
    other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'other.sqlite'}"})
    with app.app_context():
        assert cache.figures(key, lambda: "figures of the first database")[0] == "figures of the first database"
    with other.app_context():
        assert cache.figures(key, lambda: "figures of the other database")[0] == "figures of the other database"
    with app.app_context():
        assert cache.figures(key, lambda: "counted again")[0] == "figures of the first database"


def test_reading_the_audit_log_keeps_the_figures(app, client, login_as, world, query_counter):
    """The audit log's list of event kinds is a read written in SQL text: it must not count as a
    write that throws the kept figures away (every view of the audit log did)."""
    from tracker.admin.queries import audit_actions
    from tracker.extensions import db

    login_as("manager", world["police"])
    url = f"/reports?{SECOND_QUARTER_2025}"
    with query_counter() as first:
        get_page(client, url)
    with app.app_context():
        audit_actions()
        db.session.commit()
    with query_counter() as again:
        get_page(client, url)
    assert len(again) < len(first), "the audit log's read made the next view count the figures again"


def test_signing_in_keeps_the_figures_and_a_bulk_change_to_a_figure_does_not(
    app, client, login_as, make_user, world, query_counter
):
    """Signing in writes only bookkeeping (the second step's code claimed by a bulk UPDATE, spent
    throttles, the session): the kept figures stay. A bulk change to an action still recounts them."""
    import sqlalchemy as sa

    from tests.conftest import sign_in
    from tracker.extensions import db
    from tracker.models import Action

    someone = make_user("chair", world["police"], second_factor="app")
    login_as("manager", world["police"])
    url = f"/reports?{SECOND_QUARTER_2025}"
    with query_counter() as first:
        get_page(client, url)
    assert sign_in(app.test_client(), someone.email, someone.password).status_code == 302
    with query_counter() as after_sign_in:
        get_page(client, url)
    assert len(after_sign_in) < len(first), "a sign-in made the next view count the figures again"
    with app.app_context():
        db.session.execute(sa.update(Action).values(description="Changed in bulk"))
        db.session.commit()
    with query_counter() as after_change:
        get_page(client, url)
    assert len(after_change) == len(first)


def _legend_lines(svg: str) -> tuple[list[tuple[float, str]], float]:
    """Each legend entry of a chart as (its baseline from the top of the chart, its text), and the
    chart's height (its viewBox)."""
    chart = BeautifulSoup(svg, "html.parser")
    height = float(chart.svg["viewbox"].split()[3])
    legends = chart.select_one("g.legends")
    top = float(re.search(r"translate\([\d.]+,? ([\d.]+)\)", legends["transform"]).group(1))
    return [(top + float(text["y"]), text.get_text()) for text in legends.select("text")], height


@pytest.mark.parametrize("themes", [1, 2, 5, 6])
def test_every_legend_entry_has_a_line_of_its_own_inside_the_chart(themes):
    from tracker.reports import charts

    agencies = ["Independent Domestic Violence Advisor (IDVA) service", "Council – Safer Communities service"]
    bars = charts.compared_bars(
        "Completed on time", agencies, [85, 100], [43, 38], period_label="October to December 2026",
        previous_label="July to September 2026", unit="%", horizontal=True,
    )  # fmt: skip
    names = [f"Learning theme number {index} with a long name" for index in range(themes)]
    quarters = [f"Quarter {index}" for index in range(8)]
    trend = charts.trend_lines("Learning themes over eight quarters", quarters, [(name, [1] * 8) for name in names])
    for chart, expected in ((bars, ["October to December 2026", "July to September 2026"]), (trend, names)):
        lines, height = _legend_lines(chart.svg)
        assert [text for _, text in lines] == expected
        baselines = [baseline for baseline, _ in lines]
        assert len(set(baselines)) == len(baselines)  # none beside another (long names ran together)
        assert max(baselines) < height  # none cut off below the chart


def test_a_horizontal_charts_bars_read_from_the_top_in_the_order_given_as_its_table_does():
    from tracker.reports import charts

    labels = ["First agency", "Second agency", "Third agency"]
    chart = charts.compared_bars(
        "Order", labels, [1, 2, 3], [3, 2, 1], period_label="now", previous_label="before", horizontal=True
    )
    svg = BeautifulSoup(chart.svg, "html.parser")
    tops = {text.get_text(): float(text["y"]) for text in svg.select("g.axis.y text") if text.get_text() in labels}
    assert sorted(tops, key=tops.get) == labels
    # The description, for a screen reader, keeps the order given too.
    assert svg.select_one("desc").get_text().startswith("First agency: 1 in now, 3 in before;")


def test_a_period_not_over_yet_says_its_figures_run_to_today_wherever_it_is_named(client, login_as, world):
    """This quarter so far, set against the whole of the last one: said, so that "down 17" is not misread."""
    login_as("manager", world["police"])
    page = get_page(client, "/reports")  # this quarter, not over yet
    heading = text_of(page.select_one("#report"))
    assert heading.endswith("(so far)")
    unfinished = page.select_one("[data-testid=unfinished]")
    assert "This period is not over: its figures run to today" in text_of(unfinished)
    assert unfinished.select_one("a")["href"].startswith("/reports?period=quarter&of=")
    headline = page.select_one("table.govuk-table thead")
    assert "(so far)" in text_of(headline)
    ended = get_page(client, f"/reports?{SECOND_QUARTER_2025}")
    assert text_of(ended.select_one("#report")) == "April to June 2025"
    assert ended.select_one("[data-testid=unfinished]") is None


@pytest.mark.parametrize("horizontal", [False, True])
def test_each_bars_value_is_printed_beyond_its_end_on_white_not_over_the_bar(horizontal):
    """Inside a bar a value was black on blue (3.8:1) or on grey (2.7:1), short of the 4.5:1 text needs,
    and a bar of 0 has no inside: each value is printed past its bar's end, in the text colour on the
    chart's white. (pygal keeps the bars and their values in the same order and coordinates.)"""
    from tracker.reports import charts

    chart = charts.compared_bars(
        "Completed on time", ["Police", "IDVA service", "Housing"], [100, 0, 87.5], [96.4, 100, 3],
        period_label="now", previous_label="before", unit="%", horizontal=horizontal,
    )  # fmt: skip
    svg = BeautifulSoup(chart.svg, "html.parser")
    bars, values = svg.select("g.bars rect.rect"), svg.select("g.text-overlay text.value")
    assert len(bars) == len(values) == 6
    for bar, value in zip(bars, values, strict=True):
        if horizontal:  # starting after the bar's end (a bar of 0 has no width)
            assert value["text-anchor"] == "start"
            assert float(value["x"]) > float(bar["x"]) + float(bar.get("width", 0)), value
        else:  # its baseline above the bar's top
            assert float(value["y"]) < float(bar["y"]), value
    assert "#b1b4b6" in svg.select_one("style").get_text()  # guide lines grey, not black, behind the values


@pytest.mark.parametrize("agencies", [2, 8, 15, 25])
def test_a_horizontal_bars_value_fits_inside_the_chart_after_the_longest_bar(agencies):
    """pygal keeps room for printed values by the chart's height, which a horizontal bar's end does not
    use: "100%" after a full bar ran past the chart's right edge and was cut off."""
    from tracker.reports import charts

    names = [f"Council – Safer Communities service {index}" for index in range(agencies)]
    chart = charts.compared_bars(
        "Completed on time", names, [100] * agencies, [99.5] * agencies,
        period_label="now", previous_label="before", unit="%", horizontal=True,
    )  # fmt: skip
    svg = BeautifulSoup(chart.svg, "html.parser")
    width = float(svg.svg["viewbox"].split()[2])
    plot_left = float(re.search(r"translate\(([\d.]+)", svg.select_one("g.plot")["transform"]).group(1))
    for value in svg.select("g.text-overlay text.value"):
        # Liberation Sans at 12 px: digits 6.7 px wide, "%" 10.7 and "." 3.3; 8 px a character is wider.
        right = plot_left + float(value["x"]) + 8 * len(value.get_text())
        assert right <= width, (value.get_text(), right, width)
    # Beside such names the plot is narrow: the value axis has a few steps, far enough apart to read
    # (ten ran together: "0% 10%20%30%").
    steps = sorted(float(text["x"]) for text in svg.select("g.axis.x text"))
    assert 3 <= len(steps) <= 7, steps
    assert min(b - a for a, b in itertools.pairwise(steps)) >= 8 * len("100%") + 6, steps


@pytest.mark.parametrize(
    ("counts", "axis"), [((3, 2, 0), "0 1 2 3"), ((19, 13, 8), "0 5 10 15 20"), ((0, 0, 0), "0 1")]
)
def test_a_horizontal_charts_axis_counts_in_whole_steps_up_to_the_largest_value(counts, axis):
    """Cases are counted whole: pygal's own steps read "0, 0.8, 1.6, 2.4" for a few, with no label at the top."""
    from tracker.reports import charts

    chart = charts.compared_bars(
        "Scrutiny grades", ["Grade 1", "Grade 2", "Not graded"], counts, counts,
        period_label="now", previous_label="before", horizontal=True,
    )  # fmt: skip
    svg = BeautifulSoup(chart.svg, "html.parser")
    assert " ".join(text.get_text() for text in svg.select("g.axis.x text")) == axis

"""Exports a board or an auditor can rely on: one filter gives the same actions in the list, the CSV and
the summary PDF, each says its filter in words and in its file name; the CSV cannot run a formula and
opens as UTF-8; calendar events keep one identity whatever address the feed was fetched from."""

import csv
import io
import re
from datetime import timedelta

import pytest
from icalendar import Calendar

from tests.conftest import get_page, sign_in, text_of
from tracker.actions.filters import STATUS_CHOICES
from tracker.calendar_feed import token_digest
from tracker.extensions import db
from tracker.models import OPEN_STATUSES, Action, ActionStatus, User
from tracker.spreadsheet import neutralise
from tracker.timeutil import LONDON, format_date, london_today


@pytest.fixture
def agencies(make_agency):
    return {
        "POL": make_agency(name="Police", code="POL"),
        "IDVA": make_agency(name="IDVA service", code="IDVA"),
        "HOU": make_agency(name="Housing options", code="HOU"),
    }


@pytest.fixture
def actions(app, agencies, make_user, make_meeting, add_action):
    """Actions in every status, for every agency, due in the past, soon and later."""
    chair = make_user("chair", agencies["POL"], name="Panel Chair")
    meeting_id = make_meeting(-30, chair=chair, attended_by=[agencies["IDVA"], agencies["HOU"]])
    statuses = ["open", "in_progress", "completed", "cancelled"]
    for code in ("POL", "IDVA", "HOU"):
        for index, due_in_days in enumerate((-10, -1, 3, 40)):
            add_action(
                meeting_id,
                agencies[code],
                due_in_days=due_in_days,
                status=statuses[(index + len(code)) % 4],
                description=f"{code} work due in {due_in_days} days",
            )
        add_action(meeting_id, agencies[code], due_in_days=-5, status="open", description=f"{code} overdue")
    return meeting_id


def expected(app, status: str, agency_id: int | None, dates: dict) -> list[str]:
    """The actions a filter should select, worked out here without the application's query."""
    today = london_today()
    with app.app_context():
        chosen = []
        for action in db.session.query(Action).order_by(Action.due_date, Action.id):
            if status == "still_open" and action.status not in OPEN_STATUSES:
                continue
            if status not in ("still_open", "") and action.status != ActionStatus(status):
                continue
            if agency_id is not None and action.owning_agency_id != agency_id:
                continue
            if dates.get("overdue") and not (action.status in OPEN_STATUSES and action.due_date < today):
                continue
            if "due_from" in dates and action.due_date < dates["due_from"]:
                continue
            if "due_to" in dates and action.due_date > dates["due_to"]:
                continue
            chosen.append(action.reference)
        return chosen


DATE_FILTERS = {
    "no dates": {},
    "overdue only": {"overdue": True},
    "due from": {"due_from": 0},
    "due by": {"due_to": 2},
    "due between": {"due_from": -6, "due_to": 5},
}


def query_for(status, agency_id, dates) -> str:
    today = london_today()
    args = [f"status={status}"]
    if agency_id is not None:
        args.append(f"agency={agency_id}")
    if dates.get("overdue"):
        args.append("overdue=1")
    for key in ("due_from", "due_to"):
        if key in dates:
            args.append(f"{key}={(today + timedelta(days=dates[key])).isoformat()}")
    return "&".join(args)


def listed(client, url) -> tuple[list[str], object]:
    first = page = get_page(client, url)
    references = []
    while True:
        references += [text_of(a) for a in page.select("[data-testid=actions-list] tbody a")]
        following = page.select_one(".govuk-pagination__next a")
        if following is None:
            return references, first
        page = get_page(client, following["href"])


def pdf_text(data: bytes) -> tuple[str, str]:
    from pypdf import PdfReader

    pages = [re.sub(r"\s+", " ", page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]
    return pages[0], " ".join(pages)


def filename(response) -> str:
    return re.fullmatch(r'attachment; filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)


@pytest.mark.parametrize("status", [value for value, _label in STATUS_CHOICES])
def test_every_status_agency_and_date_filter_gives_the_same_actions_everywhere(
    app, client, agencies, actions, login_as, status
):
    login_as("manager", agencies["POL"])
    app.config["ACTIONS_PER_PAGE"] = 4  # the list's pages are walked, not just the first
    today = london_today()
    matched_any = False
    for agency in [None, *agencies.values()]:
        for label, offsets in DATE_FILTERS.items():
            dates = {k: v if k == "overdue" else today + timedelta(days=v) for k, v in offsets.items()}
            query = query_for(status, agency.id if agency else None, offsets)
            want = expected(app, status, agency.id if agency else None, dates)
            where = f"{query} ({label})"
            refs, first_page = listed(client, f"/actions?{query}")
            assert refs == want, where
            csv_response = client.get(first_page.select_one("[data-testid=csv-link]")["href"])
            rows = list(csv.DictReader(io.StringIO(csv_response.data.decode("utf-8-sig"))))
            assert [row["Action"] for row in rows] == want, where
            pdf_response = client.get(first_page.select_one("[data-testid=pdf-link]")["href"])
            assert pdf_response.status_code == 200, where
            first, whole = pdf_text(pdf_response.data)
            assert set(re.findall(r"A-\d{5}", whole)) == set(want), where
            # The document and both file names say the filter.
            words = re.search(r"Actions included: (.*?)\. Figures as at", first).group(1)
            assert (f"owned by {agency.name}" if agency else "every agency") in words, where
            assert dict(STATUS_CHOICES)[status].lower() in words, where
            assert ("overdue only" in words) is bool(offsets.get("overdue")), where
            assert ("due " in words.replace("overdue", "")) is ("due_from" in offsets or "due_to" in offsets), where
            for response, prefix in ((csv_response, "actions-"), (pdf_response, "action-summary-")):
                name = filename(response)
                assert name.startswith(prefix + (agency.code.lower() if agency else "all-agencies")), where
                slug = {"still_open": "open-or-in-progress", "": "any-status"}.get(status, status.replace("_", "-"))
                assert f"-{slug}-" in name, where
                assert ("-overdue-" in name) is bool(offsets.get("overdue")), where
                assert name.endswith(today.isoformat() + (".csv" if prefix == "actions-" else ".pdf")), where
            matched_any = matched_any or bool(want)
    assert matched_any


def test_summary_names_the_owner_and_meeting_it_was_filtered_to_but_the_file_name_does_not(
    app, client, agencies, actions, login_as, make_user
):
    officer = make_user("partner", agencies["HOU"], name="Named Officer")
    with app.app_context():
        action = db.session.query(Action).filter_by(description="HOU overdue").one()
        action.owner_id = officer.id
        db.session.commit()
    login_as("chair", agencies["POL"])
    response = client.get(f"/reports/actions.pdf?status=&owner={officer.id}&meeting={actions}&q=overdue")
    first, _whole = pdf_text(response.data)
    assert "named owner Named Officer" in first and "raised at the meeting on" in first
    assert "description containing “overdue”" in first
    name = filename(response)
    assert "named" not in name.lower() and "officer" not in name.lower()
    assert "-one-owner-" in name and "-meeting-" in name and "-text-search-" in name


def test_a_partners_summary_and_csv_never_name_another_agencys_account_or_a_meeting_it_may_not_see(
    app, client, agencies, actions, make_meeting, make_user
):
    from tracker.models import Meeting

    officer = make_user("partner", agencies["HOU"], name="Housing Officer")
    chair = make_user("chair", agencies["POL"])
    hidden = make_meeting(-60, chair=chair, attended_by=[agencies["HOU"]])  # IDVA neither attended nor was on it
    with app.app_context():
        hidden_day = db.session.get(Meeting, hidden).starts_at.astimezone(LONDON).date()
    partner = make_user("partner", agencies["IDVA"])
    sign_in(client, partner.email, partner.password)
    response = client.get(f"/reports/actions.pdf?status=&owner={officer.id}&meeting={hidden}")
    first, whole = pdf_text(response.data)
    assert "one named owner" in first and "one meeting" in first
    for text in (whole, filename(response)):
        assert "Housing Officer" not in text and format_date(hidden_day) not in text
        assert hidden_day.isoformat() not in text
    csv_response = client.get(f"/actions/export.csv?status=&owner={officer.id}&meeting={hidden}")
    assert hidden_day.isoformat() not in filename(csv_response) and "meeting-any" in filename(csv_response)
    # The meeting the partner did attend is still named.
    with app.app_context():
        seen_day = db.session.get(Meeting, actions).starts_at.astimezone(LONDON).date()
    first, _whole = pdf_text(client.get(f"/reports/actions.pdf?status=&meeting={actions}").data)
    assert f"raised at the meeting on {format_date(seen_day)}" in first


# CSV --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("|calc", "'|calc"),
        ("\tTAB", "'\tTAB"),
        ("＝HYPERLINK()", "'＝HYPERLINK()"),  # full-width equals sign
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠x", "'＠x"),
        ("｜x", "'｜x"),
        ("﹦1", "'﹦1"),  # small equals sign
        ("−1", "'−1"),  # minus sign
        ("  =1", "'  =1"),  # spaces before a formula
        ("\u3000=1", "'\u3000=1"),  # an ideographic space before it
        ("Safe text\n=HYPERLINK()", "Safe text\n'=HYPERLINK()"),
        ("first\r\n+1\rsafe\n@x", "first\r\n'+1\rsafe\n'@x"),
        ("A plain note", "A plain note"),
        ("Email a@b.example", "Email a@b.example"),
        ("", ""),
    ],
)
def test_the_formula_guard_covers_look_alikes_the_pipe_and_every_line(cell, safe):
    assert neutralise(cell) == safe


def test_csv_is_utf8_with_a_byte_order_mark_and_guards_every_cell(app, client, agencies, actions, login_as):
    with app.app_context():
        action = db.session.query(Action).filter_by(description="IDVA overdue").one()
        action.description = 'Notes\n＝HYPERLINK("http://evil.example")\n|calc'
        db.session.commit()
    login_as("chair", agencies["POL"])
    response = client.get(f"/actions/export.csv?status=&agency={agencies['IDVA'].id}")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    (row,) = [row for row in rows if row["Description"].startswith("Notes")]
    assert row["Description"] == "Notes\n'＝HYPERLINK(\"http://evil.example\")\n'|calc"
    assert response.data.decode("utf-8-sig").startswith("Action,Description")


# Calendar ---------------------------------------------------------------------------------


def test_calendar_uids_come_from_the_configured_domain_not_the_host_header(app, agencies, actions, make_user):
    partner = make_user("partner", agencies["IDVA"])
    with app.app_context():
        db.session.get(User, partner.id).calendar_token_hash = token_digest("feed-token")
        db.session.commit()
    app.config["CALENDAR_UID_DOMAIN"] = "tracker.example.org"
    uids = []
    for host in ("localhost", "tracker.internal:8443"):
        response = app.test_client().get("/calendar/feed-token.ics", headers={"Host": host})
        assert response.status_code == 200
        events = Calendar.from_ical(response.data).walk("VEVENT")
        assert events
        uids.append(sorted(str(event["UID"]) for event in events))
    assert uids[0] == uids[1]
    assert all(uid.endswith("@tracker.example.org") for uid in uids[0])


def test_a_partner_in_the_combination_test_sees_only_their_agency(app, client, agencies, actions, make_user):
    partner = make_user("partner", agencies["IDVA"])
    sign_in(client, partner.email, partner.password)
    refs, _page = listed(client, "/actions?status=")
    assert refs == expected(app, "", agencies["IDVA"].id, {})

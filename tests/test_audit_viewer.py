"""The audit viewer: filters, keyset pages, CSV export, "who saw case X, and when", and its indexes."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES, get_page, parse, text_of
from tracker.extensions import db
from tracker.models import AuditEvent, Case
from tracker.timeutil import format_datetime

BASE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA")}


@pytest.fixture
def admin(login_as, agencies):
    return login_as("admin", agencies["POL"])


def add_events(app, *rows):
    """Each row: (days after BASE, user id or None, action, object type, object id, detail)."""
    with app.app_context():
        for days, user_id, action, object_type, object_id, *detail in rows:
            db.session.add(
                AuditEvent(
                    at=BASE + timedelta(days=days),
                    user_id=user_id,
                    ip_address="192.0.2.1",
                    action=action,
                    object_type=object_type,
                    object_id=None if object_id is None else str(object_id),
                    detail=detail[0] if detail else "",
                )
            )
        db.session.commit()


def listed(client, url):
    """(event, record) of each row on the page, newest first."""
    page = get_page(client, url)
    table = page.select_one("[data-testid=audit-table]")
    rows = table.select("tbody tr") if table else []
    return [(text_of(row.select("td")[2]), text_of(row.select("td")[3])) for row in rows]


@pytest.fixture
def people(make_user, agencies):
    return {
        "chair": make_user("chair", agencies["POL"], name="Panel Chair"),
        "idva": make_user("partner", agencies["IDVA"], name="IDVA Officer"),
        "idva2": make_user("partner", agencies["IDVA"], name="Second IDVA Officer"),
    }


def test_each_filter_selects_what_it_says(client, app, admin, people):
    chair, idva, idva2 = people["chair"].id, people["idva"].id, people["idva2"].id
    add_events(
        app,
        (1, chair, "meeting_viewed", "meetings", 3),
        (2, idva, "action_viewed", "actions", 7),
        (3, idva2, "action_updated", "actions", 7),
        (4, idva, "case_viewed", "cases", 9),
        (40, chair, "meeting_viewed", "meetings", 4),
    )
    base = "/admin/audit?from=2026-06-01&to=2026-06-30"
    assert listed(client, base) == [
        ("case viewed", "Case 9"),
        ("action updated", "Action 7"),
        ("action viewed", "Action 7"),
        ("meeting viewed", "Meeting 3"),
    ]
    assert [event for event, _ in listed(client, f"/admin/audit?user={idva}")] == ["case viewed", "action viewed"]
    agency = people["idva"].agency_id
    assert len(listed(client, f"/admin/audit?agency={agency}")) == 3
    assert listed(client, "/admin/audit?action=meeting_viewed") == [
        ("meeting viewed", "Meeting 4"),
        ("meeting viewed", "Meeting 3"),
    ]
    assert [event for event, _ in listed(client, "/admin/audit?type=actions&record=7")] == [
        "action updated",
        "action viewed",
    ]
    assert listed(client, "/admin/audit?from=2026-07-01&to=2026-07-31") == [("meeting viewed", "Meeting 4")]
    assert listed(client, f"/admin/audit?user={idva}&type=actions") == [("action viewed", "Action 7")]
    chosen = get_page(client, f"/admin/audit?user={idva}")
    assert chosen.select_one("input#account")["value"] == people["idva"].email
    shown = text_of(chosen.select_one("[data-testid=account-shown]"))
    assert shown == f"Events of IDVA Officer ({people['idva'].email})."
    page = get_page(client, "/admin/audit")
    kinds = [option["value"] for option in page.select("select#action option")]
    assert {"meeting_viewed", "action_viewed", "action_updated", "case_viewed", "sign_in"} <= set(kinds)


@pytest.mark.parametrize(
    "query",
    [
        "user=%C2%B2",
        "agency=99999999999999999999",
        "action=DROP%20TABLE",
        "type=secrets",
        "record=-1&type=cases",
        "from=9999-12-31",
        "from=2026-07-01&to=2026-06-01",
        "before=abc",
        "after=99999999999",
        "case=%00%E2%80%AE",
    ],
)
def test_filters_that_cannot_be_used_are_ignored_with_a_message(client, admin, query):
    page = get_page(client, f"/admin/audit?{query}")
    assert page.h1 and text_of(page.h1) == "Audit log"


def test_pages_run_newest_first_by_keyset_without_gaps_or_repeats(client, app, admin, people):
    app.config["AUDIT_EVENTS_PER_PAGE"] = 20
    add_events(app, *[(index / 1000, people["chair"].id, "meeting_viewed", "meetings", index) for index in range(45)])
    seen, url, pages = [], "/admin/audit?action=meeting_viewed", []
    while url:
        page = get_page(client, url)
        pages.append(url)
        seen += [text_of(row.select("td")[3]) for row in page.select("[data-testid=audit-table] tbody tr")]
        older = page.select_one(".govuk-pagination__next a")
        url = older["href"] if older else None
    assert seen == [f"Meeting {index}" for index in reversed(range(45))]
    assert len(pages) == 3
    # From the second page, "Newer events" goes back to exactly the first.
    second = get_page(client, pages[1])
    newer = second.select_one(".govuk-pagination__prev a")["href"]
    first_again = [
        text_of(row.select("td")[3]) for row in get_page(client, newer).select("[data-testid=audit-table] tbody tr")
    ]
    assert first_again == seen[:20]
    assert get_page(client, newer).select_one(".govuk-pagination__prev") is None


@pytest.mark.parametrize("merged", [True, False])
def test_an_agencys_events_page_in_order_across_its_accounts(client, app, admin, people, monkeypatch, merged):
    """An agency's accounts are read one by one and merged (or, past a limit, as one IN condition)."""
    from tracker.admin import queries

    if not merged:
        monkeypatch.setattr(queries, "MAX_ACCOUNTS_MERGED", 1)
    app.config["AUDIT_EVENTS_PER_PAGE"] = 7
    idva, idva2, chair = people["idva"].id, people["idva2"].id, people["chair"].id
    add_events(
        app,
        *[(index / 100, (idva, idva2, chair)[index % 3], "meeting_viewed", "meetings", index) for index in range(30)],
    )
    seen, url = [], f"/admin/audit?agency={people['idva'].agency_id}&action=meeting_viewed"
    while url:
        page = get_page(client, url)
        seen += [text_of(row.select("td")[3]) for row in page.select("[data-testid=audit-table] tbody tr")]
        older = page.select_one(".govuk-pagination__next a")
        url = older["href"] if older else None
    assert seen == [f"Meeting {index}" for index in reversed(range(30)) if index % 3 != 2]


def test_an_account_is_found_by_its_email_address_and_an_unknown_address_lists_no_events(client, app, admin, people):
    idva = people["idva"]
    add_events(
        app,
        (1, idva.id, "action_viewed", "actions", 7),
        (2, people["idva2"].id, "action_viewed", "actions", 8),
        (3, people["chair"].id, "meeting_viewed", "meetings", 3),
    )
    typed = f"  {idva.email.upper()} "
    assert listed(client, f"/admin/audit?account={typed}") == [("action viewed", "Action 7")]
    # The address decides over a number in the same query string (it is what the form shows).
    assert listed(client, f"/admin/audit?account={idva.email}&user={people['chair'].id}") == [
        ("action viewed", "Action 7")
    ]
    page = get_page(client, f"/admin/audit?account={idva.email}")
    # Once found, the account is named by its number in the page's links, not by its address.
    assert page.select_one("[data-testid=export-link]")["href"] == f"/admin/audit/export.csv?user={idva.id}"
    assert page.select_one("input#account")["value"] == idva.email
    assert page.select_one("input#account")["autocomplete"] == "off"

    unknown = get_page(client, "/admin/audit?account=nobody%40example.org")
    assert text_of(unknown.select_one("[data-testid=no-account]")) == (
        "No account has the email address nobody@example.org."
    )
    assert unknown.select_one("[data-testid=audit-table]") is None
    assert unknown.select_one("input#account")["value"] == "nobody@example.org"
    response = client.get("/admin/audit/export.csv?account=nobody%40example.org")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert response.status_code == 200 and rows[1:] == []
    gone = get_page(client, "/admin/audit?user=987654")
    assert text_of(gone.select_one("[data-testid=no-account]")) == "No account has the number 987654."
    assert gone.select_one("[data-testid=audit-table]") is None
    # The filter form no longer lists every account: the page's size does not grow with them.
    assert get_page(client, "/admin/audit").select("select#user") == []


def test_an_accounts_page_links_to_its_events_in_the_audit_log(client, admin, people):
    page = get_page(client, f"/admin/users/{people['idva'].id}")
    link = page.select_one("[data-testid=account-events]")
    assert link["href"] == f"/admin/audit?user={people['idva'].id}"
    assert get_page(client, link["href"]).select_one("input#account")["value"] == people["idva"].email


def test_csv_export_is_filtered_neutralised_audited_and_not_cached(client, app, admin, people):
    add_events(
        app,
        (1, people["idva"].id, "action_viewed", "actions", 7, '=HYPERLINK("http://x")'),
        (2, people["chair"].id, "meeting_viewed", "meetings", 3),
    )
    link = get_page(client, f"/admin/audit?user={people['idva'].id}").select_one("[data-testid=export-link]")["href"]
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:5] == ["When (UTC)", "Account", "Email", "Agency", "Event"]
    assert [(row[1], row[4], row[6], row[7]) for row in rows[1:]] == [
        ("IDVA Officer", "action_viewed", "7", '\'=HYPERLINK("http://x")')
    ]
    with app.app_context():
        exported = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "audit_log_exported"))
        assert exported.user_id == admin.id and exported.detail == f"1 events user={people['idva'].id}"


def test_an_export_too_large_is_refused_with_a_message(client, app, admin, people):
    app.config["AUDIT_EXPORT_MAX_ROWS"] = 2
    add_events(app, *[(index, people["chair"].id, "meeting_viewed", "meetings", index) for index in range(3)])
    response = client.get("/admin/audit/export.csv?action=meeting_viewed")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/audit?")
    banner = parse(client.get(response.headers["Location"])).select_one(".govuk-notification-banner")
    assert "More than 2 events match" in text_of(banner)


def test_who_saw_a_case_and_when(client, app, admin, people, agencies, make_meeting, add_review, add_action):
    meeting = make_meeting(-7, chair=people["chair"])
    other_meeting = make_meeting(-14, chair=people["chair"])
    review = add_review(meeting, "CR/ASKED/1")
    other_review = add_review(other_meeting, "CR/OTHER/2")
    action = add_action(meeting, agencies["IDVA"], review_id=review)
    meeting_action = add_action(meeting, agencies["IDVA"])
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.reference == "CR/ASKED/1"))
        other_case = db.session.scalar(sa.select(Case.id).where(Case.reference == "CR/OTHER/2"))
    chair, idva, idva2 = people["chair"].id, people["idva"].id, people["idva2"].id
    add_events(
        app,
        (1, idva, "case_viewed", "cases", case_id),
        (2, idva2, "case_review_viewed", "case_reviews", review),
        (3, idva, "action_viewed", "actions", action),
        (4, chair, "meeting_viewed", "meetings", meeting),
        (5, chair, "minutes_pdf_downloaded", "meetings", meeting),
        (6, chair, "attendance_recorded", "meetings", meeting),  # not a disclosure of the case
        (7, idva, "action_viewed", "actions", meeting_action),  # not on the case
        (8, idva, "case_viewed", "cases", other_case),
        (9, idva, "case_review_viewed", "case_reviews", other_review),
        (10, chair, "meeting_viewed", "meetings", other_meeting),
    )
    # (Dates: the factories' own events, made today, also touch the case and are left out here.)
    page = get_page(client, "/admin/audit?case=cr/asked/1&to=2026-06-30")
    assert text_of(page.select_one("[data-testid=case-heading]")) == "Who saw case CR/ASKED/1, and when"
    rows = [
        [text_of(cell) for cell in row.select("td")[1:4]] for row in page.select("[data-testid=audit-table] tbody tr")
    ]
    assert rows == [
        ["Panel Chair (POL)", "minutes pdf downloaded", f"Meeting {meeting}"],
        ["Panel Chair (POL)", "meeting viewed", f"Meeting {meeting}"],
        ["IDVA Officer (IDVA)", "action viewed", f"Action {action}"],
        ["Second IDVA Officer (IDVA)", "case review viewed", f"Case review {review}"],
        ["IDVA Officer (IDVA)", "case viewed", f"Case {case_id} (CR/ASKED/1)"],
    ]
    narrowed = listed(client, f"/admin/audit?case=CR/ASKED/1&user={idva}&to=2026-06-30")
    assert narrowed == [("action viewed", f"Action {action}"), ("case viewed", f"Case {case_id} (CR/ASKED/1)")]
    with app.app_context():
        searched = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "case_access_searched"))
        assert (searched.object_type, searched.object_id) == ("cases", str(case_id))
    missing = get_page(client, "/admin/audit?case=CR/NOPE")
    assert text_of(missing.select_one("[data-testid=case-heading]")) == "No case has the reference CR/NOPE"
    assert missing.select_one("[data-testid=no-events]")


def test_the_audit_page_shows_no_case_content(
    client, app, admin, people, make_meeting, add_review, add_action, agencies
):
    meeting = make_meeting(-7, chair=people["chair"])
    review = add_review(meeting, "CR/CONTENT/1")
    add_action(meeting, agencies["IDVA"], review_id=review, description="Private narrative of the action")
    add_events(app, (1, people["idva"].id, "case_review_viewed", "case_reviews", review))
    body = text_of(get_page(client, "/admin/audit?case=CR/CONTENT/1"))
    assert "Private narrative" not in body


@pytest.mark.skipif(ON_POSTGRES, reason="reads SQLite's query plans; PostgreSQL plans depend on table statistics")
@pytest.mark.parametrize(
    "filters, index",
    [
        ({"user_id": 1}, "ix_audit_events_user_at"),
        ({"action": "meeting_viewed"}, "ix_audit_events_action_at"),
        ({"object_type": "cases", "object_id": 4}, "ix_audit_events_object_at"),
        ({}, "ix_audit_events_at"),
    ],
)
def test_each_filter_is_answered_from_an_index(app, filters, index):
    from sqlalchemy.dialects import sqlite

    from tracker.admin.queries import AuditFilters, _audit_query

    with app.app_context():
        query = _audit_query(AuditFilters(**filters), None, None).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        sql = str(query.limit(51).compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        plan = " ".join(row[-1] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    assert f"INDEX {index}" in plan, plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.parametrize("status", [200, 302, 403, 500])
def test_a_requests_events_are_written_with_its_commit_and_only_the_kept_ones_with_its_rollback(app, status):
    """tracker.audit keeps a request's events with its session until the request ends: written in one
    INSERT with its commit (in the order recorded, each at the time it was recorded); dropped by a
    rollback, so that when the response is an error only those marked ``even_if_refused`` are written."""
    from flask import Response

    from tracker import audit

    def written():
        actions = ("first_event", "second_event", "kept_event")
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.at).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id)
        )
        return [(action, at) for action, at in rows]

    with app.test_request_context("/"):
        audit.record("second_event", detail="recorded, then rolled back with the work it described")
        db.session.rollback()
        audit.record("first_event", detail="one")
        audit.record("kept_event", even_if_refused=True)
        audit.record("second_event")
        assert written() == []  # nothing before the request ends
        app.process_response(Response(status=status))
        events = written()
    if status < 400:
        assert [action for action, _ in events] == ["first_event", "kept_event", "second_event"]
        assert events[0][1] <= events[1][1] <= events[2][1]
    else:
        assert [action for action, _ in events] == ["kept_event"]


def test_a_savepoints_rollback_keeps_the_requests_events(app):
    """Only the request's own rollback drops its events: a savepoint undone in the middle of the request
    (as saving an agency's return does on a concurrent insert) leaves them to be written."""
    from flask import Response

    from tracker import audit

    with app.test_request_context("/"):
        audit.record("first_event")
        with db.session.begin_nested() as savepoint:
            audit.record("second_event")
            savepoint.rollback()
        app.process_response(Response(status=200))
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.in_(("first_event", "second_event")))
        ).all()
    assert sorted(actions) == ["first_event", "second_event"]


def test_each_row_shows_when_who_with_their_agency_or_not_signed_in_and_from_where(client, app, admin, people):
    add_events(
        app,
        (1, None, "sign_in_refused", None, None, "unknown address"),
        (2, people["idva"].id, "case_viewed", "cases", 7),
    )
    page = get_page(client, "/admin/audit?to=2026-12-31&from=2000-01-01&action=sign_in_refused")
    assert [
        [text_of(cell) for cell in row.select("td")] for row in page.select("[data-testid=audit-table] tbody tr")
    ] == [
        [
            format_datetime(BASE + timedelta(days=1)),
            "Not signed in",
            "sign in refused",
            "",
            "unknown address",
            "192.0.2.1",
        ]
    ]
    page = get_page(client, f"/admin/audit?user={people['idva'].id}&action=case_viewed")
    assert [
        [text_of(cell) for cell in row.select("td")] for row in page.select("[data-testid=audit-table] tbody tr")
    ] == [[format_datetime(BASE + timedelta(days=2)), "IDVA Officer (IDVA)", "case viewed", "Case 7", "", "192.0.2.1"]]

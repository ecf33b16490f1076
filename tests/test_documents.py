"""PDF minutes and action summaries, read back with pypdf."""

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import ON_POSTGRES, approve_minutes, get_page, parse, sign_in, text_of
from tracker.documents import fetcher as fetcher_module
from tracker.extensions import db
from tracker.models import AuditEvent, MinutesDocument

INJECTIONS = "<link rel=attachment href=file:///etc/passwd> <img src=http://169.254.169.254/>"


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA", "HOU")}


@pytest.fixture
def chair(login_as, agencies):
    return login_as("chair", agencies["POL"], name="Panel Chair")


@pytest.fixture
def meeting(app, agencies, chair, make_meeting, add_review, add_action):
    meeting_id = make_meeting(
        -1, chair=chair, invited=list(agencies.values()), attended_by=[agencies["IDVA"], agencies["POL"]]
    )
    idva_review = add_review(meeting_id, "CR/DOC/IDVA", agencies=[agencies["IDVA"]], grade=2)
    police_review = add_review(meeting_id, "CR/DOC/POLICE-ONLY", agencies=[agencies["POL"]], grade=1)
    add_action(meeting_id, agencies["IDVA"], review_id=idva_review, description="IDVA safety plan")
    add_action(meeting_id, agencies["HOU"], review_id=idva_review, description="Housing management move")
    add_action(meeting_id, agencies["POL"], review_id=police_review, description="Police feedback")
    return meeting_id


def read_pdf(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def pages_text(reader) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages]


def assert_house_style(reader, *, title_start: str, draft: bool):
    texts = pages_text(reader)
    total = len(reader.pages)
    for number, text in enumerate(texts, start=1):
        assert text.count("OFFICIAL-SENSITIVE") >= 2, f"page {number}: marking missing in header or footer"
        assert f"Page {number} of {total}" in text
        assert ("DRAFT" in text) is draft
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (595, 842)  # A4
    metadata = reader.metadata
    assert metadata.title.startswith(title_start)
    assert metadata.author == "Domestic abuse scrutiny tracker"
    assert metadata.subject
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in root  # tagged (PDF/UA)
    names = root.get("/Names", {})
    assert "/EmbeddedFiles" not in names
    for page in reader.pages:
        for annotation in page.get("/Annots", []) or []:
            assert annotation.get_object().get("/Subtype") != "/FileAttachment"


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    return response


def test_approval_stores_the_pdf_once_and_serves_the_same_bytes(client, app, meeting):
    assert approve_minutes(client, meeting).status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(MinutesDocument))
        stored_hash, stored_bytes = stored.sha256, stored.pdf
    first = download(client, f"/reports/minutes/{meeting}.pdf")
    second = download(client, f"/reports/minutes/{meeting}.pdf")
    assert first.data == second.data == stored_bytes
    import hashlib

    assert hashlib.sha256(first.data).hexdigest() == stored_hash
    assert re.fullmatch(
        r'attachment; filename="minutes-\d{4}-\d{2}-\d{2}-r1.pdf"', first.headers["Content-Disposition"]
    )
    page = get_page(client, f"/meetings/{meeting}")
    assert text_of(page.select_one("[data-testid=sha256]")) == stored_hash
    reader = read_pdf(first.data)
    assert_house_style(reader, title_start="Minutes of the scrutiny meeting", draft=False)
    text = " ".join(pages_text(reader))
    for expected in (
        "CR/DOC/IDVA",
        "CR/DOC/POLICE-ONLY",
        "IDVA safety plan",
        "Housing management move",
        "Police feedback",
        "Approved record",
        "Panel Chair",
        "Attendance",
        "Matters arising",
        "Next meeting",
        "Appropriate, with observations",
    ):
        assert expected in text, expected


def test_reopening_and_approving_again_keeps_both_revisions(client, app, meeting):
    assert approve_minutes(client, meeting).status_code == 302
    revision_1 = download(client, f"/reports/minutes/{meeting}.pdf").data
    client.post(f"/meetings/{meeting}/reopen", data={"reason": "Attendance corrected"})
    draft = download(client, f"/reports/minutes/{meeting}.pdf")
    assert draft.headers["Content-Disposition"].endswith('-r2-draft.pdf"')
    assert_house_style(read_pdf(draft.data), title_start="Minutes", draft=True)
    client.post(f"/meetings/{meeting}/notes", data={"general_notes": "Corrected attendance", "any_other_business": ""})
    assert approve_minutes(client, meeting).status_code == 302
    revision_2 = download(client, f"/reports/minutes/{meeting}.pdf")
    assert revision_2.headers["Content-Disposition"].endswith('-r2.pdf"')
    assert "Corrected attendance" in " ".join(pages_text(read_pdf(revision_2.data)))
    assert download(client, f"/reports/minutes/{meeting}.pdf?revision=1").data == revision_1
    assert client.get(f"/reports/minutes/{meeting}.pdf?revision=7").status_code == 404
    page = get_page(client, f"/meetings/{meeting}")
    assert len(page.select("[data-testid=sha256]")) == 2


def test_partner_gets_only_the_redacted_minutes(client, app, agencies, meeting, make_user):
    assert approve_minutes(client, meeting).status_code == 302
    partner = make_user("partner", agencies["IDVA"])
    partner_client = app.test_client()
    sign_in(partner_client, partner.email, partner.password)
    for url in (f"/reports/minutes/{meeting}.pdf", f"/reports/minutes/{meeting}.pdf?revision=1"):
        response = download(partner_client, url)
        assert response.headers["Content-Disposition"].endswith('-redacted-IDVA.pdf"')
        reader = read_pdf(response.data)
        assert_house_style(reader, title_start="Minutes of the scrutiny meeting", draft=False)
        assert "(redacted for IDVA)" in reader.metadata.title
        text = " ".join(pages_text(reader))
        assert "Redacted for IDVA agency" in text and "CR/DOC/IDVA" in text and "IDVA safety plan" in text
        assert "CR/DOC/POLICE-ONLY" not in text and "Police feedback" not in text
        assert "Housing management move" not in text
        # The housing action is counted with the case it belongs to; the police-only case is not
        # shown at all, so neither is a count of its actions.
        assert re.search(
            r"IDVA safety plan IDVA .{0,60} Open 1 action belongs to other agencies and is not shown", text
        )
        assert text.count("belongs to other agencies") == 1 and "actions belong to other agencies" not in text
        assert "1 action on cases your agency is not involved in is not shown" in text
        assert "Produced for" in text

    outsider = make_user("partner", agencies["HOU"])
    outsider_client = app.test_client()
    sign_in(outsider_client, outsider.email, outsider.password)
    assert outsider_client.get(f"/reports/minutes/{meeting}.pdf").status_code == 404


def test_draft_minutes_name_who_they_were_produced_for(client, meeting):
    response = download(client, f"/reports/minutes/{meeting}.pdf")
    text = " ".join(pages_text(read_pdf(response.data)))
    assert "Produced for Panel Chair" in text and "DRAFT" in text


def test_minutes_for_a_missing_meeting_are_404(client, chair):
    assert client.get("/reports/minutes/99999.pdf").status_code == 404


def test_downloads_are_audited(client, app, meeting):
    download(client, f"/reports/minutes/{meeting}.pdf")
    download(client, "/reports/actions.pdf")
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "minutes_pdf_downloaded" in actions and "action_summary_downloaded" in actions


def test_action_summary_figures_chart_and_grouping(client, app, agencies, meeting, add_action):
    add_action(meeting, agencies["IDVA"], due_in_days=-5, description="Overdue IDVA work")
    add_action(meeting, agencies["IDVA"], due_in_days=-2, description="Less overdue IDVA work")
    response = download(client, "/reports/actions.pdf")
    assert re.fullmatch(
        r'attachment; filename="action-summary-all-agencies-open-or-in-progress-\d{4}-\d{2}-\d{2}.pdf"',
        response.headers["Content-Disposition"],
    )
    reader = read_pdf(response.data)
    assert_house_style(reader, title_start="Action summary", draft=False)
    text = " ".join(pages_text(reader))
    assert "By agency" in text and "Overdue actions by agency" in text and "Median days overdue" in text
    # Open or in progress: no completion columns (every one would be 0 and "–").
    assert "Completed on time" not in text
    assert text.index("Overdue IDVA work") < text.index("Less overdue IDVA work") < text.index("IDVA safety plan")
    assert "Produced for Panel Chair" in text


@pytest.mark.parametrize(
    ("status", "shown", "left_out"),
    [
        ("", ["Open", "Overdue", "Completed on time", "Median days overdue"], []),
        ("completed", ["Completed on time"], ["Median days overdue"]),
        ("in_progress", ["Open", "Median days overdue"], ["Completed on time"]),
        ("cancelled", ["Open", "Completed on time", "Median days overdue"], []),
    ],
)
def test_the_summarys_agency_table_has_the_columns_its_status_filter_can_fill(
    client, agencies, meeting, status, shown, left_out
):
    text = " ".join(pages_text(read_pdf(download(client, f"/reports/actions.pdf?status={status}").data)))
    by_agency = text[text.index("By agency") :]
    assert all(column in by_agency for column in shown)
    assert not any(column in by_agency for column in left_out)


def test_action_summary_filters_and_scope(client, app, agencies, meeting, make_user):
    response = download(client, f"/reports/actions.pdf?agency={agencies['HOU'].id}")
    text = " ".join(pages_text(read_pdf(response.data)))
    assert "Housing management move" in text and "IDVA safety plan" not in text
    partner = make_user("partner", agencies["IDVA"])
    partner_client = app.test_client()
    sign_in(partner_client, partner.email, partner.password)
    text = " ".join(pages_text(read_pdf(download(partner_client, "/reports/actions.pdf").data)))
    assert "IDVA safety plan" in text and "Housing management move" not in text and "Police feedback" not in text
    assert partner_client.get(f"/reports/actions.pdf?agency={agencies['HOU'].id}").status_code == 404


@pytest.mark.parametrize(
    "query, message",
    [
        ("due_from=2027-02-01&due_to=2027-01-01", "The due date range is the wrong way round"),
        ("meetings_from=2027-02-01&meetings_to=2027-01-01", "The meeting date range is the wrong way round"),
        ("due_from=31-02-2027", "Due from must be a real date"),
        ("status=sideways", "Choose a status from the list"),
    ],
)
def test_bad_summary_filters_get_a_message_and_no_document(client, meeting, query, message):
    response = client.get(f"/reports/actions.pdf?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in text_of(parse(response).select_one(".govuk-error-summary"))


def test_a_summary_over_the_row_limit_asks_to_narrow_the_filters(client, app, meeting):
    app.config["ACTION_SUMMARY_MAX_ROWS"] = 2
    response = client.get("/reports/actions.pdf")
    assert response.status_code == 400
    assert "Narrow the filters" in text_of(parse(response).select_one(".govuk-error-summary"))


def test_user_text_never_becomes_markup_or_a_fetch(client, app, agencies, chair, make_meeting, add_review, monkeypatch):
    fetched = []
    real_fetch = fetcher_module.StaticOnlyFetcher.fetch

    def recording_fetch(self, url, headers=None):
        fetched.append(url)
        return real_fetch(self, url, headers)

    monkeypatch.setattr(fetcher_module.StaticOnlyFetcher, "fetch", recording_fetch)
    meeting_id = make_meeting(0, chair=chair, attended_by=[agencies["IDVA"]])
    client.post(
        f"/meetings/{meeting_id}/attendance",
        data={
            "agency_id": agencies["IDVA"].id,
            "person_name": INJECTIONS[:120],
            "status": "present",
            "role": "member",
            "deputy_for": INJECTIONS[:120],
        },
    )
    review_id = add_review(meeting_id, "CR/INJECT")
    client.post(
        f"/meetings/{meeting_id}/reviews/{review_id}",
        data={
            "summary": INJECTIONS,
            "findings": INJECTIONS,
            "feedback_to_officer": INJECTIONS,
            "dash_score": "15",
            "risk_overridden": "y",
            "risk_level": "high",
            "risk_override_reason": INJECTIONS,
            "scrutiny_grade": "3",
        },
    )
    client.post(f"/meetings/{meeting_id}/notes", data={"general_notes": INJECTIONS, "any_other_business": INJECTIONS})
    client.post(
        f"/meetings/{meeting_id}/actions/new?review={review_id}",
        data={
            "description": INJECTIONS,
            "owning_agency_id": agencies["IDVA"].id,
            "owner_id": "",
            "due_date": ["1", "1", "2099"],
        },
    )
    client.post(
        f"/meetings/{meeting_id}/edit",
        data={
            "date": ["1", "1", "2099"],
            "time": "10:00",
            "location": INJECTIONS[:200],
            "chair_id": chair.id,
            "invited_agency_ids": [agencies["IDVA"].id],
        },
    )
    assert approve_minutes(client, meeting_id).status_code == 302
    for url in (f"/reports/minutes/{meeting_id}.pdf", "/reports/actions.pdf"):
        response = download(client, url)
        reader = read_pdf(response.data)
        assert_house_style(reader, title_start="", draft=False)
        assert b"/EmbeddedFile" not in response.data
        for pdf_page in reader.pages:
            for annotation in pdf_page.get("/Annots", []) or []:
                action = annotation.get_object().get("/A", {})
                assert "169.254" not in str(action.get("/URI", "")) and "file:" not in str(action.get("/URI", ""))
        text = " ".join(pages_text(reader)).replace(" ", "")
        assert "<linkrel=attachmenthref=file:///etc/passwd>" in text  # shown as the text it is, not followed
    # The print CSS is parsed once per process (whichever document came first fetched it): nothing else.
    assert set(fetched) <= {fetcher_module.BASE_URL + "pdf.css"}


def test_the_fetcher_refuses_everything_but_static_files():
    fetcher = fetcher_module.StaticOnlyFetcher()
    for url in (
        "file:///etc/passwd",
        "http://169.254.169.254/",
        "https://example.org/x.css",
        fetcher_module.BASE_URL + "../../config.py",
        fetcher_module.BASE_URL + "app.js",
        "data:text/css,body{}",
    ):
        with pytest.raises(fetcher_module.RefusedFetch):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 6
    assert fetcher.fetch(fetcher_module.BASE_URL + "pdf.css").status == 200


def test_reports_page_lists_overdue_actions_and_minutes(client, meeting, agencies, add_action):
    add_action(meeting, agencies["IDVA"], due_in_days=-3)
    page = get_page(client, "/reports")
    overdue = text_of(page.find(id="overdue").find_next("table"))
    assert "IDVA agency" in overdue and "3" in overdue
    assert [text_of(row) for row in page.select("[data-testid=minutes-table] tbody tr")]


def test_stored_minutes_cannot_be_changed_or_deleted(client, app, meeting):
    import sqlalchemy as sa

    assert approve_minutes(client, meeting).status_code == 302
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError):
            db.session.execute(sa.update(MinutesDocument).values(sha256="0" * 64))
        db.session.rollback()
        if not ON_POSTGRES:  # there the schema's owner, whom the tests connect as, may delete (the purge)
            with pytest.raises(sa.exc.DBAPIError):
                db.session.execute(sa.delete(MinutesDocument))
            db.session.rollback()
        assert db.session.scalar(select(sa.func.count(MinutesDocument.id))) == 1


def test_redacted_minutes_name_the_next_meeting_even_before_the_agency_attends_it(
    client, app, agencies, meeting, make_meeting, chair, make_user
):
    from tracker.models import Meeting
    from tracker.timeutil import format_datetime

    following = make_meeting(6, chair=chair)  # nobody has attended it yet
    with app.app_context():
        when = format_datetime(db.session.get(Meeting, following).starts_at)
    partner = make_user("partner", agencies["IDVA"])
    partner_client = app.test_client()
    sign_in(partner_client, partner.email, partner.password)
    assert partner_client.get(f"/meetings/{following}").status_code == 404  # the page stays out of scope
    text = " ".join(pages_text(read_pdf(download(partner_client, f"/reports/minutes/{meeting}.pdf").data)))
    assert f"Next meeting {when}, Meeting room 1" in text
    assert "Not yet scheduled" not in text


def test_redacted_minutes_leave_out_notes_and_other_agencies_attendees(client, app, agencies, meeting, make_user):
    client.post(f"/meetings/{meeting}/notes", data={"general_notes": "NOTE-SECRET about CR/DOC/POLICE-ONLY",
                                                     "any_other_business": "AOB-SECRET"})  # fmt: skip
    with app.app_context():
        from tracker.models import Attendance

        for row in db.session.scalars(select(Attendance)):
            row.person_name, row.deputy_for = f"Officer of {row.agency.code}", f"Deputy of {row.agency.code}"
        db.session.commit()
    full = " ".join(pages_text(read_pdf(download(client, f"/reports/minutes/{meeting}.pdf").data)))
    assert "NOTE-SECRET" in full and "AOB-SECRET" in full and "Officer of POL" in full
    partner = make_user("partner", agencies["IDVA"])
    partner_client = app.test_client()
    sign_in(partner_client, partner.email, partner.password)
    text = " ".join(pages_text(read_pdf(download(partner_client, f"/reports/minutes/{meeting}.pdf").data)))
    assert "NOTE-SECRET" not in text and "AOB-SECRET" not in text
    assert "Officer of IDVA" in text and "Officer of POL" not in text and "Deputy of POL" not in text
    assert "Not included in an agency's copy" in text

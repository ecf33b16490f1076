"""PDF layout that survives any text, read back with pdfplumber: nothing leaves the page, every page
of a long table carries its column headers and its group, and every character has a glyph from a
font the print CSS names."""

import io
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pdfplumber
import pytest
import tinyhtml5

from tests.conftest import approve_minutes, sign_in
from tracker.documents import render
from tracker.extensions import db
from tracker.models import Action, CaseReview, Meeting

LONG_URL = "https://example.org/" + "very-long-path-segment/" * 12 + "x" * 20  # over 300 characters
assert len(LONG_URL) > 300
LONG_PARAGRAPH = " ".join(["The panel discussed the response and the safety plan in detail."] * 80)  # 5,000+
assert len(LONG_PARAGRAPH) > 5000
RIGHT_TO_LEFT = "خطة السلامة للضحية — תוכנית בטיחות"
WIDE_AND_EMOJI = "＝ＳＵＭ（Ａ１）｜ 安全计划 🚨🏠✅ ﹦1"
CASE_REFERENCE = "DA/2026/68937"
A4_WIDTH, A4_HEIGHT = 595.28, 841.89
SIDE_MARGIN = 15 * 72 / 25.4  # 15 mm, as pdf.css sets it


@pytest.fixture
def agencies(make_agency):
    return {
        "POL": make_agency(name="Police", code="POL"),
        "HOU": make_agency(name="Housing – council housing options and homelessness prevention", code="HOU"),
        "IDVA": make_agency(name="Independent Domestic Violence Advisor service", code="IDVA"),
    }


@pytest.fixture
def chair(agencies, make_user):
    return make_user("chair", agencies["POL"], name="Panel Chair")


@pytest.fixture
def hostile_meeting(app, agencies, chair, make_meeting, add_review, add_action):
    """A held meeting full of text nobody planned for, and 200 actions for one agency."""
    meeting_id = make_meeting(-3, chair=chair, invited=list(agencies.values()), attended_by=[agencies["HOU"]])
    review_id = add_review(meeting_id, CASE_REFERENCE, agencies=[agencies["HOU"], agencies["IDVA"]], grade=2)
    with app.app_context():
        review = db.session.get(CaseReview, review_id)
        review.findings = LONG_PARAGRAPH + " " + LONG_URL
        review.summary = RIGHT_TO_LEFT + " " + WIDE_AND_EMOJI
        meeting = db.session.get(Meeting, meeting_id)
        meeting.general_notes = LONG_URL + " " + RIGHT_TO_LEFT
        db.session.commit()
    add_action(meeting_id, agencies["HOU"], review_id=review_id, description="Check " + LONG_URL)
    add_action(meeting_id, agencies["HOU"], review_id=review_id, description=LONG_PARAGRAPH)
    add_action(meeting_id, agencies["IDVA"], review_id=review_id, description=RIGHT_TO_LEFT)
    add_action(meeting_id, agencies["IDVA"], review_id=review_id, description=WIDE_AND_EMOJI)
    for number in range(200):
        add_action(meeting_id, agencies["HOU"], due_in_days=-20 + number % 40, description=f"Routine work {number}")
    return meeting_id


def signed_in(app, user):
    client = app.test_client()
    sign_in(client, user.email, user.password)
    return client


def pdf_pages(data: bytes) -> list[dict]:
    """Each page's size, characters and text (pdfplumber)."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [
            {
                "width": page.width,
                "height": page.height,
                "chars": page.chars,
                "text": re.sub(r"\s+", " ", page.extract_text() or ""),
            }
            for page in pdf.pages
        ]


def assert_nothing_leaves_the_page(pages):
    for number, page in enumerate(pages, start=1):
        assert (round(page["width"], 1), round(page["height"], 1)) == (round(A4_WIDTH, 1), round(A4_HEIGHT, 1))
        for char in page["chars"]:
            where = f"page {number}: {char['text']!r} at x {char['x0']:.0f}-{char['x1']:.0f}, y {char['top']:.0f}"
            assert char["x0"] >= SIDE_MARGIN - 2 and char["x1"] <= page["width"] - SIDE_MARGIN + 2, where
            assert char["top"] >= 0 and char["bottom"] <= page["height"], where


def table_pages(pages, first_header: str) -> list[int]:
    """The pages on which a table of actions (a row naming an action) appears."""
    return [i for i, page in enumerate(pages) if re.search(r"A-\d{5}", page["text"])]


def test_a_summary_of_hostile_text_stays_on_the_page_with_headers_and_agency_on_every_page(
    app, agencies, hostile_meeting, make_user
):
    manager = make_user("manager", agencies["POL"])
    response = signed_in(app, manager).get(f"/reports/actions.pdf?status=&agency={agencies['HOU'].id}")
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    assert len(pages) >= 4  # 202 actions do not fit on one page
    assert_nothing_leaves_the_page(pages)
    continued = table_pages(pages, "Action")[1:]
    assert continued, "the agency's table continues over several pages"
    for index in continued:
        text = pages[index]["text"]
        for header in ("Action", "Case", "Owner", "Due", "Status", "Days overdue"):
            assert header in text, f"page {index + 1} lacks the column header {header!r}"
        assert "Housing – council housing options" in text, f"page {index + 1} lacks its agency"


@pytest.mark.parametrize("redacted", [False, True], ids=["full", "redacted"])
def test_minutes_of_hostile_text_stay_on_the_page_with_headers_on_every_page(
    app, agencies, chair, hostile_meeting, make_user, redacted
):
    reader = make_user("partner", agencies["HOU"]) if redacted else chair
    response = signed_in(app, reader).get(f"/reports/minutes/{hostile_meeting}.pdf")
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    assert_nothing_leaves_the_page(pages)
    with_actions = table_pages(pages, "Action")
    assert len(with_actions) >= 3
    for index in with_actions:
        text = pages[index]["text"]
        for header in ("Action", "Agency", "Owner", "Due", "Status at the meeting"):
            assert header in text, f"page {index + 1} lacks the column header {header!r}"
        if index != with_actions[0]:
            continues = (f"Case {CASE_REFERENCE}", "Actions for the meeting as a whole")
            assert any(group in text for group in continues), f"page {index + 1} lacks the group it continues"
    text = " ".join(page["text"] for page in pages)
    # The whole of a long description is there: it continues on the next page, nothing is cut.
    assert text.count("The panel discussed the response") >= 80
    # A case reference and a table's dates never break inside.
    assert CASE_REFERENCE in text
    for match in re.finditer(r"\b\d{1,2} [A-Z][a-z]{2}\b(?! \d{4})", text):
        pytest.fail(f"a date broken over lines near {text[match.start() - 20 : match.end() + 20]!r}")


def test_read_at_the_start_is_never_stranded_from_the_statement(app, agencies, chair, make_meeting):
    meeting_id = make_meeting(-1, chair=chair, attended_by=[agencies["HOU"]])
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.statement_read_at = meeting.starts_at
        db.session.commit()
    pages = pdf_pages(signed_in(app, chair).get(f"/reports/minutes/{meeting_id}.pdf").data)
    for page in pages:
        if "Read at the start of the meeting." in page["text"]:
            assert "Confidentiality statement" in page["text"]


# Fonts ------------------------------------------------------------------------------------

CSS = Path(__file__).resolve().parent.parent / "tracker" / "static" / "pdf.css"


def named_fonts() -> list[str]:
    stack = re.search(r"html \{\s*font-family:([^;]+);", CSS.read_text()).group(1)
    return [name.strip().strip('"') for name in stack.split(",") if name.strip() != "sans-serif"]


def families_with(character: str) -> set[str]:
    listing = subprocess.run(
        ["fc-list", f":charset={ord(character):x}", "family"], capture_output=True, text=True, check=True
    ).stdout
    return {family.strip() for line in listing.splitlines() for family in line.split(",")}


@pytest.mark.parametrize(
    "character",
    # Latin with accents, Greek, Cyrillic, Arabic and Urdu, Hebrew, Hindi, Punjabi, Bengali, Gujarati,
    # Tamil, Thai, Chinese, Korean, full-width and small forms, symbols and emoji.
    [*"AéŁşąΩЖم", "ش", "ש", "क", "ਕ", "ক", "ગ", "த", "ก", "日", "한", "＝", "｜", "﹦", "✅", "🚨", "€", "£", "→"],
)
def test_every_character_a_user_may_type_has_a_glyph_in_a_named_font(character):
    assert families_with(character) & set(named_fonts()), f"no named font has a glyph for {character!r}"


def test_the_pdf_embeds_only_the_fonts_the_css_names(app, agencies, hostile_meeting, chair):
    data = signed_in(app, chair).get(f"/reports/minutes/{hostile_meeting}.pdf").data
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        used = {char["fontname"].split("+", 1)[-1] for page in pdf.pages for char in page.chars}
    squashed = {re.sub(r"[^a-z0-9]", "", name.lower()) for name in named_fonts()}
    for font in used:
        family = re.sub(r"[^a-z0-9]", "", font.lower())
        family = re.sub(r"(bold|italic|regular|oblique|book|semi|condensed)+$", "", family)
        assert family in squashed, f"{font} is not a font the print CSS names"


def tree(element) -> list[tuple]:
    """Every element (and comment) of a parsed document, in order: its tag, attributes, text and tail."""
    return [(str(node.tag), sorted(node.attrib.items()), node.text, node.tail) for node in element.iter()]


def weasyprints_own_tree(html: str) -> list[tuple]:
    return tree(tinyhtml5.parse(io.StringIO(html), namespace_html_elements=False))  # as WeasyPrint calls it


MARKUP_AS_TEXT = "</p></td></tr></table><svg><path/></svg><p>Fish &amp; chips &nbsp; <br> <!-- x --> ]]>"


def test_our_parser_gives_weasyprint_the_tree_its_own_parser_makes_of_every_document(
    app, agencies, chair, hostile_meeting, make_meeting, add_review, make_user, monkeypatch
):
    """render.parse_html (libxml2) stands in for WeasyPrint's own parser (tinyhtml5): for each kind of
    document, of hostile text and text that looks like markup, the two trees are the same, element for
    element, with the same attributes, text and tail."""
    with app.app_context():
        meeting = db.session.get(Meeting, hostile_meeting)
        meeting.any_other_business = MARKUP_AS_TEXT
        db.session.get(CaseReview, meeting.reviews[0].id).feedback_to_officer = MARKUP_AS_TEXT
        db.session.commit()
    coming = make_meeting(4, chair=chair, invited=list(agencies.values()))
    add_review(coming, "DA/2026/44444", agencies=[agencies["HOU"]])
    parsed: list[str] = []
    parse_html = render.parse_html
    monkeypatch.setattr(render, "parse_html", lambda html: parsed.append(html) or parse_html(html))
    client = signed_in(app, chair)
    documents = {
        "draft minutes": f"/reports/minutes/{hostile_meeting}.pdf",
        "agenda": f"/reports/minutes/{coming}.pdf",
        "summary": "/reports/actions.pdf?status=",
    }
    for name, url in documents.items():
        assert client.get(url).status_code == 200, name
    assert approve_minutes(client, hostile_meeting).status_code == 302
    assert client.get(f"/reports/minutes/{hostile_meeting}.pdf").status_code == 200
    partner = signed_in(app, make_user("partner", agencies["HOU"]))
    assert partner.get(f"/reports/minutes/{hostile_meeting}.pdf").status_code == 200
    app.config["ACTION_SUMMARY_PART_ACTIONS"] = 40
    assert client.get("/reports/actions.pdf?status=").status_code == 200  # in parts, and their page numbers
    asked = client.get("/reports/board.pdf?period=quarter&of=" + date.today().isoformat())
    assert client.get(asked.headers["Location"]).status_code == 200  # the job has run: the board report
    # Draft, agenda, summary, approved, redacted, the summary's parts and numbers, the board report.
    assert len(parsed) >= 9
    assert sum("<svg" not in html for html in parsed) >= 5  # parsed by libxml2, not handed to tinyhtml5
    assert any("&lt;/p&gt;&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;svg&gt;" in html for html in parsed)
    for html in parsed:
        assert tree(parse_html(html)) == weasyprints_own_tree(html)


@pytest.mark.parametrize(
    "html",
    [
        "<!DOCTYPE html>\n<html lang=en-GB>\n<head>\n<meta charset=utf-8><title>T</title></head>\n"
        "<body>\n  <p class=a>One<br>two &amp; &nbsp;three</p>\n  <img src=x.png alt=''>\n</body>\n</html>\n\n",
        "<!DOCTYPE html><html><head><title>Empty</title></head><body></body></html>\n",
        "<!DOCTYPE html><html><head><title>Comments</title></head><body><!-- a --><p>b<!-- c -->d</p></body></html>",
        "<!DOCTYPE html><html><head></head><body><table><thead><tr><th scope=col>A</th></tr></thead>"
        "<tbody><tr><td>\u062e\u0637\u0629 \U0001f6a8</td></tr></tbody></table></body></html>",
        "<!DOCTYPE html><html><head></head><body><p>Line\r\nbreaks\rand \x0b\x7f\x85\ufeff</p></body></html>",
        "<!DOCTYPE html><html><head></head><body><p>A NUL\x00 character</p></body></html>",
        "<!DOCTYPE html><html><head></head><body><pre>\nPreformatted</pre><p>after</p></body></html>",
        "<!DOCTYPE html><html><head></head><body><p>A lone \ud800 surrogate</p><p>and more</p></body></html>",
    ],
    ids=[
        "whitespace around head and after body",
        "empty body",
        "comments",
        "table and wide text",
        "line breaks and control characters",
        "a NUL",
        "a line break opening pre",
        "a lone surrogate",
    ],
)
def test_our_parser_places_whitespace_and_comments_as_the_standard_does(html):
    assert tree(render.parse_html(html)) == weasyprints_own_tree(html)


def test_the_minutes_with_each_actions_status_now_keep_the_actions_words_whole(
    app, agencies, chair, make_meeting, add_review, add_action
):
    """A column more ("Status now"): the others give up width, so the action's words are not broken up."""
    earlier = make_meeting(-14, chair=chair, attended_by=[agencies["HOU"]])
    arising = add_action(
        earlier, agencies["HOU"], due_in_days=-5, description="Assess for a management move on safety grounds"
    )
    with app.app_context():  # raised at the earlier meeting, so open on this meeting's day
        action = db.session.get(Action, arising)
        action.created_at -= timedelta(days=20)
        db.session.commit()
    meeting_id = make_meeting(-1, chair=chair, attended_by=[agencies["HOU"]])
    review_id = add_review(meeting_id, CASE_REFERENCE, agencies=[agencies["HOU"]], grade=2)
    add_action(meeting_id, agencies["HOU"], review_id=review_id, description="Fit additional security (sanctuary)")
    response = signed_in(app, chair).get(f"/reports/minutes/{meeting_id}.pdf?status_now=1")
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    assert_nothing_leaves_the_page(pages)
    text = " ".join(page["text"] for page in pages)
    assert "Matters arising" in text
    # Read line by line across the columns, so word by word: each long word whole, not "mana geme nt".
    tokens = set(text.split())
    assert {"now", "Action", "management", "additional", "security", "(sanctuary)", "grounds"} <= tokens

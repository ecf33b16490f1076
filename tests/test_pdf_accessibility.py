"""PDF/UA tagging, checked with pikepdf and pdfplumber, and by an independent checker (pdfua).

What a screen reader depends on: header cells with a scope; running headers, footers and the DRAFT
watermark as artifacts, so the marking is announced once and the reading order is clean; one table
per table however many pages it spans; a chart whose text alternative gives its values.
"""

import io
import re
import subprocess
import sys

import pdfplumber
import pikepdf
import pytest

from tests.conftest import approve_minutes, sign_in
from tracker.extensions import db
from tracker.models import CaseReview

MARKING = "OFFICIAL-SENSITIVE"


@pytest.fixture
def agencies(make_agency):
    return {
        "POL": make_agency(name="Police", code="POL"),
        "HOU": make_agency(name="Housing options", code="HOU"),
        "IDVA": make_agency(name="IDVA service", code="IDVA"),
    }


@pytest.fixture
def chair(agencies, make_user):
    return make_user("chair", agencies["POL"], name="Panel Chair")


@pytest.fixture
def meeting(app, agencies, chair, make_meeting, add_review, add_action):
    """A held meeting with a long table of housing actions (it runs over several pages)."""
    meeting_id = make_meeting(-2, chair=chair, invited=list(agencies.values()), attended_by=[agencies["HOU"]])
    review_id = add_review(meeting_id, "DA/2026/11111", agencies=[agencies["HOU"], agencies["IDVA"]], grade=1)
    with app.app_context():
        db.session.get(CaseReview, review_id).findings = "Risk factors were identified and shared."
        db.session.commit()
    add_action(meeting_id, agencies["IDVA"], review_id=review_id, due_in_days=-1, description="Safety plan")
    for number in range(90):
        add_action(
            meeting_id, agencies["HOU"], review_id=review_id, due_in_days=number - 30, description=f"Work {number}"
        )
    return meeting_id


def client_for(app, user):
    client = app.test_client()
    sign_in(client, user.email, user.password)
    return client


SUMMARIES = ("summary", "summary in parts")


def documents(app, chair, agencies, meeting, make_user) -> dict[str, bytes]:
    """The draft minutes, the approved minutes, a partner's redacted minutes and the summary, whole and
    made in parts of 40 actions (the housing table cut twice, the IDVA table after it in the last part)."""
    chair_client = client_for(app, chair)
    partner = make_user("partner", agencies["HOU"])
    result = {"draft minutes": chair_client.get(f"/reports/minutes/{meeting}.pdf").data}
    assert approve_minutes(chair_client, meeting).status_code == 302
    result["minutes"] = chair_client.get(f"/reports/minutes/{meeting}.pdf").data
    result["redacted minutes"] = client_for(app, partner).get(f"/reports/minutes/{meeting}.pdf").data
    result["summary"] = chair_client.get("/reports/actions.pdf?status=").data
    app.config["ACTION_SUMMARY_PART_ACTIONS"] = 40
    result["summary in parts"] = chair_client.get("/reports/actions.pdf?status=").data
    for name, data in result.items():
        assert data.startswith(b"%PDF-"), name
    return result


@pytest.fixture
def pdfs(app, chair, agencies, meeting, make_user):
    return documents(app, chair, agencies, meeting, make_user)


def struct_kids(element) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def walk(element):
    """Every structure element under ``element``, depth first, in reading order."""
    for kid in struct_kids(element):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from walk(kid)


def document_element(pdf):
    (document,) = struct_kids(pdf.Root.StructTreeRoot)
    return document


def marked_ids_in_tree(pdf) -> set[tuple[int, int]]:
    """(page index, MCID) of every piece of marked content the structure tree reaches."""
    pages = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
    found = set()
    for element in walk(document_element(pdf)):
        for kid in struct_kids(element):
            if isinstance(kid, int):
                found.add((pages[element.Pg.objgen], int(kid)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                found.add((pages[kid.Pg.objgen], int(kid.MCID)))
    return found


def check_header_cells_carry_their_scope(pdfs):
    for name, data in pdfs.items():
        with pikepdf.open(io.BytesIO(data)) as pdf:
            headers = [element for element in walk(document_element(pdf)) if element.S == "/TH"]
            assert headers, name
            scopes = {str(header.A.get("/Scope")) for header in headers}
            assert scopes <= {"/Column", "/Row"} and "/Column" in scopes, (name, scopes)
            if "minutes" in name:
                assert "/Row" in scopes  # the meeting's details: a header per row


def check_all_marked_content_is_in_the_tree_or_an_artifact(pdfs):
    for name, data in pdfs.items():
        with pikepdf.open(io.BytesIO(data)) as pdf:
            reachable = marked_ids_in_tree(pdf)
            for index, page in enumerate(pdf.pages):
                for instruction in pikepdf.parse_content_stream(page):
                    if str(instruction.operator) != "BDC":
                        continue
                    tag, properties = instruction.operands
                    if tag == pikepdf.Name.Artifact:
                        continue
                    assert (index, int(properties.MCID)) in reachable, f"{name}: page {index + 1} orphan content"


def check_the_marking_is_announced_once_and_furniture_is_artifact(pdfs):
    for name, data in pdfs.items():
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            assert len(pdf.pages) > 1, name
            for number, page in enumerate(pdf.pages, start=1):
                lines = page.extract_text_lines()
                header, footer = lines[0], lines[-2:]
                header_tags = {char.get("tag") for char in header["chars"]}
                assert header["text"] == MARKING, (name, number)
                # The first page's header is the document's first paragraph; every other is an artifact.
                assert header_tags == ({"P"} if number == 1 else {"Artifact"}) or (
                    number == 1 and "Artifact" not in header_tags
                ), (name, number, header_tags)
                for line in footer:
                    assert {char.get("tag") for char in line["chars"]} == {"Artifact"}, (name, number, line["text"])
                watermark = [char for char in page.chars if char["size"] > 50]
                assert bool(watermark) is (name == "draft minutes"), (name, number)
                assert all(char.get("tag") == "Artifact" for char in watermark), (name, number)
        with pikepdf.open(io.BytesIO(data)) as pdf:
            first = struct_kids(document_element(pdf))[0]
            assert first.S == "/P", name


def check_the_parent_tree_names_the_element_of_each_piece_of_content(pdfs):
    """A reader finds the structure element of what is on a page through the parent tree (the page's
    /StructParents, then the MCID): it must name the element that holds the content."""
    for name, data in pdfs.items():
        with pikepdf.open(io.BytesIO(data)) as pdf:
            nums = pdf.Root.StructTreeRoot.ParentTree.Nums
            parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
            assert len(parents) * 2 == len(nums), f"{name}: a parent tree key is used twice"
            checked = 0
            for element in walk(document_element(pdf)):
                for kid in struct_kids(element):
                    if isinstance(kid, int):
                        page, mcid = element.Pg, int(kid)
                    elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                        page, mcid = kid.Pg, int(kid.MCID)
                    else:
                        continue
                    assert parents[int(page.StructParents)][mcid].objgen == element.objgen, (name, mcid)
                    checked += 1
            assert checked, name


def check_a_table_over_several_pages_is_one_table_with_one_header(pdfs):
    for name in ("minutes", *SUMMARIES):
        with pikepdf.open(io.BytesIO(pdfs[name])) as pdf:
            assert len(pdf.pages) >= 3, name
            tables = [element for element in walk(document_element(pdf)) if element.S == "/Table"]
            housing = [table for table in tables if len(list(walk(table))) > 90 * 6]
            assert len(housing) == 1, f"{name}: the housing table is split into {len(housing)} or more"
            (table,) = housing
            groups = [str(kid.S) for kid in struct_kids(table)]
            assert groups.count("/THead") == 1 and groups.count("/TBody") == 1, (name, groups)
            rows = [kid for kid in walk(table) if kid.S == "/TR"]
            assert len(rows) == 1 + (91 if name == "minutes" else 90), name
            # Every data cell's /Headers name header cells of this table's one header row.
            ids = {bytes(cell.ID) for cell in walk(table) if cell.S == "/TH"}
            for cell in walk(table):
                if cell.S == "/TD":
                    assert {bytes(header) for header in cell.A.Headers} <= ids


def marks_content(element) -> bool:
    for kid in struct_kids(element):
        if isinstance(kid, int) or (isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR"):
            return True
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and marks_content(kid):
            return True
    return False


def check_no_heading_is_empty(pdfs):
    for name, data in pdfs.items():
        with pikepdf.open(io.BytesIO(data)) as pdf:
            headings = [element for element in walk(document_element(pdf)) if re.fullmatch(r"/H\d", str(element.S))]
            assert len([h for h in headings if h.S == "/H1"]) == 1, name
            assert all(marks_content(heading) for heading in headings), name


def check_the_chart_alternative_text_gives_the_values(pdfs):
    for name in SUMMARIES:
        with pikepdf.open(io.BytesIO(pdfs[name])) as pdf:
            (figure,) = [element for element in walk(document_element(pdf)) if element.S == "/Figure"]
            alternative = str(figure.Alt)
        assert "Overdue actions by agency" in alternative
        assert re.search(r"Housing options: \d+", alternative) and "IDVA service: 1" in alternative


def check_the_chart_labels_bars_with_agency_names(pdfs):
    for name in SUMMARIES:
        with pdfplumber.open(io.BytesIO(pdfs[name])) as pdf:
            text = pdf.pages[0].extract_text() + pdf.pages[1].extract_text()
        assert "Housing options" in text and "IDVA service" in text


def check_an_independent_pdfua_checker_finds_nothing(pdfs, folder):
    """The pdfua package (PyPI; requirements-dev.txt) checks the machine-checkable subset of PDF/UA-1
    and WCAG 2.1, with its own reading of the files (no code shared with ours)."""
    paths = []
    for name, data in pdfs.items():
        path = folder / (name.replace(" ", "-") + ".pdf")
        path.write_bytes(data)
        paths.append(str(path))
    result = subprocess.run([sys.executable, "-m", "pdfua", "check", *paths], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("errors=0 warnings=0") == len(paths), result.stdout


def test_every_document_is_tagged_completely(pdfs, tmp_path):
    """One set of documents (rendering them is the slow part), every check in turn."""
    check_header_cells_carry_their_scope(pdfs)
    check_all_marked_content_is_in_the_tree_or_an_artifact(pdfs)
    check_the_parent_tree_names_the_element_of_each_piece_of_content(pdfs)
    check_the_marking_is_announced_once_and_furniture_is_artifact(pdfs)
    check_a_table_over_several_pages_is_one_table_with_one_header(pdfs)
    check_no_heading_is_empty(pdfs)
    check_the_chart_alternative_text_gives_the_values(pdfs)
    check_the_chart_labels_bars_with_agency_names(pdfs)
    check_an_independent_pdfua_checker_finds_nothing(pdfs, tmp_path)

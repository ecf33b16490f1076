"""A long action summary is laid out and written in parts, then joined (tracker/documents/render.py,
tracker/documents/joining.py): the joined document reads as the whole one does. Its tagging is checked
with every other document's in tests/test_pdf_accessibility.py."""

import io
import re
from types import SimpleNamespace

import pdfplumber
import pikepdf
import pytest

from tests.conftest import sign_in
from tracker.documents.action_summary import parts_of

ACTION_REFERENCE = re.compile(r"A-\d{5}")


@pytest.fixture
def agencies(make_agency):
    return {
        "HOU": make_agency(name="Housing options", code="HOU"),
        "IDVA": make_agency(name="IDVA service", code="IDVA"),
        "POL": make_agency(name="Police", code="POL"),
    }


@pytest.fixture
def summary_client(app, agencies, make_meeting, add_action, make_user):
    """A chair's client, for a summary of 75 housing, 3 IDVA and 12 police actions."""
    chair = make_user("chair", agencies["POL"], name="Panel Chair")
    meeting_id = make_meeting(-2, chair=chair, attended_by=[agencies["HOU"]])
    for number in range(75):
        add_action(meeting_id, agencies["HOU"], due_in_days=number - 30, description=f"Housing work {number}")
    for number in range(3):
        add_action(meeting_id, agencies["IDVA"], due_in_days=number, description=f"IDVA work {number}")
    for number in range(12):
        add_action(meeting_id, agencies["POL"], due_in_days=number - 5, description=f"Police work {number}")
    client = app.test_client()
    sign_in(client, chair.email, chair.password)
    return client


def summary(app, client, part_actions: int) -> bytes:
    app.config["ACTION_SUMMARY_PART_ACTIONS"] = part_actions
    response = client.get("/reports/actions.pdf?status=")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def page_texts(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def bookmarks(data: bytes) -> list:
    def tree(items):
        return [(item.title, tree(item.children)) for item in items]

    with pikepdf.open(io.BytesIO(data)) as pdf, pdf.open_outline() as outline:
        return tree(outline.root)


def test_a_summary_in_parts_reads_as_the_whole_one(app, summary_client):
    whole, in_parts = summary(app, summary_client, 1000), summary(app, summary_client, 30)
    whole_pages, parts_pages = page_texts(whole), page_texts(in_parts)
    # The same actions in the same order (a part starts on a new page, so the pages may differ).
    assert ACTION_REFERENCE.findall(" ".join(parts_pages)) == ACTION_REFERENCE.findall(" ".join(whole_pages))
    assert len(set(ACTION_REFERENCE.findall(" ".join(parts_pages)))) == 90
    # Pages numbered on from part to part, each saying the document's page count.
    total = len(parts_pages)
    assert total > len(whole_pages) - 1
    for number, text in enumerate(parts_pages, start=1):
        assert f"Page {number} of {total}" in text, f"page {number} footer: {text.splitlines()[-1]!r}"
    # Every page after the first part's starts with the agency whose table it continues, and its headers.
    continued = [text for text in parts_pages if ACTION_REFERENCE.search(text)][1:]
    for text in continued:
        lines = text.splitlines()
        assert lines[1] in ("Housing options", "IDVA service", "Police"), lines[:3]
        assert all(header in text for header in ("Action", "Case", "Owner", "Due", "Status", "Days")), text
    # The same bookmarks: the title, and under it each section and agency once.
    assert bookmarks(in_parts) == bookmarks(whole)
    (title, sections) = bookmarks(in_parts)[0]
    assert title.startswith("Action summary")
    assert [name for name, _ in sections] == [
        "By agency",
        "Overdue actions by agency",
        "Housing options",
        "IDVA service",
        "Police",
    ]
    # The whole document's metadata: title, language, PDF/UA identification, one structure tree.
    with pikepdf.open(io.BytesIO(in_parts)) as pdf:
        assert str(pdf.Root.Lang) == "en-GB"
        assert str(pdf.docinfo.Title).startswith("Action summary")
        with pdf.open_metadata() as metadata:
            assert metadata.get("pdfuaid:part") == "1"
        roots = pdf.Root.StructTreeRoot.K
        assert not isinstance(roots, pikepdf.Array) or len(roots) == 1  # one /Document element
        structure_pages = {int(page.StructParents) for page in pdf.pages}
        assert structure_pages == set(range(total))


def agency(name: str, actions: int):
    return SimpleNamespace(agency=SimpleNamespace(name=name), actions=list(range(actions)))


def pieces(parts) -> list[list[tuple[str, int, bool]]]:
    return [[(group.figures.agency.name, len(group.actions), group.continued) for group in part] for part in parts]


def test_parts_keep_tables_whole_where_they_fit_and_cut_only_longer_ones():
    figures = [agency("A", 30), agency("B", 15), agency("C", 120), agency("D", 5)]
    assert pieces(parts_of(figures, 50)) == [
        # C, longer than a part, starts in what is left of the first, and goes on in the next parts.
        [("A", 30, False), ("B", 15, False), ("C", 5, False)],
        [("C", 50, True)],
        [("C", 50, True)],
        [("C", 15, True), ("D", 5, False)],
    ]
    assert pieces(parts_of([agency("A", 30), agency("B", 30)], 50)) == [[("A", 30, False)], [("B", 30, False)]]
    assert pieces(parts_of([agency("A", 50), agency("B", 1)], 50)) == [[("A", 50, False)], [("B", 1, False)]]


def test_header_cells_of_tables_in_different_parts_keep_document_wide_unique_ids(app):
    """WeasyPrint numbers header cell IDs from the objects of its own PDF, the same in every part."""
    from tracker.documents.render import HtmlPart, html_parts_to_pdf

    def part(label: str) -> str:
        rows = "".join(f"<tr><td>{label} {n}</td><td>{n}</td></tr>" for n in range(3))
        return (
            f'<!DOCTYPE html><html lang="en-GB"><head><title>Parts</title></head><body><h1>{label}</h1>'
            f'<table><thead><tr><th scope="col">Name</th><th scope="col">Number</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></body></html>"
        )

    with app.test_request_context():
        rendered = html_parts_to_pdf([HtmlPart(part("First")), HtmlPart(part("Second"))], draft=False)
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        document = pdf.Root.StructTreeRoot.K
        document = document[0] if isinstance(document, pikepdf.Array) else document
        tables = [kid for kid in document.K if kid.S == "/Table"]
        assert len(tables) == 2

        def cells(element, tag):
            for kid in element.K if isinstance(element.K, pikepdf.Array) else [element.K]:
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    yield from [kid] if kid.get("/S") == tag else cells(kid, tag)

        ids = [[bytes(cell.ID) for cell in cells(table, "/TH")] for table in tables]
        assert len(set(ids[0] + ids[1])) == 4
        for table, own in zip(tables, ids, strict=True):
            for cell in cells(table, "/TD"):
                assert {bytes(header) for header in cell.A.Headers} <= set(own)

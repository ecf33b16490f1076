"""Completing WeasyPrint's PDF/UA tagging, in the one render path (tracker.documents.render).

WeasyPrint 70 tags every PDF, but leaves four gaps that a screen reader (and a PDF/UA checker) hits:

- header cells carry no /Scope;
- the running header and footer (the OFFICIAL-SENSITIVE marking, page numbers, the document id) are
  tagged as content but not linked into the structure tree, so they are neither content nor artifact;
- a table (or any block) split over pages becomes one structure element per page, and its header
  row, repeated on each page for sighted readers, is read again on every page;
- nothing says which structure element came from which HTML element.

:func:`write_tagged_pdf` writes a laid-out document as PDF/UA-1. While WeasyPrint builds the structure
tree, it notes, for each structure element, the HTML element it came from and which objects belong to
page margins. Then, in WeasyPrint's finisher (after the tree is built, before a byte is written), it
completes the tagging on WeasyPrint's own PDF objects: it gives header cells their scope, merges the
pieces of an element split over pages, makes the repeated header rows and the running header and
footer artifacts, and links the first page's top marking into the structure, so the marking is
announced once, at the start. Working on the objects WeasyPrint is about to write, rather than on the
written file, spares parsing and writing the whole PDF a second time; it is one walk of the tree.

A part of a document made in parts (tracker/documents/render.py, joining.py) is written as such
(:class:`Part`): only the first part links its marking into the structure, header cell IDs are unique
in the whole document, a header row marked as repeating one from an earlier part is an artifact, and
text is held by its element rather than by a Span of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pydyf
from weasyprint import Document
from weasyprint.formatting_structure import boxes
from weasyprint.pdf import tags as weasyprint_tags


@dataclass
class Part:
    """Where a document written in parts (tracker.documents.joining) puts this one."""

    # Only the first part's top marking is the document's first paragraph; later parts' are artifacts.
    first: bool = True
    # Prefixed to the structure IDs WeasyPrint makes up for header cells, which count from 1 in each part
    # (a header cell whose HTML element has an id takes that instead: the same in every part).
    id_prefix: str = ""


@dataclass
class Recording:
    part: Part | None = None  # None: a whole document
    # Structure element object number -> the HTML element its box came from.
    html_elements: dict[int, Any] = field(default_factory=dict)
    # (page index, margin rule such as "@top-center", first object number, end object number).
    margins: list[tuple[int, str, int, int]] = field(default_factory=list)


_current: ContextVar[Recording | None] = ContextVar("tagging_recording", default=None)
_build_box_tree = weasyprint_tags._build_box_tree


class _PageReferencesOnce:
    """The pydyf PDF that WeasyPrint is writing, with its list of page references made once.

    WeasyPrint names the page of every structure element through ``pdf.page_references``, which pydyf
    builds afresh, from every page, at each use: a document's cost of tagging grew with its pages times
    its elements (a 500-page action summary spent more time there than in laying its pages out). The
    pages are all added before the tagging starts, so the list cannot change while it is in use."""

    def __init__(self, pdf):
        self._pdf = pdf
        self.page_references = pdf.page_references

    def __getattr__(self, name):
        return getattr(self._pdf, name)


def _recording_build_box_tree(box, parent, pdf, page_number, nums, annotations, tags):
    if not isinstance(pdf, _PageReferencesOnce):  # WeasyPrint's call for a page; the recursion passes it on
        pdf = _PageReferencesOnce(pdf)
    recording = _current.get()
    if recording is not None and isinstance(box, boxes.MarginBox):
        start = len(pdf.objects)
        yield from _build_box_tree(box, parent, pdf, page_number, nums, annotations, tags)
        recording.margins.append((page_number, box.at_keyword, start, len(pdf.objects)))
        return
    for element in _build_box_tree(box, parent, pdf, page_number, nums, annotations, tags):
        if recording is not None:
            # The innermost box is recorded first; <html> and <body> only pass their children on.
            recording.html_elements.setdefault(element.number, getattr(box, "element", None))
        yield element


# WeasyPrint's tree builder calls itself through this module global, so every level is recorded.
# WeasyPrint is pinned (requirements.txt); a version without this function fails here, at import,
# and tests/test_pdf_accessibility.py fails on any change in the tagging it produces.
weasyprint_tags._build_box_tree = _recording_build_box_tree


def write_tagged_pdf(document: Document, part: Part | None = None) -> bytes:
    """The laid-out ``document`` as PDF/UA-1, its tagging completed (see the module's docstring);
    ``part`` says where it goes when a document is written in parts."""
    record = Recording(part=part)
    token = _current.set(record)
    try:
        return document.write_pdf(pdf_variant="pdf/ua-1", finisher=lambda _document, pdf: _complete(pdf, record))
    finally:
        _current.reset(token)


# Completing the tagging --------------------------------------------------------------------
#
# WeasyPrint's objects, before they are written: pdf.objects[n] is object n; a reference is the bytes
# b"n 0 R"; a structure element is a pydyf.Dictionary whose /K (kids) is a pydyf.Array of references
# (to structure elements), integers (marked content on the element's page, by MCID) and dictionaries
# (an /MCR: marked content on another page); the page content streams are still lists of operators.

REPEATED_GROUPS = {"/THead", "/TFoot"}
SPAN_KEYS = {"Type", "S", "K", "Pg", "P"}  # a Span WeasyPrint made for a piece of text, and nothing more
# The class of a table's header (or footer) group that repeats one read earlier: a table continued
# in a later part of a document written in parts. Drawn for sighted readers, it is an artifact.
REPEATED_CLASS = "repeated"
TOP_MARKING = (0, "@top-center")  # the first page's OFFICIAL-SENSITIVE header


def _number(reference: bytes) -> int:
    return int(reference.split(b" ", 1)[0])


def _kids(element: pydyf.Dictionary) -> list:
    kids = element.get("K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, list) else [kids]


def _complete(pdf: pydyf.PDF, record: Recording) -> None:
    _Tagging(pdf, record).complete()


class _Tagging:
    def __init__(self, pdf: pydyf.PDF, record: Recording):
        self.objects = pdf.objects
        self.html_elements = record.html_elements
        self.margins = record.margins
        self.part = record.part
        page_numbers = pdf.pages["Kids"][::3]
        self.page_index = {number: index for index, number in enumerate(page_numbers)}
        self.page_streams = [self.objects[_number(self.objects[number]["Contents"])] for number in page_numbers]
        root = self.objects[_number(pdf.catalog["StructTreeRoot"])]
        nums = self.objects[_number(root["ParentTree"])]["Nums"]
        # Page index -> the structure element (a reference) of each of its MCIDs, in MCID order.
        self.parent_tree: dict[int, list] = {nums[i]: nums[i + 1] for i in range(0, len(nums), 2)}
        (self.document_reference,) = root["K"]
        document = self.struct(self.document_reference)
        if document is None:  # pragma: no cover - WeasyPrint's tree always has its /Document
            raise ValueError("the structure tree has no document element")
        self.document = document
        self.artifacts: dict[int, dict[int, str]] = {}  # page index -> MCID -> artifact kind
        # A header cell's ID as WeasyPrint made it -> its ID in the document (a repeated header cell's:
        # its original's), for the data cells' /Headers.
        self.header_ids: dict[str, pydyf.String] = {}
        self.named_headers: set[int] = set()  # the header cells (object numbers) given their document ID
        self.moved: dict[bytes, bytes] = {}  # an absorbed element with marked content -> the absorbing one

    def complete(self) -> None:
        self.place_margins()
        self.walk(self.document, in_head=False)
        self.rewrite_artifacts()
        self.reparent_moved_content()

    def struct(self, kid) -> pydyf.Dictionary | None:
        """The structure element ``kid`` refers to; None for marked content (an MCID or an /MCR)."""
        if isinstance(kid, bytes):
            obj = self.objects[_number(kid)]
            if isinstance(obj, dict) and obj.get("Type") == "/StructElem":
                return obj
        return None

    def html_element(self, element: pydyf.Dictionary) -> Any:
        return self.html_elements.get(element.number)

    def make_artifact(self, element: pydyf.Dictionary, kind: str) -> None:
        page = self.page_index[_number(element["Pg"])]
        for kid in _kids(element):
            if isinstance(kid, int):
                self.artifacts.setdefault(page, {})[kid] = kind
            elif (struct := self.struct(kid)) is not None:
                self.make_artifact(struct, kind)

    # Running header and footer ---------------------------------------------------------------

    def place_margins(self) -> None:
        """The first page's top marking becomes the document's first paragraph (announced once); every
        other header and footer becomes an artifact, as page furniture."""
        roots = []
        for page_index, rule, start, end in self.margins:
            for number in range(start, end):
                obj = self.struct(self.objects[number].reference)
                if obj is None or obj.get("P") != self.document_reference:
                    continue
                if (page_index, rule) == TOP_MARKING and (self.part is None or self.part.first):
                    obj["S"] = "/P"
                    roots.append(obj.reference)
                else:
                    self.make_artifact(obj, "Pagination")
        if roots:
            self.document["K"] = pydyf.Array(roots + _kids(self.document))

    # The tree, in one walk -------------------------------------------------------------------

    def walk(self, element: pydyf.Dictionary, in_head: bool) -> None:
        """Join ``element``'s pieces, then, for each kid: a header cell gets its scope, a data cell names
        the original header cells, and the kid is walked in turn. A lone kid is then held by /K itself
        rather than as a one-item array (both are valid; some checkers read only the first form)."""
        kids = self.join_split_elements(element)
        if self.part is not None:
            kids = self.hold_text_directly(element, kids)
        for kid in kids:
            struct = self.struct(kid)
            if struct is None:
                continue
            tag = struct["S"]
            if tag == "/TH":
                self.give_scope(struct, in_head)
                self.name_header(struct)
            elif tag == "/TD" and self.header_ids:
                self.point_headers_at_originals(struct)
            self.walk(struct, in_head or tag == "/THead")
        if len(kids) == 1:
            element["K"] = kids[0]

    def hold_text_directly(self, element: pydyf.Dictionary, kids: list) -> list:
        """In a part of a document made in parts: ``element`` holds its text's marked content itself,
        rather than through the /Span that WeasyPrint makes for every piece of text (one line of one
        cell), a Span with no attributes, which says nothing more. Those Spans are most of the
        structure elements that joining the parts has to copy (tracker/documents/joining.py): without
        them, joining takes half the memory. The parent tree then names ``element`` for that content."""
        held: list = []
        for kid in kids:
            span = self.struct(kid)
            if span is None or span["S"] != "/Span" or set(span) != SPAN_KEYS or len(_kids(span)) != 1:
                held.append(kid)
                continue
            (mcid,) = _kids(span)
            if not isinstance(mcid, int):  # pragma: no cover - WeasyPrint's Spans hold one MCID
                held.append(kid)
                continue
            page = span["Pg"]
            held.append(mcid if page == element["Pg"] else pydyf.Dictionary({"Type": "/MCR", "Pg": page, "MCID": mcid}))
            self.parent_tree[self.page_index[_number(page)]][mcid] = element.reference
        if held != kids:
            element["K"] = pydyf.Array(held)
        return held

    def give_scope(self, cell: pydyf.Dictionary, in_head: bool) -> None:
        html = self.html_element(cell)
        scope = html.get("scope") if html is not None else None
        attributes = cell.get("A")
        if attributes is None:
            cell["A"] = attributes = pydyf.Dictionary({"O": "/Table"})
        attributes["Scope"] = "/Row" if scope == "row" and not in_head else "/Column"

    def document_id(self, cell: pydyf.Dictionary) -> pydyf.String:
        """A header cell's ID in the whole document: its HTML element's id if it has one, else WeasyPrint's,
        prefixed in a document written in parts."""
        html = self.html_element(cell)
        if html is not None and html.get("id"):
            return pydyf.String(html.get("id"))
        return pydyf.String((self.part.id_prefix if self.part else "") + cell["ID"].string)

    def name_header(self, cell: pydyf.Dictionary) -> None:
        if "ID" in cell and cell.number not in self.named_headers:
            self.named_headers.add(cell.number)
            named = self.document_id(cell)
            self.header_ids[cell["ID"].string] = named
            cell["ID"] = named

    # One element, however many pages ---------------------------------------------------------

    def join_split_elements(self, element: pydyf.Dictionary) -> list:
        """Merge the pieces of an element that WeasyPrint split over pages, and turn the repeats of a
        table's header rows into artifacts (they are announced once, with the table). Returns the kids."""
        kids = _kids(element)
        seen_groups: dict[int, pydyf.Dictionary] = {}
        kept: list = []
        previous = previous_html = None
        for kid in kids:
            struct = self.struct(kid)
            html = self.html_element(struct) if struct is not None else None
            if struct is not None and html is not None:
                tag = struct["S"]
                if tag in REPEATED_GROUPS:
                    if REPEATED_CLASS in (html.get("class") or "").split():
                        # Read with the table in an earlier part; its cells' HTML ids are the originals'.
                        for cell in self.cells(struct):
                            if "ID" in cell:
                                self.header_ids[cell["ID"].string] = self.document_id(cell)
                        self.make_artifact(struct, "Pagination")
                        continue
                    if id(html) in seen_groups:
                        self.remember_header_ids(seen_groups[id(html)], struct)
                        self.make_artifact(struct, "Pagination")
                        continue
                    seen_groups[id(html)] = struct
                if previous is not None and previous_html is html and previous["S"] == tag:
                    self.absorb(previous, struct)
                    continue
            kept.append(kid)
            previous, previous_html = struct, html
        if len(kept) != len(kids):
            element["K"] = pydyf.Array(kept)
        return kept

    def absorb(self, first: pydyf.Dictionary, second: pydyf.Dictionary) -> None:
        """Move ``second``'s children (the same element's next page) into ``first``."""
        first_kids = _kids(first)
        moved_marked_content = False
        for kid in _kids(second):
            if (struct := self.struct(kid)) is not None:
                struct["P"] = first.reference
            elif isinstance(kid, int):
                # Marked content on another page than the element's names its page: an MCR.
                kid = pydyf.Dictionary({"Type": "/MCR", "Pg": second["Pg"], "MCID": kid})
                moved_marked_content = True
            first_kids.append(kid)
        first["K"] = pydyf.Array(first_kids)
        second["K"] = pydyf.Array([])
        if moved_marked_content:
            self.moved[second.reference] = first.reference

    def reparent_moved_content(self) -> None:
        """The parent tree names, for marked content moved by :meth:`absorb`, the element now holding it."""
        if not self.moved:
            return
        for parents in self.parent_tree.values():
            if isinstance(parents, list):
                for position, parent in enumerate(parents):
                    while parent in self.moved:
                        parent = parents[position] = self.moved[parent]

    def remember_header_ids(self, original_group: pydyf.Dictionary, repeated_group: pydyf.Dictionary) -> None:
        originals = {}
        for cell in self.cells(original_group):
            html = self.html_element(cell)
            if html is not None and "ID" in cell:
                self.name_header(cell)
                originals[id(html)] = cell["ID"]
        for cell in self.cells(repeated_group):
            html = self.html_element(cell)
            if html is not None and "ID" in cell and id(html) in originals:
                self.header_ids[cell["ID"].string] = originals[id(html)]

    def cells(self, element: pydyf.Dictionary) -> Iterator[pydyf.Dictionary]:
        for kid in _kids(element):
            if (struct := self.struct(kid)) is not None:
                if struct["S"] in ("/TH", "/TD"):
                    yield struct
                else:
                    yield from self.cells(struct)

    def point_headers_at_originals(self, cell: pydyf.Dictionary) -> None:
        attributes = cell.get("A")
        if attributes is not None and "Headers" in attributes:
            attributes["Headers"] = pydyf.Array(
                [self.header_ids.get(header.string, header) for header in attributes["Headers"]]
            )

    # Content streams -------------------------------------------------------------------------

    def rewrite_artifacts(self) -> None:
        """Turn the chosen marked content into artifacts in the pages' content streams (still lists of
        operators: WeasyPrint writes each tagged piece as ``/Tag <</MCID n>> BDC``), and drop it from
        the parent tree."""
        for page_index, mcids in self.artifacts.items():
            operators = self.page_streams[page_index].stream
            for position, operator in enumerate(operators):
                if isinstance(operator, dict) and operator.get("MCID") in mcids:
                    if operators[position + 1] != b"BDC":  # pragma: no cover - WeasyPrint's one form
                        raise ValueError("unexpected marked content operator")
                    kind = mcids[operator["MCID"]]
                    operators[position - 1] = "/Artifact"
                    operators[position] = pydyf.Dictionary({"Type": f"/{kind}"})
            parents = self.parent_tree.get(page_index)
            if isinstance(parents, list):
                for mcid in mcids:
                    if mcid < len(parents):
                        parents[mcid] = "null"

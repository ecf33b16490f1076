"""Completing WeasyPrint's PDF/UA tagging, in the one render path (tracker.documents.render).

WeasyPrint 70 tags every PDF, but leaves four gaps that a screen reader (and a PDF/UA checker) hits:

- header cells carry no /Scope;
- the running header and footer (the OFFICIAL-SENSITIVE marking, page numbers, the document id) are
  tagged as content but not linked into the structure tree, so they are neither content nor artifact;
- a table (or any block) split over pages becomes one structure element per page, and its header
  row, repeated on each page for sighted readers, is read again on every page;
- nothing says which structure element came from which HTML element.

While WeasyPrint builds the tree, :func:`recording` notes, for each structure element, the HTML
element it came from and which objects belong to page margins. :func:`complete_tagging` then uses
pikepdf to give header cells their scope, merge the pieces of an element split over pages, make the
repeated header rows and the running header and footer artifacts, and link the first page's top
marking into the structure, so the marking is announced once, at the start.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import pikepdf
from weasyprint.formatting_structure import boxes
from weasyprint.pdf import tags as weasyprint_tags


@dataclass
class Recording:
    # Structure element object number -> the HTML element its box came from.
    html_elements: dict[int, object] = field(default_factory=dict)
    # (page index, margin rule such as "@top-center", first object number, end object number).
    margins: list[tuple[int, str, int, int]] = field(default_factory=list)


_current: ContextVar[Recording | None] = ContextVar("tagging_recording", default=None)
_build_box_tree = weasyprint_tags._build_box_tree


def _recording_build_box_tree(box, parent, pdf, page_number, nums, annotations, tags):
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


@contextmanager
def recording() -> Iterator[Recording]:
    """Record, for the PDF written inside the block, where each structure element came from."""
    record = Recording()
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


# Completing the tagging --------------------------------------------------------------------

REPEATED_GROUPS = {"/THead", "/TFoot"}
MARKED_CONTENT = re.compile(rb"/(\w+)\s*<<\s*/MCID (\d+)\s*>>\s*BDC")
TOP_MARKING = (0, "@top-center")  # the first page's OFFICIAL-SENSITIVE header


def _kids(element) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _is_struct(obj) -> bool:
    return isinstance(obj, pikepdf.Dictionary) and "/S" in obj


def _marked_content_ids(element) -> list[int]:
    """Every MCID under ``element`` (its own and its descendants')."""
    found = []
    for kid in _kids(element):
        if isinstance(kid, int):
            found.append(int(kid))
        elif _is_struct(kid):
            found.extend(_marked_content_ids(kid))
    return found


class _Tagging:
    def __init__(self, pdf: pikepdf.Pdf, record: Recording):
        self.pdf = pdf
        self.record = record
        self.page_index = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
        self.artifacts: dict[int, dict[int, str]] = {}  # page index -> MCID -> artifact kind
        self.header_ids: dict[bytes, pikepdf.String] = {}  # a repeated header cell's ID -> the original's

    def html_element(self, element):
        return self.record.html_elements.get(element.objgen[0])

    def make_artifact(self, element, kind: str) -> None:
        page = element.get("/Pg")
        for kid in _kids(element):
            if isinstance(kid, int) and page is not None:
                self.artifacts.setdefault(self.page_index[page.objgen], {})[int(kid)] = kind
            elif _is_struct(kid):
                self.make_artifact(kid, kind)

    # Scope of header cells -------------------------------------------------------------------

    def give_headers_scope(self, element, in_head: bool = False) -> None:
        for kid in _kids(element):
            if not _is_struct(kid):
                continue
            if kid.S == "/TH":
                html = self.html_element(kid)
                scope = html.get("scope") if html is not None else None
                attributes = kid.get("/A")
                if attributes is None:
                    kid.A = attributes = pikepdf.Dictionary(O=pikepdf.Name.Table)
                attributes.Scope = pikepdf.Name.Row if scope == "row" and not in_head else pikepdf.Name.Column
            self.give_headers_scope(kid, in_head or kid.S == "/THead")

    # One element, however many pages ---------------------------------------------------------

    def join_split_elements(self, element) -> None:
        """Merge the pieces of an element that WeasyPrint split over pages, and turn the repeats of a
        table's header rows into artifacts (they are announced once, with the table)."""
        kids = _kids(element)
        if not kids:
            return
        seen_groups: dict[int, object] = {}
        kept: list = []
        for kid in kids:
            html = self.html_element(kid) if _is_struct(kid) else None
            if html is not None and kid.S in REPEATED_GROUPS:
                if id(html) in seen_groups:
                    self.remember_header_ids(seen_groups[id(html)], kid)
                    self.make_artifact(kid, "Pagination")
                    continue
                seen_groups[id(html)] = kid
            previous = kept[-1] if kept else None
            if (
                html is not None
                and previous is not None
                and _is_struct(previous)
                and self.html_element(previous) is html
                and previous.S == kid.S
            ):
                self.absorb(previous, kid)
                continue
            kept.append(kid)
        if len(kept) != len(kids):
            element.K = pikepdf.Array(kept)
        for kid in kept:
            if _is_struct(kid):
                self.join_split_elements(kid)

    def absorb(self, first, second) -> None:
        """Move ``second``'s children (the same element's next page) into ``first``."""
        first_kids = _kids(first)
        moved_marked_content = False
        for kid in _kids(second):
            if _is_struct(kid):
                kid.P = first
            elif isinstance(kid, int):
                # Marked content on another page than the element's names its page: an MCR.
                kid = pikepdf.Dictionary(Type=pikepdf.Name.MCR, Pg=second.Pg, MCID=kid)
                moved_marked_content = True
            first_kids.append(kid)
        first.K = pikepdf.Array(first_kids)
        second.K = pikepdf.Array([])
        if moved_marked_content:
            self.reparent_marked_content(second, first)

    def reparent_marked_content(self, old, new) -> None:
        nums = self.pdf.Root.StructTreeRoot.ParentTree.Nums
        for index in range(1, len(nums), 2):
            entry = nums[index]
            if isinstance(entry, pikepdf.Array):
                for position, value in enumerate(entry):
                    if isinstance(value, pikepdf.Dictionary) and value.objgen == old.objgen:
                        entry[position] = new

    def remember_header_ids(self, original_group, repeated_group) -> None:
        originals = {}
        for cell in self.cells(original_group):
            html = self.html_element(cell)
            if html is not None and "/ID" in cell:
                originals[id(html)] = cell.ID
        for cell in self.cells(repeated_group):
            html = self.html_element(cell)
            if html is not None and "/ID" in cell and id(html) in originals:
                self.header_ids[bytes(cell.ID)] = originals[id(html)]

    def cells(self, element) -> Iterator:
        for kid in _kids(element):
            if _is_struct(kid):
                if kid.S in ("/TH", "/TD"):
                    yield kid
                else:
                    yield from self.cells(kid)

    def point_headers_at_originals(self, element) -> None:
        for kid in _kids(element):
            if not _is_struct(kid):
                continue
            attributes = kid.get("/A")
            if kid.S == "/TD" and attributes is not None and "/Headers" in attributes:
                attributes.Headers = pikepdf.Array(
                    [self.header_ids.get(bytes(header), header) for header in attributes.Headers]
                )
            self.point_headers_at_originals(kid)

    # Running header and footer ---------------------------------------------------------------

    def place_margins(self, document) -> None:
        """The first page's top marking becomes the document's first paragraph (announced once); every
        other header and footer becomes an artifact, as page furniture."""
        roots = []
        for page_index, rule, start, end in self.record.margins:
            for number in range(start, end):
                try:
                    obj = self.pdf.get_object((number, 0))
                except (ValueError, KeyError):  # pragma: no cover - numbers come from the same write
                    continue
                if not _is_struct(obj) or obj.get("/P") is None or obj.P.objgen != document.objgen:
                    continue
                if (page_index, rule) == TOP_MARKING:
                    obj.S = pikepdf.Name.P
                    roots.append(obj)
                else:
                    self.make_artifact(obj, "Pagination")
        if roots:
            document.K = pikepdf.Array(roots + _kids(document))

    # Content streams -------------------------------------------------------------------------

    def rewrite_artifacts(self) -> None:
        """Turn the chosen marked content into artifacts in the pages' content streams, and drop it
        from the parent tree. The streams are rewritten as bytes: WeasyPrint (pydyf) writes every
        tagged piece as ``/Tag <</MCID n>> BDC``, and parsing whole streams would cost more than the
        rest of this module together."""
        nums = self.pdf.Root.StructTreeRoot.ParentTree.Nums
        page_mcids = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        for page_index, mcids in self.artifacts.items():
            page = self.pdf.pages[page_index]

            def artifact(match: re.Match[bytes], mcids: dict[int, str] = mcids) -> bytes:
                kind = mcids.get(int(match.group(2)))
                return match.group(0) if kind is None else b"/Artifact <</Type /" + kind.encode() + b">> BDC"

            contents = page.obj.Contents
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
            for stream in streams:
                stream.write(MARKED_CONTENT.sub(artifact, stream.read_bytes()))
            parents = page_mcids.get(page_index)
            if isinstance(parents, pikepdf.Array):
                for mcid in mcids:
                    if mcid < len(parents):
                        parents[mcid] = None

    def single_kids_unwrapped(self, element) -> None:
        """/K holds a lone kid itself rather than a one-item array (both are valid; some checkers
        read only the first form)."""
        kids = _kids(element)
        if isinstance(element.get("/K"), pikepdf.Array) and len(kids) == 1:
            element.K = kids[0]
        for kid in kids:
            if _is_struct(kid):
                self.single_kids_unwrapped(kid)


def complete_tagging(pdf_bytes: bytes, record: Recording) -> bytes:
    """The same PDF with its tagging completed (see the module's docstring)."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        tagging = _Tagging(pdf, record)
        document = _kids(pdf.Root.StructTreeRoot)[0]
        tagging.place_margins(document)
        tagging.join_split_elements(document)
        tagging.point_headers_at_originals(document)
        tagging.give_headers_scope(document)
        tagging.rewrite_artifacts()
        tagging.single_kids_unwrapped(document)
        pdf.remove_unreferenced_resources()
        output = io.BytesIO()
        # Keep the document as WeasyPrint wrote it (PDF/UA identification in the XMP metadata, the
        # catalogue's /Lang, /MarkInfo and /ViewerPreferences): only the structure changes.
        pdf.save(output, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return output.getvalue()

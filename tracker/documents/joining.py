"""One tagged PDF (PDF/UA-1) from the tagged PDFs of a document's parts, laid out and written one by one.

WeasyPrint keeps every page of a document laid out until the PDF is written: a summary of thousands of
actions took a gigabyte. tracker.documents.render lays out and writes a very long document in parts
instead, each part freed before the next; this module joins them. Each part comes from
tracker.documents.tagging, written as a part (see :class:`tagging.Part`): only the first part links
its first page's marking into the structure; its header cells' IDs are unique in the document; its
text is held by the cells themselves. Joining then:

- appends each part's pages (and, with them, their content, fonts and annotations);
- appends each part's structure elements to the first part's one /Document element, and the pieces
  of a table continued from the part before into that table, so it stays one table;
- carries the parent tree over, each part's keys (its pages' /StructParents, its annotations'
  /StructParent) moved on past the keys already in use; marked content IDs belong to their page and
  stay as they are;
- hangs each later part's bookmarks under the document's title (a later part has no h1);
- draws each page's number ("Page X of Y", laid out once the page count is known, as artifacts)
  over it, as a form XObject.

The catalog, the document information and the XMP metadata (title, language, the PDF/UA
identification) are the first part's, which are the whole document's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pikepdf


@dataclass
class PartPdf:
    pdf: bytes
    # The part starts by continuing the last table of the part before (a group split between parts).
    continues_table: bool = False


def _kids(element: pikepdf.Object) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _is_element(kid) -> bool:
    return isinstance(kid, pikepdf.Dictionary) and "/S" in kid


def _document_element(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    (document,) = _kids(pdf.Root.StructTreeRoot)
    return document


def _last(element: pikepdf.Dictionary, tag: str) -> pikepdf.Dictionary | None:
    """The last element tagged ``tag`` in reading order under ``element`` (itself included)."""
    if element.get("/S") == tag:
        return element
    for kid in reversed(_kids(element)):
        if _is_element(kid) and (found := _last(kid, tag)) is not None:
            return found
    return None


def _first_table_body(element: pikepdf.Dictionary) -> pikepdf.Dictionary | None:
    for kid in _kids(element):
        if not _is_element(kid):
            continue
        if kid.S == "/TBody":
            return kid
        if (found := _first_table_body(kid)) is not None:
            return found
    return None


def _elements_outside(element: pikepdf.Dictionary, body: pikepdf.Dictionary) -> int:
    """How many structure elements ``element`` is, and holds, outside ``body``: a continued group is
    two, itself and its table (the table's repeated header row is an artifact)."""
    if element.objgen == body.objgen:
        return 0
    return 1 + sum(_elements_outside(kid, body) for kid in _kids(element) if _is_element(kid))


def join(parts: list[PartPdf], page_numbers: bytes) -> bytes:
    """The parts, in order, as one tagged PDF, with the pages of ``page_numbers`` (as many, with
    nothing but page furniture: artifacts) drawn over theirs."""
    pdf = pikepdf.open(io.BytesIO(parts[0].pdf))
    document = _document_element(pdf)
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    with pdf.open_outline() as outline:
        title_item = outline.root[0] if len(outline.root) else None
        for part in parts[1:]:
            with pikepdf.open(io.BytesIO(part.pdf)) as source:
                _append(pdf, document, nums, source, part.continues_table)
                with source.open_outline() as part_outline:
                    _append_bookmarks(pdf, outline, title_item, part_outline.root)
    with pikepdf.open(io.BytesIO(page_numbers)) as numbers:
        if len(numbers.pages) != len(pdf.pages):  # pragma: no cover - render.py lays out one per page
            raise ValueError("page numbers for a different number of pages")
        for page, numbered in zip(pdf.pages, numbers.pages, strict=True):
            _draw_over(pdf, page, numbered)
    output = io.BytesIO()
    pdf.save(output, object_stream_mode=pikepdf.ObjectStreamMode.generate)  # as WeasyPrint writes them
    pdf.close()
    return output.getvalue()


def _append(pdf, document, nums, source: pikepdf.Pdf, continues_table: bool) -> None:
    shift = max((int(nums[i]) for i in range(0, len(nums), 2)), default=-1) + 1
    for page in source.pages:
        if "/StructParents" in page.obj:
            page.obj.StructParents = int(page.obj.StructParents) + shift
        for annotation in page.obj.get("/Annots", []):
            if "/StructParent" in annotation:
                annotation.StructParent = int(annotation.StructParent) + shift
    # Pages first: copying the structure then finds them already copied (pikepdf keeps one copy of each
    # object per source), so every /Pg names a page of the joined document.
    pdf.pages.extend(source.pages)
    source_nums = source.Root.StructTreeRoot.ParentTree.Nums
    for i in range(0, len(source_nums), 2):
        nums.append(int(source_nums[i]) + shift)
        nums.append(_copied(pdf, source_nums[i + 1]))

    kids = [pdf.copy_foreign(kid) for kid in _kids(_document_element(source))]
    if continues_table and kids:
        continued, body = _last(document, "/Table"), _first_table_body(kids[0])
        target = _first_table_body(continued) if continued is not None else None
        if body is None or target is None:  # pragma: no cover - the part plan promised a table on both sides
            raise ValueError("a part said to continue a table has no table to continue")
        if _elements_outside(kids[0], body) != 2:  # pragma: no cover - the template's continued group
            raise ValueError("a continued group holds more than its table")
        rows = _kids(body)
        for row in rows:
            row.P = target
        target.K = pikepdf.Array(_kids(target) + rows)
        kids = kids[1:]  # the continued group's wrapper (and its table), now joined to the table before
    for kid in kids:
        kid.P = document
    document.K = pikepdf.Array(_kids(document) + kids)


def _draw_over(pdf: pikepdf.Pdf, page: pikepdf.Page, furniture: pikepdf.Page) -> None:
    """Draw ``furniture`` (a page of another PDF, of the same size) over ``page``, as an artifact: its
    own content is marked as artifacts already, and drawing it is too, so no content is left unmarked."""
    form = pdf.copy_foreign(furniture.as_form_xobject())
    name = page.add_resource(form, pikepdf.Name.XObject, prefix="Furniture")
    # WeasyPrint's content starts by turning the page's coordinates upside down: draw in the page's own.
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(f"\nQ\n/Artifact <</Type /Pagination>> BDC q {name} Do Q EMC\n".encode())


def _copied(pdf: pikepdf.Pdf, value):
    """``value`` (from another PDF) in ``pdf``: an indirect object copied, an array of them item by item."""
    if isinstance(value, pikepdf.Array) and not value.is_indirect:
        return pikepdf.Array([_copied(pdf, item) for item in value])
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return pdf.copy_foreign(value)
    return value


def _append_bookmarks(pdf, outline, title_item, items) -> None:
    parent = title_item.children if title_item is not None else outline.root
    for item in items:
        parent.append(_copied_bookmark(pdf, item))


def _copied_bookmark(pdf, item: pikepdf.OutlineItem) -> pikepdf.OutlineItem:
    copy = pikepdf.OutlineItem(item.title, _copied(pdf, item.destination))
    copy.children.extend(_copied_bookmark(pdf, child) for child in item.children)
    return copy

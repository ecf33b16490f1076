"""The one render path for every PDF: Jinja template + print CSS -> WeasyPrint (tagged, PDF/UA-1) ->
tracker.documents.tagging, which completes the tagging WeasyPrint leaves unfinished.

Work that does not depend on the document is done once per process, not once per PDF: the print CSS
(tracker/static/pdf.css, and pdf-draft.css for drafts) is parsed once and handed to WeasyPrint as
stylesheets, and so is WeasyPrint's own default stylesheet, less the rules that give every element of
every document pseudo-elements it never has (see :data:`USER_AGENT_STYLESHEET`).
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass

from flask import render_template
from weasyprint import CSS, HTML, Document
from weasyprint.html import UA as WEASYPRINT_USER_AGENT_CSS
from weasyprint.html import UA_COUNTER_STYLE

from tracker.documents import tagging
from tracker.documents.fetcher import BASE_URL, StaticOnlyFetcher
from tracker.timeutil import format_datetime, utcnow

PRINT_CSS = "pdf.css"
DRAFT_CSS = "pdf-draft.css"  # the DRAFT watermark, added until minutes are approved


@dataclass
class RenderedPdf:
    pdf: bytes
    html: str
    pages: int
    refused_urls: list[str]
    draft: bool = False
    html_parts: list[HtmlPart] | None = None  # a document made in parts: the HTML of each


def new_document_id(prefix: str) -> str:
    return f"{prefix}-{utcnow():%Y%m%d}-{secrets.token_hex(3).upper()}"


def render_html(template: str, **context) -> str:
    return render_template(template, generated_at=format_datetime(utcnow()), **context)


# WeasyPrint's default (user agent) stylesheet, less the rules for pseudo-elements that our documents
# never have. It styles ::marker, and the pseudo-elements of footnotes and notes, with selectors that
# match every element: WeasyPrint then computes six pseudo-element styles for each element of every
# document. That cost a seventh of the layout time and, in a long action summary, most of the memory
# that styles hold. Markers belong to list items only (the rule is kept for them); our print CSS makes
# no footnotes and no notes, so their rules go. tests/test_documents.py checks that the print CSS
# still makes neither, and that a document is drawn the same with either stylesheet.
_MARKER_RULE = re.compile(r"^::marker \{", re.MULTILINE)
_NOTE_RULES = re.compile(
    r"^::(footnote-call|footnote-marker|note-call|note-marker|note-callback) \{[^\n]*\}\n", re.MULTILINE
)


def _scoped_user_agent_css(css: str) -> str:
    css, markers = _MARKER_RULE.subn("li::marker {", css)
    css, notes = _NOTE_RULES.subn("", css)
    if (markers, notes) != (1, 5):
        # WeasyPrint is pinned (requirements.txt): a version whose stylesheet differs fails here, at import.
        raise RuntimeError("WeasyPrint's default stylesheet is not the one tracker/documents/render.py expects")
    return css


USER_AGENT_STYLESHEET = CSS(string=_scoped_user_agent_css(WEASYPRINT_USER_AGENT_CSS), counter_style=UA_COUNTER_STYLE)


class PdfHTML(HTML):
    """WeasyPrint's HTML, with the scoped default stylesheet."""

    def _ua_stylesheets(self, forms=False):
        if forms:  # pragma: no cover - our documents have no forms (pdf_forms is never set)
            return super()._ua_stylesheets(forms)
        return [USER_AGENT_STYLESHEET]


@functools.cache
def _parsed_stylesheet(name: str) -> CSS:
    # Through the same fetcher as the documents: our static files only. A CSS object is only read
    # while rendering, so one parse serves every document (and every thread) of the process.
    return CSS(url=BASE_URL + name, url_fetcher=StaticOnlyFetcher())


def print_stylesheets(*, draft: bool) -> list[CSS]:
    """The parsed print CSS for a document (parsed once per process)."""
    return [_parsed_stylesheet(PRINT_CSS), *([_parsed_stylesheet(DRAFT_CSS)] if draft else [])]


def layout(
    html: str, *, draft: bool, fetcher: StaticOnlyFetcher | None = None, numbering: CSS | None = None
) -> Document:
    """WeasyPrint's part before the PDF is written: parse the HTML, apply the CSS, lay out the pages."""
    fetcher = fetcher or StaticOnlyFetcher()
    source = PdfHTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return source.render(stylesheets=print_stylesheets(draft=draft) + ([numbering] if numbering else []))


def html_to_pdf(html: str, *, draft: bool) -> RenderedPdf:
    fetcher = StaticOnlyFetcher()
    document = layout(html, draft=draft, fetcher=fetcher)
    pdf = tagging.write_tagged_pdf(document)
    return RenderedPdf(pdf=pdf, html=html, pages=len(document.pages), refused_urls=fetcher.refused, draft=draft)


def render_pdf(template: str, *, draft: bool, **context) -> RenderedPdf:
    return html_to_pdf(render_html(template, draft=draft, **context), draft=draft)


# A very long document, in parts ------------------------------------------------------------------
#
# WeasyPrint keeps every page laid out (every box of every line) until the whole PDF is written, and
# builds the structure tree from those boxes: the memory a document takes grows with its length (a
# 5,000-action summary took almost a gigabyte). A very long document is therefore made of parts, each
# laid out and written on its own, its memory freed before the next, then joined
# (tracker/documents/joining.py). The page footer says "Page X of Y": a part's pages are numbered on
# from the part before, and Y, the document's page count, is known only once every part is laid out,
# so each part is laid out twice: once to count its pages, once to be written.


@dataclass
class HtmlPart:
    html: str
    # The part starts by continuing the last table of the part before (see joining.PartPdf).
    continues_table: bool = False


def _numbering(first_page: int, total_pages: int) -> CSS:
    """A part's page numbers: the page counter starts at ``first_page``; Y is the document's page count.
    The footer's wording is pdf.css's (@bottom-right), with counter(pages) given as a number."""
    return CSS(
        string=f"@page :first {{ counter-reset: page {first_page} }}\n"
        f'@page {{ @bottom-right {{ content: "Page " counter(page) " of {total_pages}" }} }}'
    )


def html_parts_to_pdf(parts: list[HtmlPart], *, draft: bool) -> RenderedPdf:
    """One PDF of a document given in parts (see above); each part's memory is freed before the next."""
    from tracker.documents import joining  # pikepdf: loaded only by the few documents made in parts

    fetcher = StaticOnlyFetcher()
    page_counts = []
    for part in parts:
        # WeasyPrint numbers pages without knowing the others: here only the count matters.
        page_counts.append(len(layout(part.html, draft=draft, fetcher=fetcher).pages))
    total, first_page, written = sum(page_counts), 1, []
    for index, (part, counted) in enumerate(zip(parts, page_counts, strict=True)):
        document = layout(part.html, draft=draft, fetcher=fetcher, numbering=_numbering(first_page, total))
        if len(document.pages) != counted:  # pragma: no cover - WeasyPrint's layout is deterministic
            raise RuntimeError("a part of the document was laid out on a different number of pages")
        pdf = tagging.write_tagged_pdf(document, tagging.Part(first=index == 0, id_prefix=f"p{index}-"))
        del document
        written.append(joining.PartPdf(pdf, continues_table=part.continues_table))
        first_page += counted
    return RenderedPdf(
        pdf=joining.join(written),
        html="",  # no one HTML: see html_parts
        pages=total,
        refused_urls=fetcher.refused,
        draft=draft,
        html_parts=parts,
    )

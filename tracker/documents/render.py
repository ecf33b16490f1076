"""The one render path for every PDF: Jinja template + print CSS -> WeasyPrint (tagged, PDF/UA-1) ->
tracker.documents.tagging, which completes the tagging WeasyPrint leaves unfinished.

Work that does not depend on the document is done once per process, not once per PDF: the print CSS
(tracker/static/pdf.css, and pdf-draft.css for drafts) is parsed once and handed to WeasyPrint as
stylesheets, and so is WeasyPrint's own default stylesheet, less the rules that give every element of
every document pseudo-elements it never has (see :data:`USER_AGENT_STYLESHEET`).
"""

from __future__ import annotations

import functools
import io
import re
import secrets
from dataclasses import dataclass
from xml.etree import ElementTree

import cssselect2
import tinyhtml5
from flask import render_template
from lxml import etree
from weasyprint import CSS, HTML, Document, _find_base_url
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


class _ElementTreeBuilder(ElementTree.TreeBuilder):
    """Builds the standard library's elements, as WeasyPrint's own parser does, from lxml's events
    (lxml hands each element's attributes over as a read-only mapping; the builder wants a dict)."""

    def start(self, tag, attrs):
        return super().start(tag, dict(attrs))


# Markup whose parsing the standard defines differently from libxml2, and which our templates do not
# make (a chart's inline SVG aside): a document holding any of it is parsed by tinyhtml5.
# - SVG and MathML get namespaces of their own, and the case of names such as viewBox is restored;
# - <pre>, <textarea> and <listing> lose the line break that opens them;
# - a NUL character is dropped from text, where libxml2 shows U+FFFD.
# User text cannot open any of these elements: it is escaped, so "<svg" is always our markup. Nor can
# it hold a NUL: the forms refuse control characters.
_LEFT_TO_TINYHTML5 = ("<svg", "<math", "<pre", "<textarea", "<listing", "\x00")


def parse_html(html: str) -> ElementTree.Element:
    """Our documents' HTML as the tree WeasyPrint's own parser (tinyhtml5) makes of it, twenty times
    faster: libxml2 parses it in C (lxml), and the tree is built of the standard library's elements,
    as tinyhtml5 builds it. tinyhtml5 follows the HTML standard's parsing rules in Python, and took
    about 4 % of a minutes document's whole render. Where libxml2's rules differ from the standard's,
    for markup our templates do not make (a table row outside a table section, a block inside a
    paragraph, the cases of _LEFT_TO_TINYHTML5), tests/test_pdf_layout.py compares the two trees for
    every kind of document. Whitespace around <head> and after </body> is placed as the standard
    places it. Anything libxml2 reports as an error (text that is not valid Unicode, say, after which
    it would stop reading) is parsed by tinyhtml5 instead, as before: nothing is silently lost."""
    if any(marker in html for marker in _LEFT_TO_TINYHTML5):
        return _parsed_by_tinyhtml5(html)
    try:
        data = html.encode("utf-8")  # strict: a lone surrogate fails here
    except UnicodeEncodeError:
        return _parsed_by_tinyhtml5(html)
    parser = etree.HTMLParser(
        target=_ElementTreeBuilder(insert_comments=True), encoding="utf-8", huge_tree=True, no_network=True
    )
    root = etree.fromstring(data, parser)
    if len(parser.error_log):
        return _parsed_by_tinyhtml5(html)
    if root.text is not None and not root.text.strip():
        root.text = None  # the standard drops whitespace before <head>
    body = root.find("body")
    # The standard keeps text after </body> in the body, after its last child, and whitespace after
    # </html> too (libxml2 drops that).
    content = html.rstrip()
    after_html = html[len(content) :] if content.endswith("</html>") else ""
    after_body = (body.tail or "") + after_html if body is not None else ""
    if body is not None and after_body:
        if len(body):
            body[-1].tail = (body[-1].tail or "") + after_body
        else:
            body.text = (body.text or "") + after_body
        body.tail = None
    return root


def _parsed_by_tinyhtml5(html: str) -> ElementTree.Element:
    return tinyhtml5.parse(io.StringIO(html), namespace_html_elements=False)  # as WeasyPrint calls it


class PdfHTML(HTML):
    """WeasyPrint's HTML, parsed by :func:`parse_html`, with the scoped default stylesheet."""

    def __init__(self, *, string: str, base_url: str, url_fetcher: StaticOnlyFetcher):
        # What HTML.__init__ does for a string (WeasyPrint is pinned), with our parser instead of tinyhtml5.
        root = parse_html(string)
        self.base_url = _find_base_url(root, base_url)
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element

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
# (tracker/documents/joining.py). The footer's "Page X of Y" needs the document's page count, known
# only once every part is laid out: the parts are written without it, and the page numbers are laid
# out afterwards as a document of their own, as many pages of nothing but that footer (pdf.css's
# @bottom-right, in the same place), which joining draws over the parts' pages, as page furniture
# (artifacts), as they were.


@dataclass
class HtmlPart:
    html: str
    # The part starts by continuing the last table of the part before (see joining.PartPdf).
    continues_table: bool = False


# The parts' pages without their numbers; the numbers' pages with nothing else. A margin box with no
# content is not made, and the others keep their place (each has its width in pdf.css).
WITHOUT_PAGE_NUMBERS = CSS(string="@page { @bottom-right { content: none } }")
PAGE_NUMBERS_ONLY = CSS(
    string="@page { @top-left { content: none } @top-center { content: none } "
    "@bottom-center { content: none } @bottom-left { content: none } }\n"
    ".page + .page { break-before: page }"
)


def page_numbers_html(pages: int) -> str:
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Page numbers</title></head><body>'
        + '<div class="page"></div>' * pages
        + "</body></html>"
    )


def html_parts_to_pdf(parts: list[HtmlPart], *, draft: bool) -> RenderedPdf:
    """One PDF of a document given in parts (see above); each part's memory is freed before the next."""
    from tracker.documents import joining  # pikepdf: loaded only by the few documents made in parts

    fetcher = StaticOnlyFetcher()
    written, pages = [], 0
    for index, part in enumerate(parts):
        document = layout(part.html, draft=draft, fetcher=fetcher, numbering=WITHOUT_PAGE_NUMBERS)
        pages += len(document.pages)
        pdf = tagging.write_tagged_pdf(document, tagging.Part(first=index == 0, id_prefix=f"p{index}-"))
        del document
        written.append(joining.PartPdf(pdf, continues_table=part.continues_table))
    numbers = layout(page_numbers_html(pages), draft=False, fetcher=fetcher, numbering=PAGE_NUMBERS_ONLY)
    if len(numbers.pages) != pages:  # pragma: no cover - one page per empty block, each after a break
        raise RuntimeError("the page numbers were laid out on a different number of pages")
    page_numbers = tagging.write_tagged_pdf(numbers, tagging.Part(first=False, id_prefix="numbers-"))
    return RenderedPdf(
        pdf=joining.join(written, page_numbers),
        html="",  # no one HTML: see html_parts
        pages=pages,
        refused_urls=fetcher.refused,
        draft=draft,
        html_parts=parts,
    )

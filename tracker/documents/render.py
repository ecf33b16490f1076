"""The one render path for every PDF: Jinja template + print CSS -> WeasyPrint (tagged, PDF/UA-1) ->
tracker.documents.tagging, which completes the tagging WeasyPrint leaves unfinished."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import render_template
from weasyprint import HTML

from tracker.documents import tagging
from tracker.documents.fetcher import BASE_URL, StaticOnlyFetcher
from tracker.timeutil import format_datetime, utcnow


@dataclass
class RenderedPdf:
    pdf: bytes
    html: str
    pages: int
    refused_urls: list[str]


def new_document_id(prefix: str) -> str:
    return f"{prefix}-{utcnow():%Y%m%d}-{secrets.token_hex(3).upper()}"


def render_html(template: str, **context) -> str:
    return render_template(template, generated_at=format_datetime(utcnow()), **context)


def html_to_pdf(html: str) -> RenderedPdf:
    fetcher = StaticOnlyFetcher()
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
    with tagging.recording() as record:
        pdf = document.write_pdf(pdf_variant="pdf/ua-1")
    pdf = tagging.complete_tagging(pdf, record)
    return RenderedPdf(pdf=pdf, html=html, pages=len(document.pages), refused_urls=fetcher.refused)


def render_pdf(template: str, **context) -> RenderedPdf:
    return html_to_pdf(render_html(template, **context))

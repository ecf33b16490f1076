"""The board report PDF for a period: headline figures against the previous period, the charts,
learning themes, grades, attendance, accountability by agency and the overdue actions with their
latest update. Rendered by the one PDF render path (tagged, marked, fonts embedded)."""

from __future__ import annotations

from flask import current_app

from tracker.documents.render import RenderedPdf, new_document_id, render_pdf
from tracker.models import User
from tracker.permissions import redaction_for
from tracker.reports.figures import ACCOUNTABILITY_COLUMNS, PeriodReport, accountability_cell, build_charts
from tracker.timeutil import london_today


def render_board_report(report: PeriodReport, user: User, *, produced_for: str) -> RenderedPdf:
    charts = {name: chart.for_pdf() for name, chart in build_charts(report).items()}
    return render_pdf(
        "pdf/board_report.html",
        title=f"Scrutiny board report, {report.period.label}",
        subject="Domestic abuse response scrutiny: what the panel is learning and whether agencies do what they agreed",
        report=report,
        charts=charts,
        accountability_columns=ACCOUNTABILITY_COLUMNS,
        accountability_cell=accountability_cell,
        scoped_to=redaction_for(user),
        today=london_today(),
        draft=False,
        document_id=new_document_id("BRD"),
        revision=None,
        produced_for=produced_for,
        service_name=current_app.config["SERVICE_NAME"],
    )

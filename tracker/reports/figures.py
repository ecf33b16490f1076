"""One period report, built once and shown three ways: on the reports page, in the board report PDF
and as CSV tables. The tables are defined here only, so the three always carry the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from tracker.models import User
from tracker.reports import charts
from tracker.reports import queries as report_queries
from tracker.reports.periods import Period
from tracker.timeutil import format_date, london_today


@dataclass
class PeriodReport:
    period: Period
    previous: Period
    scrutiny: report_queries.ScrutinyFigures
    themes: report_queries.Themes
    agencies: list[report_queries.AgencyInvolvement]
    attendance: list[report_queries.AgencyAttendance]
    accountability: list[report_queries.AgencyAccountability]
    overdue: list[report_queries.OverdueAction]
    overdue_total: int
    headline: list[tuple[str, report_queries.Compared]]

    @property
    def unfinished(self) -> bool:
        """The period is not over yet: its figures run to today, set against a whole period before."""
        return self.period.last >= london_today()

    @property
    def now_label(self) -> str:
        # Said wherever the period is named, so that "down 17" against a whole quarter is not misread.
        return f"{self.period.label} (so far)" if self.unfinished else self.period.label

    @property
    def before_label(self) -> str:
        return self.previous.label


# The reports page and the board report list the most overdue actions (a board paper stays short);
# the CSV has every one, and the actions list filters them.
OVERDUE_ON_PAGE, OVERDUE_IN_PDF, OVERDUE_IN_CSV = 25, 50, 100_000


def build_report(user: User, period: Period, *, overdue_limit: int = OVERDUE_ON_PAGE) -> PeriodReport:
    scrutiny = report_queries.scrutiny_figures(user, period)
    accountability = report_queries.accountability_by_agency(user, period)
    overdue, overdue_total = report_queries.overdue_actions(user, limit=overdue_limit)
    return PeriodReport(
        period=period,
        previous=period.previous(),
        scrutiny=scrutiny,
        themes=report_queries.learning_themes(user, period),
        agencies=report_queries.agencies_involved(user, period),
        attendance=report_queries.attendance_by_agency(user, period),
        accountability=accountability,
        overdue=overdue,
        overdue_total=overdue_total,
        headline=report_queries.headline(scrutiny, accountability),
    )


def build_charts(report: PeriodReport) -> dict[str, charts.Chart]:
    now, before = report.now_label, report.before_label
    bars = partial(charts.compared_bars, period_label=now, previous_label=before)
    scrutiny = report.scrutiny
    quarter_labels = [f"{quarter.first:%b}–{quarter.last:%b %Y}" for quarter in report.themes.quarters]
    top = report.themes.top
    return {
        "grades": bars(
            "Scrutiny grades",
            [label for label, _ in scrutiny.grades],
            [c.now for _, c in scrutiny.grades],
            [c.before for _, c in scrutiny.grades],
            horizontal=True,
        ),
        "risks": bars(
            "Risk levels of the cases reviewed",
            [label for label, _ in scrutiny.risks],
            [c.now for _, c in scrutiny.risks],
            [c.before for _, c in scrutiny.risks],
        ),
        "flags": bars(
            "Risk flags recorded",
            [label for label, _ in scrutiny.flags],
            [c.now for _, c in scrutiny.flags],
            [c.before for _, c in scrutiny.flags],
            horizontal=True,
        ),
        "top_themes": bars(
            "Learning themes recorded most often",
            [theme.name for theme in top],
            [theme.counts.now for theme in top],
            [theme.counts.before for theme in top],
            horizontal=True,
        ),
        "theme_trend": charts.trend_lines(
            "Learning themes over eight quarters", quarter_labels, [(theme.name, theme.trend) for theme in top]
        ),
        "attendance": bars(
            "Attendance rate by agency",
            [row.agency.name for row in report.attendance],
            [row.rate_now.percent for row in report.attendance],
            [row.rate_before.percent for row in report.attendance],
            unit="%",
            horizontal=True,
        ),
        "on_time": bars(
            "Actions completed on time, by agency",
            [row.agency.name for row in report.accountability],
            [row.on_time_now.percent for row in report.accountability],
            [row.on_time_before.percent for row in report.accountability],
            unit="%",
            horizontal=True,
        ),
        "overdue": bars(
            "Actions overdue at the end of the period, by agency",
            [row.agency.name for row in report.accountability],
            [row.overdue_at_end.now for row in report.accountability],
            [row.overdue_at_end.before for row in report.accountability],
            horizontal=True,
        ),
    }


# CSV tables ------------------------------------------------------------------------------------

CSV_TABLES = {
    "headline": "Headline figures",
    "grades": "Scrutiny grades",
    "risks": "Risk levels and flags",
    "themes": "Learning themes",
    "agencies": "Agencies involved",
    "attendance": "Attendance by agency",
    "accountability": "Accountability by agency",
    "overdue": "Overdue actions",
}


def csv_table(report: PeriodReport, name: str) -> tuple[list[str], list[list[object]]]:
    """The header and rows of one of the report's tables (name is a key of CSV_TABLES)."""
    now, before = report.now_label, report.before_label
    compared_header = ["Figure", now, before]
    if name == "headline":
        return compared_header, [[label, c.now, c.before] for label, c in report.headline]
    if name == "grades":
        return compared_header, [[label, c.now, c.before] for label, c in report.scrutiny.grades]
    if name == "risks":
        rows = [[f"Risk: {label}", c.now, c.before] for label, c in report.scrutiny.risks]
        rows += [[f"Flag: {label}", c.now, c.before] for label, c in report.scrutiny.flags]
        return compared_header, rows
    if name == "themes":
        quarters = [f"{quarter.first:%b %Y} to {quarter.last:%b %Y}" for quarter in report.themes.quarters]
        header = ["Learning theme", now, before, *quarters, "Retired"]
        return header, [
            [theme.name, theme.counts.now, theme.counts.before, *theme.trend, "" if theme.active else "Yes"]
            for theme in report.themes.rows
        ]
    if name == "agencies":
        return ["Agency", now, before], [
            [row.agency.name, row.reviews.now, row.reviews.before] for row in report.agencies
        ]
    if name == "attendance":
        header = ["Agency"] + [
            f"{figure} ({label})"
            for label in (now, before)
            for figure in ("Invited", "Attended", "Apologies", "Absent", "Attendance rate")
        ]
        rows = []
        for row in report.attendance:
            rows.append(
                [
                    row.agency.name,
                    *(
                        value
                        for values in (
                            (row.invited.now, row.attended.now, row.apologies.now, row.absent.now, row.rate_now.text),
                            (
                                row.invited.before,
                                row.attended.before,
                                row.apologies.before,
                                row.absent.before,
                                row.rate_before.text,
                            ),
                        )
                        for value in values
                    ),
                ]
            )
        return header, rows
    if name == "accountability":
        figures = ACCOUNTABILITY_COLUMNS
        header = ["Agency"] + [f"{title} ({label})" for label in (now, before) for _, title in figures]
        rows = []
        for agency_row in report.accountability:
            cells: list[object] = [agency_row.agency.name]
            for which in (1, 0):
                cells += [accountability_cell(agency_row, key, which) for key, _ in figures]
            rows.append(cells)
        return header, rows
    if name == "overdue":
        header = ["Action", "Agency", "Description", "Due", "Original due date", "Days overdue", "Latest update"]
        return header, [
            [
                item.action.reference,
                item.action.owning_agency.name,
                item.action.description,
                item.action.due_date.isoformat(),
                item.action.original_due_date.isoformat(),
                item.days_overdue,
                f"{format_date(item.latest_update_at)}: {item.latest_update_note}" if item.latest_update_at else "",
            ]
            for item in report.overdue
        ]
    raise KeyError(name)


ACCOUNTABILITY_COLUMNS = [
    ("raised", "Raised"),
    ("completed", "Completed"),
    ("on_time", "Completed on time"),
    ("on_time_rate", "On-time rate"),
    ("open_at_end", "Open at end"),
    ("overdue_at_end", "Overdue at end"),
    ("extended", "Extensions agreed"),
    ("days_added", "Days added"),
    ("median_days", "Median days to complete"),
]


def accountability_cell(row: report_queries.AgencyAccountability, key: str, which: int) -> object:
    """One accountability figure for the period (which=1) or the one before (which=0)."""
    if key == "on_time_rate":
        return (row.on_time_now if which else row.on_time_before).text
    if key == "median_days":
        return row.median_text(which)
    compared = getattr(row, key)
    return compared.now if which else compared.before

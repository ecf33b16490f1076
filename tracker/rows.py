"""The rows of the list pages' tables (meetings, cases), made in Python for govukTable, some whole
tables and items (the actions list's rows, attendance, the audit log, matters arising, the meeting's
task list), and what the actions list, a partner's home page and the action summary PDF show beside
an action's due date and status: a Jinja loop building each row's cells (a captured link block,
filters, a dict per cell), or a macro called for each, cost about a tenth of a millisecond a row, and
a list has 20 to 50. Templates call them by name; text given to govukTable is escaped by it, and
everything made here is escaped as it is made."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup

from tracker.escaping import escape
from tracker.tags import action_status, meeting_status, repeat, risk, tag
from tracker.templating import SmallInlineRadios, url_maker
from tracker.timeutil import format_date, format_datetime


def _link(href: str, text: str) -> Markup:
    return Markup(f'<a class="govuk-link" href="{escape(href)}">{escape(text)}</a>')  # noqa: S704 - escaped  # nosec B704


def meeting_rows(meetings, counts: dict[int, int]) -> list[list[dict]]:
    """The meetings list: date (a link to the meeting), location, chair, the cases the reader may see
    (``counts``, by meeting id) and status."""
    if not meetings:
        return []
    meeting_url = url_maker("meetings.meeting", "meeting_id")
    return [
        [
            {"html": _link(meeting_url(meeting.id), format_datetime(meeting.starts_at))},
            {"text": meeting.location},
            {"text": meeting.chair.display_name if meeting.chair else ""},
            {"text": counts.get(meeting.id, 0), "format": "numeric"},
            {"html": meeting_status(meeting)},
        ]
        for meeting in meetings
    ]


def case_rows(hits) -> list[list[dict]]:
    """The case search: reference (a link to the case), the date of its latest matching review, and
    how many reviews match."""
    if not hits:
        return []
    case_url = url_maker("cases.case", "case_id")
    return [
        [
            {"html": _link(case_url(hit.case.id), hit.case.reference)},
            {"text": format_date(hit.last_reviewed)},
            {"text": hit.reviews, "format": "numeric"},
        ]
        for hit in hits
    ]


# The start of an action's latest update that lists show (Jinja's truncate(120, true): cut mid-word, and
# not at all when at most five characters over).
LATEST_UPDATE_SHOWN, LATEST_UPDATE_LEEWAY = 120, 5


def action_rows(actions, today) -> list[list[dict]]:
    """The actions tables of a case and a case review (actions the reader may see): the action (its
    reference, a link to its page, and description), the owning agency's code, the owner or "Agency
    SPOC", the due date and the status."""
    if not actions:
        return []
    action_url = url_maker("actions.action", "action_id")
    return [
        [
            {
                "html": Markup(  # noqa: S704 - escaped  # nosec B704
                    f'<a class="govuk-link" href="{escape(action_url(action.id))}">{escape(action.reference)}</a> '
                    f"{escape(action.description)}"
                )
            },
            {"text": action.owning_agency.code},
            {"text": action.owner.display_name if action.owner else "Agency SPOC"},
            {"text": format_date(action.due_date)},
            {"html": action_status(action, today)},
        ]
        for action in actions
    ]


def actions_list_rows(actions, today) -> Markup:
    """The actions list's table body (ActionRow items): the action (a link by reference, the description
    and its case), the owning agency's code (its name on hover), the owner or "Agency SPOC", the due date
    with its history, the status and the latest update."""
    rows, action_url = [], url_maker("actions.action", "action_id")
    for action in actions:
        case = (
            f'<br><span class="govuk-body-s">Case {escape(action.case_reference)}</span>'
            if action.case_reference
            else ""
        )
        href = escape(action_url(action.id))
        rows.append(
            '<tr class="govuk-table__row">'
            f'<td class="govuk-table__cell"><a class="govuk-link" href="{href}">{escape(action.reference)}</a> '
            f"{escape(action.description)}{case}</td>"
            f'<td class="govuk-table__cell"><abbr title="{escape(action.agency_name)}">'
            f"{escape(action.agency_code)}</abbr></td>"
            f'<td class="govuk-table__cell">{escape(action.owner_name or "Agency SPOC")}</td>'
            f'<td class="govuk-table__cell" data-testid="due">{escape(format_date(action.due_date))}'
            f"{due_history(action)}</td>"
            f'<td class="govuk-table__cell">{action_status(action, today)}</td>'
            f'<td class="govuk-table__cell govuk-body-s" data-testid="latest-update">{latest_update(action)}</td>'
            "</tr>"
        )
    return Markup("\n".join(rows))  # noqa: S704 - every value escaped  # nosec B704


def due_history(action) -> Markup:
    """The original due date where it has moved, and how many times it moved later. The values come
    with the actions from one query (tracker/actions/queries.py with_follow_up())."""
    html = ""
    if action.original_due_date != action.due_date:
        html += (
            f'<br><span class="govuk-!-font-size-16">Originally {escape(format_date(action.original_due_date))}</span>'
        )
    if count := action.extension_count:
        html += f'<br><span class="govuk-!-font-size-16">Extended {count} {"time" if count == 1 else "times"}</span>'
    return Markup(html)  # noqa: S704 - a date and a number, escaped  # nosec B704


def latest_update(action) -> Markup:
    """The date and the start of the latest update, or a plain "No updates yet"."""
    if not action.latest_update_at:
        return Markup("No updates yet")
    text = action.latest_update_text or ""
    if len(text) > LATEST_UPDATE_SHOWN + LATEST_UPDATE_LEEWAY:
        text = text[: LATEST_UPDATE_SHOWN - 3] + "..."
    return Markup(  # noqa: S704 - escaped  # nosec B704
        f"<strong>{escape(format_date(action.latest_update_at))}:</strong> {escape(text)}"
    )


def matter_item(
    matter, today, progress_form: Markup | None = None, just_updated: bool = False, *, action_url=None
) -> Markup:
    """One matter arising (a MatterRow) on its page: reference and status, the description, due date,
    owner, when and for which case it was raised, its latest update, and ``progress_form`` (the row's
    form to record progress, for those who may) folded under a "Record progress" summary.
    ``action_url``: the action page's URL for an id (templating.url_maker), when the caller makes many."""
    reference = escape(matter.reference)
    saved = (
        f'<p class="govuk-body govuk-!-margin-bottom-1" data-testid="row-saved" role="status">'
        f"{tag('Update saved', 'green')}</p>"
        if just_updated
        else ""
    )
    owner = f" · Owner: {escape(matter.owner_name)}" if matter.owner_name else ""
    case = f" for case {escape(matter.case_reference)}" if matter.case_reference else ""
    if matter.latest_at:
        author = f", {escape(matter.latest_author)}" if matter.latest_author else ""
        latest = f"Latest update ({escape(format_datetime(matter.latest_at))}{author}): {escape(matter.latest_note)}"
    else:
        latest = "No updates yet."
    form = (
        '<details class="govuk-details"><summary class="govuk-details__summary">'
        f'<span class="govuk-details__summary-text">Record progress on {reference}</span></summary>'
        f'<div class="govuk-details__text">{progress_form}</div></details>'
        if progress_form is not None
        else ""
    )
    href = escape(action_url(matter.id) if action_url else url_for("actions.action", action_id=matter.id))
    return Markup(  # noqa: S704 - every value escaped; the form is our own markup  # nosec B704
        f'<div class="app-item" data-testid="matter-arising" id="action-{int(matter.id)}">'
        f'<h3 class="govuk-heading-s govuk-!-margin-bottom-1"><a class="govuk-link" href="{href}">{reference}</a> '
        f"{action_status(matter, today)}</h3>{saved}"
        f'<p class="govuk-body govuk-!-margin-bottom-1">{escape(matter.description)}</p>'
        f'<p class="govuk-body-s govuk-!-margin-bottom-1">Due {escape(format_date(matter.due_date))}{owner}'
        f" · Raised on {escape(format_date(matter.raised_on))}{case}</p>"
        f'<p class="govuk-body-s" data-testid="latest-update">{latest}</p>{form}</div>'
    )


def matters_list(matters, today, updatable: set[int], just_updated, progress_form, next_url: str, csrf: str) -> Markup:
    """The matters arising of a page (MatterRows, in agency order): a heading for each agency, then its
    matters (matter_item), each with its progress form (``progress_form(matter, next_url, csrf)``) if
    its id is in ``updatable``. (Written here, not as a Jinja loop: 25 items with their forms.)"""
    parts, agency_id = [], None
    action_url, form_url = url_maker("actions.action", "action_id"), url_maker("actions.progress", "action_id")
    for matter in matters:
        if matter.owning_agency_id != agency_id:
            agency_id = matter.owning_agency_id
            parts.append(
                '<h2 class="govuk-heading-m govuk-!-margin-top-6" data-testid="matters-agency">'
                f"{escape(matter.agency_name)}</h2>"
            )
        form = progress_form(matter, next_url, csrf, form_url=form_url) if matter.id in updatable else None
        parts.append(matter_item(matter, today, form, just_updated == matter.id, action_url=action_url))
    return Markup("".join(parts))  # noqa: S704 - every part escaped as it was made  # nosec B704


def case_task_list(tasks, meeting_id: int, show_feedback: bool) -> Markup:
    """The chair's and manager's meeting page: each case as a GOV.UK task list item (CaseTask: risk,
    repeat, grade, actions, agencies, themes, returns awaited, summary, and the feedback to the officer
    when ``show_feedback``) with its progress, linking to its review."""
    items, review_url = [], url_maker("reviews.review", "review_id", meeting_id=meeting_id)
    for number, task in enumerate(tasks, 1):
        review = task.review
        href = escape(review_url(review.id))
        grade = (
            f"Grade {int(review.scrutiny_grade)}: {escape(review.grade_label)}."
            if review.scrutiny_grade
            else "Not graded."
        )
        hint = [
            f"{risk(review)} {repeat(review)} {grade} {task.actions} {'action' if task.actions == 1 else 'actions'}."
        ]
        if task.agency_codes:
            hint.append(f" Agencies: {escape(task.agency_codes)}.")
        if task.theme_names:
            hint.append(f" Themes: {escape(task.theme_names)}.")
        if task.missing_returns:
            hint.append(f" No information yet from {escape(task.missing_returns)}.")
        if review.summary:
            hint.append(
                ' <span class="app-task-text" data-testid="review-summary"><strong>Summary:</strong> '
                f"{escape(review.summary)}</span>"
            )
        if show_feedback and review.feedback_to_officer:
            hint.append(
                ' <span class="app-task-text" data-testid="review-feedback"><strong>Feedback to the officer'
                f" (police only):</strong> {escape(review.feedback_to_officer)}</span>"
            )
        if task.progress == "complete":
            status = "Completed"
        else:
            colour = "blue" if task.progress == "not_started" else "light-blue"
            status = f'<strong class="govuk-tag govuk-tag--{colour}">{escape(task.progress.label)}</strong>'
        items.append(
            '<li class="govuk-task-list__item govuk-task-list__item--with-link">'
            '<div class="govuk-task-list__name-and-hint">'
            f'<a class="govuk-link govuk-task-list__link" href="{href}"'
            f' aria-describedby="cases-{number}-hint cases-{number}-status">'
            f'<span data-testid="case-review" id="review-{int(review.id)}">'
            f"{number}. Case {escape(review.case_reference)}</span></a>"
            f'<div id="cases-{number}-hint" class="govuk-task-list__hint">{"".join(hint)}</div></div>'
            f'<div class="govuk-task-list__status" id="cases-{number}-status">{status}</div></li>'
        )
    return Markup(  # noqa: S704 - every value escaped  # nosec B704
        f'<ul class="govuk-task-list" data-testid="tasks-cases">{"".join(items)}</ul>'
    )


_ATTENDANCE_HEADINGS = "".join(
    f'<th scope="col" class="govuk-table__header">{heading}</th>'
    for heading in ("Agency", "Name", "Attendance", "Role", "Deputising for")
)


def attendance_table(attendance, caption: str, caption_classes: str = "govuk-table__caption--m") -> Markup:
    """Who attended a meeting, or sent apologies, as a GOV.UK table (each line's agency name, name,
    attendance, role, and whom they deputised for)."""
    rows = "".join(
        '<tr class="govuk-table__row">'
        f'<td class="govuk-table__cell">{escape(row.agency_name)}</td>'
        f'<td class="govuk-table__cell">{escape(row.name)}</td>'
        f'<td class="govuk-table__cell">{escape(row.status.label)}</td>'
        f'<td class="govuk-table__cell">{escape(row.role.label)}</td>'
        f'<td class="govuk-table__cell">{escape(row.deputy_for)}</td></tr>'
        for row in attendance
    )
    return Markup(  # noqa: S704 - every value escaped  # nosec B704
        '<table class="govuk-table" data-testid="attendance-table">'
        f'<caption class="govuk-table__caption {escape(caption_classes)}">{escape(caption)}</caption>'
        f'<thead class="govuk-table__head"><tr class="govuk-table__row">{_ATTENDANCE_HEADINGS}</tr></thead>'
        f'<tbody class="govuk-table__body">{rows}</tbody></table>'
    )


_AUDIT_HEADINGS = "".join(
    f'<th scope="col" class="govuk-table__header">{heading}</th>'
    for heading in ("When", "Who", "Event", "Record", "Detail", "From")
)


def audit_table(events, references: dict, object_labels: dict[str, str]) -> Markup:
    """The audit log's table (AuditLine rows), as govukTable writes it: when, who (and their agency), the event, the
    record (its kind and number, and a case's reference), the detail and the address it came from.
    Written here rather than as cells for govukTable: a page of 50 events is 300 cells."""
    rows = []
    for event in events:
        record = ""
        if event.object_type:
            record = f"{object_labels.get(event.object_type, event.object_type)} {event.object_id}"
            reference = references.get((event.object_type, event.object_id))
            if reference:
                record += f" ({reference})"
        cells = (
            format_datetime(event.at),
            f"{event.user_name} ({event.agency_code})" if event.user_name is not None else "Not signed in",
            event.action.replace("_", " "),
            record.strip(),
            event.detail,
            event.ip_address or "",
        )
        rows.append(
            '<tr class="govuk-table__row">'
            + "".join(f'<td class="govuk-table__cell">{escape(cell)}</td>' for cell in cells)
            + "</tr>"
        )
    return Markup(  # noqa: S704 - every value escaped  # nosec B704
        '<table class="govuk-table" data-testid="audit-table">'
        '<caption class="govuk-table__caption govuk-table__caption--m">Events, newest first</caption>'
        f'<thead class="govuk-table__head"><tr class="govuk-table__row">{_AUDIT_HEADINGS}</tr></thead>'
        f'<tbody class="govuk-table__body">{"".join(rows)}</tbody></table>'
    )


_MOVES = (("up", "Move up"), ("down", "Move down"))


def agenda_rows(lines, meeting_id: int, agenda: str, csrf_token: str) -> list[list[dict]]:
    """The agenda page's rows for govukTable (AgendaLine): the order, the case (a link to its review,
    and whether it is a repeat), the agencies involved, and the forms to move it up or down (each
    carrying the agenda as it was seen, so a move on a changed agenda is refused) and a link to take
    it off."""
    move_action = escape(url_for("meetings.move_review", meeting_id=meeting_id))
    csrf = f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
    seen = f'<input type="hidden" name="agenda" value="{escape(agenda)}">'

    rows: list[list[dict]] = []
    last = len(lines)
    for number, line in enumerate(lines, 1):
        reference = escape(line.case_reference)
        review_href = escape(url_for("reviews.review", meeting_id=meeting_id, review_id=line.id))
        remove_href = escape(url_for("meetings.remove_review", meeting_id=meeting_id, review_id=line.id))
        forms = "".join(
            f'<form method="post" action="{move_action}" class="app-inline-form">{csrf}'
            f'<input type="hidden" name="review_id" value="{int(line.id)}">'
            f'<input type="hidden" name="direction" value="{direction}">{seen}'
            f'<button type="submit" class="app-link-button">{label}<span class="govuk-visually-hidden"> case'
            f" {reference}</span></button></form>"
            for direction, label in _MOVES
            if (direction == "up" and number > 1) or (direction == "down" and number < last)
        )
        order = Markup(  # noqa: S704 - every value escaped  # nosec B704
            f'<span class="app-inline-forms">{forms}<a class="govuk-link" href="{remove_href}">Take off'
            f'<span class="govuk-visually-hidden"> case {reference}</span></a></span>'
        )
        case = Markup(f'<a class="govuk-link" href="{review_href}">{reference}</a> {repeat(line)}')  # noqa: S704  # nosec B704
        rows.append([{"text": number}, {"html": case}, {"text": line.agency_codes or "None yet"}, {"html": order}])
    return rows


_GUEST = Markup(' <span class="govuk-body-s">(guest)</span>')


def attendance_lines(sheet, meeting_id: int, choices, posted=None) -> Markup:
    """The attendance form's lines (an AttendanceSheet), agency by agency: for each person the status
    the line showed (posted back as ``seen-...``, so that an untouched line changes nothing) and small
    inline radios; a guest's line links to removing it. An agency list can run to hundreds of people.
    ``posted``: the form as posted, when it comes back with an error: each line as the chair left it,
    and as it showed before, so that nothing chosen is lost and a line left alone still changes nothing."""
    parts = []
    radios = SmallInlineRadios(choices)
    known = {value for value, _label in choices}
    for agency, lines in sheet.by_agency():
        parts.append(
            f'<h3 class="govuk-heading-s govuk-!-margin-bottom-2" id="agency-{int(agency.id)}" tabindex="-1"'
            f' data-testid="attendance-agency">{escape(agency.name)}</h3>'
        )
        for line in lines:
            field_name, name = line.field_name, escape(line.name)
            seen = chosen = line.status
            if posted is not None and f"seen-{field_name}" in posted:
                seen, chosen = posted.get(f"seen-{field_name}"), posted.get(field_name, "")
                if seen not in known or chosen not in known:
                    seen = chosen = line.status
            parts.append(f'<input type="hidden" name="seen-{escape(field_name)}" value="{escape(seen)}">')
            parts.append(radios(field_name, name if line.user else name + _GUEST, chosen, testid="attendance-line"))
            if line.row and not line.user:
                href = url_for("meetings.remove_attendance", meeting_id=meeting_id, row_id=line.row.id)
                parts.append(
                    f'<p class="govuk-body-s"><a class="govuk-link" href="{escape(href)}">Remove'
                    f'<span class="govuk-visually-hidden"> {name}</span> from the list</a></p>'
                )
    if not parts:
        parts.append('<p class="govuk-body">No invited agency has members yet. Add people as guests below.</p>')
    return Markup("".join(parts))  # noqa: S704 - every value escaped  # nosec B704


TEMPLATE_GLOBALS = {
    function.__name__: function
    for function in (
        meeting_rows,
        case_rows,
        action_rows,
        actions_list_rows,
        due_history,
        latest_update,
        matters_list,
        case_task_list,
        attendance_table,
        attendance_lines,
        audit_table,
        agenda_rows,
    )
}

"""The Jinja template class the app uses: Jinja's own, with imports that cost one set comparison.

Every ``{% from "x.html" import y %}`` runs again at each render (and inside a macro, at each call,
as GOV.UK Frontend's macros import theirs). Jinja then checks whether the importing context has
globals the imported template lacks, by walking one mapping's keys through a ChainMap one lookup at a
time: about 300 Python calls per import, and a page makes twenty or more — a sixth of the meeting
page's rendering. Our templates never get globals of their own (Flask loads them all from the one
environment), so the answer is almost always "none"; a set comparison gives it in one call, and
anything else still takes Jinja's own path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property

from flask import url_for
from jinja2 import Template
from jinja2.runtime import Context
from markupsafe import Markup

from tracker.escaping import escape


class ImportCachingTemplate(Template):
    @cached_property
    def _global_names(self) -> frozenset[str]:
        # The environment's globals are all set while the app is created, before any template loads.
        return frozenset(self.globals)

    def _get_default_module(self, ctx: Context | None = None):
        if ctx is not None and ctx.globals_keys <= self._global_names:
            ctx = None  # nothing the cached module lacks: Jinja would return the cached module too
        return super()._get_default_module(ctx)


# An id no record has, put in a URL to find where each record's own id goes (url_maker).
_STAND_IN_ID = 9_876_543_210_123


def url_maker(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """``url_for(endpoint, **values, key=id)`` for many ids: the URL is built once with a stand-in id
    and each id put in its place, where url_for costs about 12 microseconds a call and a list of 25
    rows made 50 calls. Only for integer ids (an int converter writes an id as its digits)."""
    values[key] = _STAND_IN_ID
    head, found, tail = url_for(endpoint, **values).partition(str(_STAND_IN_ID))
    if not found or str(_STAND_IN_ID) in tail:
        raise ValueError(f"{endpoint}: {key} is not in its URL once")
    return lambda record_id: f"{head}{int(record_id)}{tail}"


def select_options(choices: Iterable[tuple[object, str]], selected: object = None) -> Markup:
    """``<option>`` elements for (value, label) pairs, the one equal to ``selected`` marked: for long
    lists (every account), where a Jinja loop costs a dozen Python calls an option. (escape() is
    tracker.escaping's, a call into markupsafe's C code; Markup.format would run a pure-Python formatter
    for every option.)"""
    options = "".join(
        f'<option value="{escape(value)}"{" selected" if value == selected else ""}>{escape(label)}</option>'
        for value, label in choices
    )
    return Markup(options)  # noqa: S704 - every value and label escaped above  # nosec B704


class SmallInlineRadios:
    """Form groups with a fieldset of small inline GOV.UK radios (ids ``<name>-1``, ``<name>-2``, ...)
    for a form that has hundreds of them (the attendance sheet: a line for every member of every invited
    agency). A Jinja loop cost a dozen Python calls a radio. Here the radios' markup is made once, for
    each choice that may be checked, as the pieces between the field's name; a group is then those
    pieces joined by its escaped name. ``legend`` is escaped unless it is Markup."""

    def __init__(self, choices: Iterable[tuple[str, str]]):
        choices = list(choices)
        escaped = [(str(escape(value)), str(escape(label))) for value, label in choices]
        # By the value checked, as given (escaping is one-to-one: the same radio is checked either way).
        self._pieces = {None: self._radios_between_names(escaped, None)} | {
            value: self._radios_between_names(escaped, str(escape(value))) for value, _label in choices
        }

    @staticmethod
    def _radios_between_names(escaped: list[tuple[str, str]], checked: str | None) -> list[str]:
        pieces, tail = [], ""
        for number, (value, label) in enumerate(escaped, 1):
            check = " checked" if value == checked else ""
            pieces += [
                f'{tail}<div class="govuk-radios__item"><input class="govuk-radios__input" id="',
                f'-{number}" name="',
                f'" type="radio" value="{value}"{check}><label class="govuk-label govuk-radios__label" for="',
            ]
            tail = f'-{number}">{label}</label></div>'
        return [*pieces, tail]

    def __call__(self, name: str, legend: str, checked: str, *, testid: str = "") -> Markup:
        pieces = self._pieces.get(checked, self._pieces[None])
        test_attribute = f' data-testid="{escape(testid)}"' if testid else ""
        return Markup(  # noqa: S704 - the name, legend, values and labels are escaped  # nosec B704
            f'<div class="govuk-form-group"{test_attribute}><fieldset class="govuk-fieldset">'
            f'<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{escape(legend)}</legend>'
            f'<div class="govuk-radios govuk-radios--inline govuk-radios--small" data-module="govuk-radios">'
            f"{str(escape(name)).join(pieces)}</div></fieldset></div>"
        )


def _attributes(attributes) -> str:
    """govuk-frontend's govukAttributes: ` name="value"` pairs, escaped ("optional" ones left out when
    empty, and written as a bare name when true)."""
    if not attributes:
        return ""
    if isinstance(attributes, str):
        return attributes
    html = []
    for name, value in attributes.items():
        if isinstance(value, dict) and value.get("optional") is True:
            if value.get("value") is True:
                html.append(f" {escape(name)}")
            elif value.get("value") not in (None, False):
                html.append(f' {escape(name)}="{escape(value["value"])}"')
            continue
        if isinstance(value, dict):
            value = value.get("value")
        text = str(value).lower() if isinstance(value, bool) else ("" if value is None else value)
        html.append(f' {escape(name)}="{escape(text)}"')
    return "".join(html)


def _cell(tag: str, cell: dict, classes: str, extra: str = "") -> str:
    spans = "".join(f' {span}="{escape(cell[span])}"' for span in ("colspan", "rowspan") if cell.get(span))
    if cell.get("classes"):
        classes += f" {escape(cell['classes'])}"
    content = cell["html"] if cell.get("html") else escape(cell.get("text", ""))
    return f'<{tag}{extra} class="{classes}"{spans}{_attributes(cell.get("attributes"))}>{content}</{tag}>'


def govuk_table(params: dict) -> Markup:
    """GOV.UK Frontend's govukTable, with the same params and markup, written in Python: the macro
    builds every cell's attributes through another macro, which cost a millisecond or more for a page
    of 25 rows. Templates call it by the macro's name. ``html`` is trusted markup, ``text`` is escaped."""
    html = [f'<table class="govuk-table{" " + escape(params["classes"]) if params.get("classes") else ""}"']
    html.append(f"{_attributes(params.get('attributes'))}>")
    if params.get("caption"):
        classes = f" {escape(params['captionClasses'])}" if params.get("captionClasses") else ""
        html.append(f'<caption class="govuk-table__caption{classes}">{escape(params["caption"])}</caption>')
    if params.get("head"):
        html.append('<thead class="govuk-table__head"><tr class="govuk-table__row">')
        for item in params["head"]:
            classes = "govuk-table__header" + (
                f" govuk-table__header--{escape(item['format'])}" if item.get("format") else ""
            )
            html.append(_cell("th", item, classes, ' scope="col"'))
        html.append("</tr></thead>")
    html.append('<tbody class="govuk-table__body">')
    first_is_header = params.get("firstCellIsHeader")
    for row in params.get("rows") or ():
        if not row:
            continue
        html.append('<tr class="govuk-table__row">')
        for index, cell in enumerate(row):
            if index == 0 and first_is_header:
                html.append(_cell("th", cell, "govuk-table__header", ' scope="row"'))
            else:
                classes = "govuk-table__cell" + (
                    f" govuk-table__cell--{escape(cell['format'])}" if cell.get("format") else ""
                )
                html.append(_cell("td", cell, classes))
        html.append("</tr>")
    html.append("</tbody></table>")
    return Markup("".join(html))  # noqa: S704 - text escaped above; html is the caller's markup  # nosec B704


def govuk_select(
    field_id: str,
    name: str,
    label: str,
    options: Iterable[tuple[object, object, bool]],
    *,
    hint: str = "",
    error: str = "",
    groups: Iterable[tuple[str, Iterable[tuple[object, object, bool]]]] = (),
    attributes: Mapping[str, str] | None = None,
) -> Markup:
    """GOV.UK Frontend's govukSelect for a plain select (a label, an optional hint and error message,
    and (value, text, selected) options), in the macro's markup, written in Python: the macro builds
    each option through its attributes macro, about a millisecond for four filters on a list page.
    ``groups`` follow the options, each as an <optgroup> of its label and options (the macro has no
    groups); ``attributes`` are added to the <select>. Everything is escaped unless it is Markup."""
    described_by = []
    parts = [
        f'<div class="govuk-form-group{" govuk-form-group--error" if error else ""}">\n'
        f'  <label class="govuk-label" for="{escape(field_id)}">\n    {escape(label)}\n  </label>\n'
    ]
    if hint:
        described_by.append(f"{field_id}-hint")
        parts.append(f'  <div id="{escape(field_id)}-hint" class="govuk-hint">\n    {escape(hint)}\n  </div>\n')
    if error:
        described_by.append(f"{field_id}-error")
        parts.append(
            f'  <p id="{escape(field_id)}-error" class="govuk-error-message">\n'
            f'    <span class="govuk-visually-hidden">Error:</span> {escape(error)}\n  </p>\n'
        )
    described = f' aria-describedby="{escape(" ".join(described_by))}"' if described_by else ""
    extra = "".join(f' {escape(key)}="{escape(value)}"' for key, value in (attributes or {}).items())
    parts.append(
        f'  <select class="govuk-select{" govuk-select--error" if error else ""}" id="{escape(field_id)}"'
        f' name="{escape(name)}"{described}{extra}>\n'
    )
    parts.extend(_options(options))
    for group_label, group_options in groups:
        parts.append(f'        <optgroup label="{escape(group_label)}">\n')
        parts.extend(_options(group_options))
        parts.append("        </optgroup>\n")
    parts.append("  </select>\n</div>\n")
    return Markup("".join(parts))  # noqa: S704 - every part escaped above  # nosec B704


def _options(options: Iterable[tuple[object, object, bool]]) -> Iterator[str]:
    # escape() (tracker.escaping) calls markupsafe's C code: Markup.format would run a Python formatter per option.
    return (
        f'        <option value="{escape(value)}"{" selected" if selected else ""}>{escape(text)}</option>\n'
        for value, text, selected in options
    )


def filter_select(name: str, label: str, choices: Iterable[tuple[object, str]], current: object, id=None) -> Markup:
    """A GOV.UK select for a GET filter form: ``choices`` are (value, text) pairs, in order; the one
    whose value equals ``current`` is selected. (Was a template macro calling govukSelect.)"""
    return govuk_select(id or name, name, label, ((value, text, value == current) for value, text in choices))


def filter_input(
    name: str,
    label: str,
    value: object,
    *,
    type: str = "text",
    id: str | None = None,
    hint: str = "",
    classes: str = "",
    spellcheck: bool | None = None,
    inputmode: str = "",
    autocomplete: str = "",
) -> Markup:
    """govukInput for a GET filter form's plain input (a label, a type, a value; a hint, width classes,
    spellcheck, inputmode and autocomplete if given), in the macro's markup."""
    field_id = escape(id or name)
    shown = f' value="{escape(value)}"' if value is not None and value is not False else ""
    hint_html = f'  <div id="{field_id}-hint" class="govuk-hint">\n    {escape(hint)}\n  </div>\n' if hint else ""
    described = f' aria-describedby="{field_id}-hint"' if hint else ""
    width = f" {escape(classes)}" if classes else ""
    spelling = f' spellcheck="{"true" if spellcheck else "false"}"' if spellcheck is not None else ""
    mode = f' inputmode="{escape(inputmode)}"' if inputmode else ""
    mode += f' autocomplete="{escape(autocomplete)}"' if autocomplete else ""
    return Markup(  # noqa: S704 - every part escaped  # nosec B704
        f'<div class="govuk-form-group">\n  <label class="govuk-label" for="{field_id}">\n    {escape(label)}\n'
        f'  </label>\n{hint_html}  <input class="govuk-input{width}" id="{field_id}" name="{escape(name)}"'
        f' type="{escape(type)}"{spelling}{shown}{described}{mode}>\n</div>\n'
    )


_ARROWS = {
    "prev": '<svg class="govuk-pagination__icon govuk-pagination__icon--prev" xmlns="http://www.w3.org/2000/svg"'
    ' height="13" width="15" aria-hidden="true" focusable="false" viewBox="0 0 15 13"><path d="m6.5938-0.0078125'
    "-6.7266 6.7266 6.7441 6.4062 1.377-1.449-4.1856-3.9768h12.896v-2h-12.984l4.2931-4.293-1.414-1.414z"
    '"></path></svg>',
    "next": '<svg class="govuk-pagination__icon govuk-pagination__icon--next" xmlns="http://www.w3.org/2000/svg"'
    ' height="13" width="15" aria-hidden="true" focusable="false" viewBox="0 0 15 13"><path d="m8.107-0.0078125'
    "-1.4136 1.414 4.2926 4.293h-12.986v2h12.896l-4.1855 3.9766 1.377 1.4492 6.7441-6.4062-6.7246-6.7266z"
    '"></path></svg>',
}


def _pagination_link(href: str, kind: str, block_level: bool) -> str:
    arrow = _ARROWS[kind]
    decorated = " govuk-pagination__link-title--decorated" if block_level else ""
    title = "Previous" if kind == "prev" else "Next"
    return (
        f'<div class="govuk-pagination__{kind}"><a class="govuk-link govuk-pagination__link" href="{escape(href)}"'
        f' rel="{kind}">{arrow if block_level or kind == "prev" else ""}'
        f'<span class="govuk-pagination__link-title{decorated}">{title}<span class="govuk-visually-hidden"> page'
        f"</span></span>{arrow if not block_level and kind == 'next' else ''}</a></div>"
    )


def govuk_pagination(previous: str | None, following: str | None, items: list | None = None) -> Markup:
    """govukPagination, in the macro's markup, for links to the previous and next pages and, when
    ``items`` is given, numbered pages: (number, href, current) each, or None for an ellipsis."""
    block_level = items is None and bool(previous or following)
    html = [
        f'<nav class="govuk-pagination{" govuk-pagination--block" if block_level else ""}" aria-label="Pagination">'
    ]
    if previous:
        html.append(_pagination_link(previous, "prev", block_level))
    if items is not None:
        html.append('<ul class="govuk-pagination__list">')
        for item in items:
            if item is None:
                html.append('<li class="govuk-pagination__item govuk-pagination__item--ellipsis">&ctdot;</li>')
                continue
            number, href, current = item
            html.append(
                f'<li class="govuk-pagination__item{" govuk-pagination__item--current" if current else ""}">'
                f'<a class="govuk-link govuk-pagination__link" href="{escape(href)}" aria-label="Page {number}"'
                f"{' aria-current=' + chr(34) + 'page' + chr(34) if current else ''}>{number}</a></li>"
            )
        html.append("</ul>")
    if following:
        html.append(_pagination_link(following, "next", block_level))
    html.append("</nav>")
    return Markup("".join(html))  # noqa: S704 - hrefs escaped, the rest our own markup  # nosec B704


def app_pagination(page, endpoint: str, filters: dict | None = None) -> Markup:
    """GOV.UK pagination for a page of results (Flask-SQLAlchemy's Pagination, or one with the same
    attributes), keeping the current filters in the links, and "Showing 1 to 25 of 60." A page whose
    total is not counted (total is None) gets previous and next links only."""
    filters = filters or {}
    previous = url_for(endpoint, page=page.prev_num, **filters) if page.has_prev else None
    if page.total is None and page.has_prev and not page.items:
        # Past the end of an uncounted list, the page before may be past it too: back to the start.
        previous = url_for(endpoint, page=1, **filters)
    following = url_for(endpoint, page=page.next_num, **filters) if page.has_next else None
    html: list[str] = []
    if page.total is None:
        if previous or following:
            html.append(govuk_pagination(previous, following))
        if page.items:
            html.append(f'<p class="govuk-body-s">Showing {page.first} to {page.last}.</p>')
        return Markup("".join(html))  # noqa: S704 - numbers and our own markup  # nosec B704
    if page.pages > 1:
        numbers = page.iter_pages(left_edge=1, left_current=1, right_current=2, right_edge=1)
        items = [
            (number, url_for(endpoint, page=number, **filters), number == page.page) if number else None
            for number in numbers
        ]
        html.append(govuk_pagination(previous, following, items))
    if page.total:  # an empty list says so itself ("No cases match"): not "Showing 0 to 0 of 0" as well
        html.append(f'<p class="govuk-body-s">Showing {page.first} to {page.last} of {page.total}.</p>')
    return Markup("".join(html))  # noqa: S704 - numbers and our own markup  # nosec B704


def _content(params: dict, html_key: str = "html", text_key: str = "text") -> str:
    """A component's content: its ``html`` as given (the template's own markup), else its text escaped."""
    if params.get(html_key):
        return str(params[html_key]).strip()
    value = params.get(text_key)
    return str(escape(value)) if value is not None else ""


def _classes(base: str, params: dict) -> str:
    return f"{base} {escape(params['classes'])}" if params.get("classes") else base


def _only_keys(component: str, params: dict, allowed: set[str]) -> None:
    if not set(params) <= allowed:
        raise ValueError(f"{component}: only {', '.join(sorted(allowed))}")


def govuk_summary_list(params: dict) -> Markup:
    """GOV.UK Frontend's govukSummaryList for rows of a key and a value (text or html, with classes),
    in the macro's markup, written in Python. Rows with actions, and cards, are refused, not ignored."""
    _only_keys("govukSummaryList", params, {"rows", "classes", "attributes"})
    html = [f'<dl class="{_classes("govuk-summary-list", params)}"{_attributes(params.get("attributes"))}>']
    for row in params.get("rows") or ():
        if not row:
            continue
        _only_keys("govukSummaryList row", row, {"key", "value", "classes"})
        key, value = row.get("key") or {}, row.get("value") or {}
        html.append(
            f'\n<div class="{_classes("govuk-summary-list__row", row)}">'
            f'\n<dt class="{_classes("govuk-summary-list__key", key)}">{_content(key)}</dt>'
            f'\n<dd class="{_classes("govuk-summary-list__value", value)}">{_content(value)}</dd>\n</div>'
        )
    html.append("\n</dl>")
    return Markup("".join(html))  # noqa: S704 - text escaped; html is the caller's markup  # nosec B704


def govuk_inset_text(params: dict) -> Markup:
    """GOV.UK Frontend's govukInsetText (text or html, id, classes, attributes), in the macro's markup."""
    _only_keys("govukInsetText", params, {"text", "html", "id", "classes", "attributes"})
    identifier = f' id="{escape(params["id"])}"' if params.get("id") else ""
    return Markup(  # noqa: S704 - text escaped; html is the caller's markup  # nosec B704
        f'<div{identifier} class="{_classes("govuk-inset-text", params)}"{_attributes(params.get("attributes"))}>'
        f"{_content(params)}</div>"
    )


def govuk_warning_text(params: dict) -> Markup:
    """GOV.UK Frontend's govukWarningText (text or html, classes, attributes), in the macro's markup."""
    _only_keys("govukWarningText", params, {"text", "html", "classes", "attributes", "iconFallbackText"})
    fallback = escape(params.get("iconFallbackText") or "Warning")
    return Markup(  # noqa: S704 - text escaped; html is the caller's markup  # nosec B704
        f'<div class="{_classes("govuk-warning-text", params)}"{_attributes(params.get("attributes"))}>'
        '\n<span class="govuk-warning-text__icon" aria-hidden="true">!</span>\n'
        f'<strong class="govuk-warning-text__text"><span class="govuk-visually-hidden">{fallback}</span> '
        f"{params['html'] if params.get('html') else escape(params.get('text') or '')}</strong></div>"
    )


def govuk_details(params: dict) -> Markup:
    """GOV.UK Frontend's govukDetails (a summary, text or html, open or not), in the macro's markup."""
    _only_keys(
        "govukDetails", params, {"summaryText", "summaryHtml", "text", "html", "id", "classes", "attributes", "open"}
    )
    identifier = f' id="{escape(params["id"])}"' if params.get("id") else ""
    summary = _content(params, "summaryHtml", "summaryText")
    body = params["html"] if params.get("html") else escape(params.get("text") or "")
    return Markup(  # noqa: S704 - text escaped; html is the caller's markup  # nosec B704
        f'<details{identifier} class="{_classes("govuk-details", params)}"{_attributes(params.get("attributes"))}'
        f'{" open" if params.get("open") else ""}><summary class="govuk-details__summary">'
        f'<span class="govuk-details__summary-text">{summary}</span></summary>\n'
        f'<div class="govuk-details__text">{body}</div></details>'
    )


def _text_or_html(part: dict | None) -> str:
    if not part:
        return ""
    return str(part["html"]) if part.get("html") else str(escape(part.get("text") or ""))


def task_list(params: dict) -> Markup:
    """GOV.UK's task list markup (the "task list" pattern) for items with a title (text or html), an
    optional link and hint, and a status (text, or a tag: task_status); ids ``<idPrefix>-<n>-hint`` and
    ``-status``. Written in Python: govukTaskList's generic machinery, and then a lean Jinja macro,
    cost the meeting page several milliseconds for its thirty-odd items."""
    prefix = escape(params.get("idPrefix") or "task-list")
    classes = f" {escape(params['classes'])}" if params.get("classes") else ""
    attributes = "".join(
        f' {escape(name)}="{escape(value)}"' for name, value in (params.get("attributes") or {}).items()
    )
    html = [f'<ul class="govuk-task-list{classes}"{attributes}>']
    for number, item in enumerate((item for item in params.get("items") or () if item), 1):
        hint_id, status_id = f"{prefix}-{number}-hint", f"{prefix}-{number}-status"
        title = _text_or_html(item.get("title"))
        if item.get("href"):
            described = f"{hint_id} {status_id}" if item.get("hint") else status_id
            name = (
                f'<a class="govuk-link govuk-task-list__link" href="{escape(item["href"])}"'
                f' aria-describedby="{described}">{title}</a>'
            )
        else:
            name = f"<div>{title}</div>"
        hint = (
            f'<div id="{hint_id}" class="govuk-task-list__hint">{_text_or_html(item["hint"])}</div>'
            if item.get("hint")
            else ""
        )
        status = item.get("status") or {}
        if status.get("tag"):
            tag = status["tag"]
            tag_classes = f" {escape(tag['classes'])}" if tag.get("classes") else ""
            shown = f'<strong class="govuk-tag{tag_classes}">{escape(tag.get("text") or "")}</strong>'
        else:
            shown = str(escape(status.get("text") or ""))
        status_classes = f" {escape(status['classes'])}" if status.get("classes") else ""
        html.append(
            f'<li class="govuk-task-list__item{" govuk-task-list__item--with-link" if item.get("href") else ""}">'
            f'<div class="govuk-task-list__name-and-hint">{name}{hint}</div>'
            f'<div class="govuk-task-list__status{status_classes}" id="{status_id}">{shown}</div></li>'
        )
    html.append("</ul>")
    return Markup("".join(html))  # noqa: S704 - text escaped; html is the caller's markup  # nosec B704


_SERVICE_NAVIGATION_PARAMS = {"serviceName", "serviceUrl", "navigation", "navigationLabel"}
_NAVIGATION_ITEM_KEYS = {"text", "href", "active"}


def govuk_service_navigation(params: dict) -> Markup:
    """GOV.UK Frontend's govukServiceNavigation for what the layout passes (a service name and link, and
    items with a text, a link and whether they are active), in the macro's markup, written in Python:
    every page draws it. Templates call it by the macro's name; other params are refused, not ignored."""
    if not set(params) <= _SERVICE_NAVIGATION_PARAMS or not all(
        set(item) <= _NAVIGATION_ITEM_KEYS for item in params.get("navigation") or []
    ):
        raise ValueError("govukServiceNavigation: only serviceName, serviceUrl, navigation and navigationLabel")
    html = [
        '<section aria-label="Service information" class="govuk-service-navigation"'
        ' data-module="govuk-service-navigation"><div class="govuk-width-container">'
        '<div class="govuk-service-navigation__container">'
    ]
    if params.get("serviceName"):
        name = str(escape(params["serviceName"]))
        if params.get("serviceUrl"):
            name = f'<a href="{escape(params["serviceUrl"])}" class="govuk-service-navigation__link">{name}</a>'
        else:
            name = f'<span class="govuk-service-navigation__text">{name}</span>'
        html.append(f'<span class="govuk-service-navigation__service-name">{name}</span>')
    items = [item for item in params.get("navigation") or [] if item]
    if items:
        html.append(
            f'<nav aria-label="{escape(params.get("navigationLabel") or "Menu")}"'
            ' class="govuk-service-navigation__wrapper">'
        )
        if len(items) > 1:  # collapsed into a menu button on small screens
            html.append(
                '<button type="button" class="govuk-service-navigation__toggle govuk-js-service-navigation-toggle"'
                ' aria-controls="navigation" hidden aria-hidden="true">Menu</button>'
            )
        html.append('<ul class="govuk-service-navigation__list" id="navigation">')
        for item in items:
            text = str(escape(item.get("text") or ""))
            active = bool(item.get("active"))
            if active:
                text = f'<strong class="govuk-service-navigation__active-fallback">{text}</strong>'
            html.append(
                '<li class="govuk-service-navigation__item'
                f'{" govuk-service-navigation__item--active" if active else ""}">'
            )
            current = ' aria-current="true"' if active else ""
            if item.get("href"):
                html.append(
                    f'<a class="govuk-service-navigation__link" href="{escape(item["href"])}"{current}>{text}</a>'
                )
            elif item.get("text"):
                html.append(f'<span class="govuk-service-navigation__text"{current}>{text}</span>')
            html.append("</li>")
        html.append("</ul></nav>")
    html.append("</div></div></section>")
    return Markup("".join(html))  # noqa: S704 - every value escaped above  # nosec B704

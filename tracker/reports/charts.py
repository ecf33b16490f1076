"""Charts drawn on the server as SVG with pygal: readable without JavaScript, each with a title and a
description that gives every value, for screen readers. The same SVG goes on the page and into the
board report PDF; every chart also has a table and a CSV of the same figures.

pygal was chosen over matplotlib's SVG backend: it is small (no numpy), draws accessible SVG text
(real <text> elements, not paths), and styles through one stylesheet we can allow with a nonce.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import pygal
from markupsafe import Markup
from pygal.style import Style

from tracker.escaping import escape

# Pixels kept after a horizontal bar's end for its printed value: "100%" or "1,234" at 12 px.
HORIZONTAL_VALUE_ROOM = 38

# GOV.UK colours with at least 3:1 contrast against white (WCAG 1.4.11, non-text contrast); the guide
# lines alone are lighter (below), as the axes' labels and each bar's printed value carry the figures.
CURRENT_COLOUR, PREVIOUS_COLOUR = "#1d70b8", "#505a5f"
TREND_COLOURS = ("#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#6f4f1f", "#505a5f")

_STYLE = {
    "background": "#ffffff",
    "plot_background": "#ffffff",
    "foreground": "#0b0c0c",
    "foreground_strong": "#0b0c0c",
    "foreground_subtle": "#505a5f",
    "font_family": "Liberation Sans, DejaVu Sans, Arial, sans-serif",
    "label_font_size": 13,
    "major_label_font_size": 13,
    "value_font_size": 12,
    "value_label_font_size": 12,
    "legend_font_size": 14,
    "title_font_size": 16,
    # The guide lines in GOV.UK's mid grey, not black: where a bar's value is printed across one, the
    # value stays legible. (The axes' labels, and each bar's printed value, carry the figures.)
    "guide_stroke_color": "#b1b4b6",
    "major_guide_stroke_color": "#b1b4b6",
    "opacity": "1",
    "opacity_hover": "1",
    "transition": "none",
}
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
_INLINE_STYLE = re.compile(r'\sstyle="[^"]*"')
_TITLES = re.compile(r"<title>.*?</title>", re.DOTALL)  # pygal's own: "Pygal", and each value's tooltip
_LEGEND_IDS = re.compile(r'\sid="activate-serie-\d+"')  # the same ids in every chart: for its JavaScript only
# A bar's value, which pygal centres on the point it places it at (print_values_position "top"): after
# a horizontal bar's end it must start there, or half of it lies over the bar.
_VALUE_CENTRED = re.compile(r'<text text-anchor="middle"(?=[^>]*\sclass="value")')
_PYGAL_ID = re.compile(r'<svg[^>]*\sid="(chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    svg: str  # without a nonce: add one with for_page(), or use as is in a PDF

    def for_page(self, nonce: str) -> Markup:
        """The SVG for a web page: its one <style> carries the response's CSP nonce."""
        # pygal writes its SVG with an XML library: labels and values are escaped.
        return Markup(self.svg.replace("<style", f'<style nonce="{escape(nonce)}"', 1))  # noqa: S704  # nosec B704

    def for_pdf(self) -> Markup:
        return Markup(self.svg)  # noqa: S704 - drawn by pygal, labels escaped  # nosec B704


def _finish(chart: pygal.graph.graph.Graph, title: str, description: str) -> Chart:
    """pygal's SVG, made self-contained and accessible: no script (the tooltips need JavaScript, and
    the page's policy allows none inline), no inline style attributes, a title and a description."""
    svg = chart.render(is_unicode=True)
    svg = _SCRIPT.sub("", svg)
    svg = _INLINE_STYLE.sub("", svg)
    svg = _LEGEND_IDS.sub("", svg)
    svg = _TITLES.sub("", svg)
    if isinstance(chart, pygal.HorizontalBar):
        svg = _VALUE_CENTRED.sub('<text text-anchor="start"', svg)
    # Ids from the chart's own words: unique on a page (no two charts share a title) and stable.
    key = "chart-" + hashlib.sha256(f"{title}\n{description}".encode()).hexdigest()[:10]
    # pygal names the chart by a random UUID, and scopes each of its ninety-odd style rules by it: the
    # shorter, stable key instead (2.4 KB less a chart, a page of eight charts 19 KB less).
    if found := _PYGAL_ID.search(svg):
        svg = svg.replace(found.group(1), key)
    svg = svg.replace("<svg", f'<svg role="img" aria-labelledby="{key}-title {key}-desc" focusable="false"', 1)
    opening_end = svg.index(">") + 1
    labels = f'<title id="{key}-title">{escape(title)}</title><desc id="{key}-desc">{escape(description)}</desc>'
    svg = svg[:opening_end] + labels + svg[opening_end:]
    return Chart(title, description, svg)


def _config(**overrides) -> dict:
    settings = {
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "width": 760,
        "height": 360,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 2,
        "truncate_legend": -1,
        "truncate_label": -1,
        "print_values": True,
        # Each value beyond its bar's end, in the page's text colour on white: inside a bar it was black
        # on blue (3.8:1) or on grey (2.7:1), below the 4.5:1 that text needs (WCAG 1.4.3), and a bar
        # of 0 has no inside.
        "print_values_position": "top",
        "show_y_guides": True,
        "margin": 16,
    }
    return settings | overrides


def compared_bars(
    title: str,
    labels: Sequence[str],
    now: Sequence[float | None],
    before: Sequence[float | None],
    *,
    period_label: str,
    previous_label: str,
    unit: str = "",
    horizontal: bool = False,
) -> Chart:
    """Bars for each label: this period beside the previous one."""
    return _compared_bars(
        title, tuple(labels), tuple(now), tuple(before), period_label, previous_label, unit, horizontal
    )


def _whole_steps(values, most: int = 5) -> list[int]:
    """The value axis from 0 past the largest value in at most ``most`` equal whole steps of 1, 2 or 5
    times a power of ten: counts are never split (pygal's own steps gave "0, 0.8, 1.6, 2.4" for a few
    cases, and no label at the top)."""
    top = max((value for value in values if value is not None), default=0)
    sizes = (multiple * 10**power for power in itertools.count() for multiple in (1, 2, 5))
    step = next(size for size in sizes if math.ceil(top / size) <= most)
    return list(range(0, step * max(1, math.ceil(top / step)) + 1, step))


# Drawing a chart costs more than counting its figures; the same figures give the same SVG, so
# charts are kept per process by their inputs (a pure function: nothing to invalidate).
@lru_cache(maxsize=512)
def _compared_bars(title, labels, now, before, period_label, previous_label, unit, horizontal) -> Chart:
    style = Style(colors=(CURRENT_COLOUR, PREVIOUS_COLOUR), **_STYLE)
    if horizontal:
        kind, height = pygal.HorizontalBar, max(360, 80 + 46 * len(labels))
        # Room after the longest bar for its value ("100%"): pygal leaves room for a printed value by
        # the chart's height, which a horizontal bar's end does not use. A few whole steps along the
        # value axis: beside long agency names the plot is narrow, and pygal's ten ran together.
        options = {"margin_right": 16 + HORIZONTAL_VALUE_ROOM, "y_labels": _whole_steps((*now, *before))}
    else:
        kind, height, options = pygal.Bar, 380, {}
    chart = kind(
        style=style,
        # One series a line under the chart: in two columns a long period's name ran into the other's.
        **_config(height=height, legend_at_bottom_columns=1, value_formatter=lambda v: f"{v:g}{unit}", **options),
    )
    # pygal draws a horizontal chart's first label at the bottom: given last first, the bars read from
    # the top in the order of the table beside them (the description keeps that order too).
    order = slice(None, None, -1) if horizontal else slice(None)
    chart.x_labels = list(labels)[order]
    chart.add(period_label, list(now)[order])
    chart.add(previous_label, list(before)[order])
    parts = [
        f"{label}: {_value(a, unit)} in {period_label}, {_value(b, unit)} in {previous_label}"
        for label, a, b in zip(labels, now, before, strict=True)
    ]
    return _finish(chart, title, "; ".join(parts) + "." if parts else "No figures for these periods.")


def trend_lines(title: str, quarter_labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> Chart:
    """One line per series over the quarters (learning themes over 8 quarters)."""
    return _trend_lines(title, tuple(quarter_labels), tuple((name, tuple(values)) for name, values in series))


@lru_cache(maxsize=256)
def _trend_lines(title, quarter_labels, series) -> Chart:
    style = Style(colors=TREND_COLOURS, **_STYLE)
    chart = pygal.Line(
        style=style,
        # One theme a line under the chart, the chart taller for each: in two columns pygal left out the
        # last line of an odd number of themes (it counted the lines down), and long names ran together.
        **_config(
            height=420 + 24 * len(series),
            legend_at_bottom_columns=1,
            x_label_rotation=30,
            dots_size=4,
            print_values=False,
            include_x_axis=True,
        ),
    )
    chart.x_labels = list(quarter_labels)
    for name, values in series:
        chart.add(name, list(values))
    parts = [
        f"{name}: " + ", ".join(f"{q} {v}" for q, v in zip(quarter_labels, values, strict=True))
        for name, values in series
    ]
    return _finish(chart, title, "; ".join(parts) + "." if parts else "No learning themes recorded.")


def _value(value: float | None, unit: str) -> str:
    return "none" if value is None else f"{value:g}{unit}"

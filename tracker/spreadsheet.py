"""CSV downloads: UTF-8 with a byte-order mark (so spreadsheet programs read accented names
correctly), with every cell guarded against being read as a formula (CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response

BYTE_ORDER_MARK = "\ufeff"
# Characters that make a spreadsheet program read a cell as a formula or a command (the pipe starts a
# DDE command), with their full-width, small-form and mathematical look-alikes, which some programs
# fold to the ASCII ones.
FORMULA_STARTERS = frozenset(
    "=+-@|\t\r"
    "\uff1d\uff0b\uff0d\uff20\uff5c"  # full-width = + - @ |
    "\ufe66\ufe62\ufe63\ufe6b"  # small = + - @
    "\u2212\u2795\u2796\u207a\u207b\u207c\u208a\u208b\u208c\u2223"  # minus signs, super/subscripts, divides
)
# Spreadsheets skip these before a formula, so the guard looks past them.
IGNORED_LEADING = " \u00a0\u3000"
LINE_BREAKS = re.compile(r"(\r\n|\r|\n)")


def neutralise(value) -> str:
    """A cell as text; a cell, or any line of a multi-line cell, that starts (after spaces) with a
    formula character gets a leading apostrophe, so a spreadsheet shows it instead of running it."""
    text = "" if value is None else str(value)
    pieces = LINE_BREAKS.split(text)  # lines at even indexes, their line breaks between them
    for i in range(0, len(pieces), 2):
        if pieces[i].lstrip(IGNORED_LEADING)[:1] in FORMULA_STARTERS:
            pieces[i] = "'" + pieces[i]
    return "".join(pieces)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    """The whole file, written before the request's transaction ends (a streamed body would outlive it)."""
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return Response(
        buffer.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

"""CSV downloads: UTF-8 with a byte-order mark (so spreadsheet programs read accented names
correctly), with every cell guarded against being read as a formula (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response

BYTE_ORDER_MARK = "\ufeff"
# Characters that make a spreadsheet program read a cell as a formula or a command.
FORMULA_STARTERS = frozenset("=+-@|%\t\r")


def neutralise(value) -> str:
    """A cell as text, with a leading apostrophe where a spreadsheet would read a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTERS else text


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

"""``escape`` for the HTML this project writes in Python (tracker/rows.py, tracker/templating.py, ...).

The same result as ``markupsafe.escape`` (a Markup, so nothing is escaped twice wherever it goes), made
faster for the commonest value, a plain ``str``: markupsafe's own ``escape`` builds its Markup through
``Markup.__new__``, written in Python, and took 0.37 µs a value; this takes 0.18 µs. A page of 25
matters arising escapes about 600 values, a page of the audit log about 300.

``_escape_inner`` is markupsafe's C function behind its public ``escape`` (and its pure-Python twin
where the C extension is not built). markupsafe is pinned (constraints.txt), and tests/test_widgets.py
checks this function against ``markupsafe.escape`` with hostile text, so a release that changed either
is noticed before it is used.
"""

from __future__ import annotations

from markupsafe import Markup
from markupsafe import escape as _escape_any

try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - markupsafe installed without its C extension (as markupsafe does)
    from markupsafe._native import _escape_inner  # the same escaping, slower

_new_str = str.__new__


def escape(value) -> Markup:
    """``markupsafe.escape(value)``: a ``str`` escaped, an object with ``__html__`` (a Markup) kept as it
    is, anything else turned into text and escaped."""
    if type(value) is str:
        return _new_str(Markup, _escape_inner(value))
    return _escape_any(value)

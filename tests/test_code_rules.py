"""Rules of the house that a reviewer should not have to remember.

One rule, one home: who may see what is decided in tracker/permissions.py. Anywhere else,
code and templates ask a named predicate (``can_see_feedback(user)``, ``sees_own_agency_only(user)``)
and never compare a user's role themselves.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICY_HOME = ROOT / "tracker" / "permissions.py"
# Files that may mention roles in a comparison, and why. Nothing here decides access.
ROLE_COMPARISONS_ALLOWED = {
    ROOT / "tracker" / "admin" / "queries.py": "the admin user list filters by a role the admin chose",
}


def _is_role_expression(node: ast.AST) -> bool:
    """``x.role``, ``Role.PARTNER`` or ``Role(...)``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "role" or (isinstance(node.value, ast.Name) and node.value.id == "Role")
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Role"


def role_comparisons_in_python(source: str) -> list[int]:
    """Line numbers comparing roles: ``==``/``!=``/``in`` with a role on either side, or ``x.role.in_(...)``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Compare) and any(_is_role_expression(n) for n in [node.left, *node.comparators])) or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"in_", "not_in"}
            and _is_role_expression(node.func.value)
        ):
            lines.append(node.lineno)
    return lines


TEMPLATE_ROLE_COMPARISON = re.compile(
    # The reader's role (``current_user.role``, ``user.role``), or any comparison with a role's name.
    r"""\b(current_user|user)\.role\b(\.value)?\s*(==|!=|\bin\b|\bnot\s+in\b)"""
    r"""|(==|!=)\s*["'](admin|chair|partner|manager)["']"""
)


def role_comparisons_in_template(source: str) -> list[int]:
    return [number for number, line in enumerate(source.splitlines(), 1) if TEMPLATE_ROLE_COMPARISON.search(line)]


def python_files():
    return sorted(path for path in (ROOT / "tracker").rglob("*.py") if "static" not in path.parts)


def template_files():
    return sorted((ROOT / "templates").rglob("*.html"))


def test_no_role_comparison_outside_permissions():
    offences = []
    for path in python_files():
        if path == POLICY_HOME or path in ROLE_COMPARISONS_ALLOWED or "models" in path.parts:
            continue
        offences += [f"{path.relative_to(ROOT)}:{line}" for line in role_comparisons_in_python(path.read_text())]
    for path in template_files():
        offences += [f"{path.relative_to(ROOT)}:{line}" for line in role_comparisons_in_template(path.read_text())]
    assert offences == [], "Ask a predicate in tracker/permissions.py instead of comparing roles: " + ", ".join(
        offences
    )


@pytest.mark.parametrize(
    "source",
    [
        "if user.role == Role.PARTNER: pass",
        "ok = current_user.role != 'partner'",
        "ok = user.role in {Role.ADMIN, Role.CHAIR}",
        "query = select(User).where(User.role.in_([Role.CHAIR]))",
        "ok = Role(role) == Role.PARTNER",
    ],
)
def test_the_rule_catches_python_role_comparisons(source):
    assert role_comparisons_in_python(source) == [1]


@pytest.mark.parametrize(
    "source",
    [
        '{% if current_user.role == "partner" %}',
        "{% if user.role in ('manager', 'admin') %}",
        '{% if current_user.role.value != "chair" %}',
        "{% if kind == 'partner' %}",
    ],
)
def test_the_rule_catches_template_role_comparisons(source):
    assert role_comparisons_in_template(source) == [1]


@pytest.mark.parametrize(
    "source",
    [
        "{{ current_user.role.label }}",
        "{{ row.role.label }}",
        "{% if sees_own_agency_only(current_user) %}",
        "{% if filters.role == value %}selected{% endif %}",  # a search filter, not an access decision
    ],
)
def test_the_rule_lets_templates_show_a_role(source):
    assert role_comparisons_in_template(source) == []


def test_the_allowed_list_names_only_files_that_exist():
    assert all(path.exists() for path in ROLE_COMPARISONS_ALLOWED)


# Flash messages live in the signed session cookie and are shown on the next page: they are the
# service's own fixed words, never what someone typed (a note, a name, a case reference).
USER_TEXT = {"data", "note", "reason", "display_name", "name", "person_name", "email", "description", "findings",
             "summary", "information", "case", "text"}  # fmt: skip


def user_text_in_flashes(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "flash"):
            continue
        if not node.args:
            continue
        for inner in ast.walk(node.args[0]):
            if (isinstance(inner, ast.Attribute) and inner.attr in USER_TEXT) or (
                isinstance(inner, ast.Name) and inner.id in {"form", "reference"}
            ):
                lines.append(node.lineno)
                break
    return lines


def test_flash_messages_never_carry_user_text():
    offences = []
    for path in python_files():
        offences += [f"{path.relative_to(ROOT)}:{line}" for line in user_text_in_flashes(path.read_text())]
    assert offences == [], "Flash the service's own words, not user text: " + ", ".join(offences)


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ('flash(f"Your text: {form.note.data}", "error")', True),
        ('flash(f"User {user.display_name} created.", "success")', True),
        ('flash(f"Case {review.case.reference} added.")', True),
        ('flash(f"Action {action.reference} raised.", "success")', False),
        ('flash("Saved.", "success")', False),
    ],
)
def test_the_flash_rule_catches_user_text(source, caught):
    assert bool(user_text_in_flashes(source)) is caught


# read_rows (tracker/extensions.py) -------------------------------------------------------------


# What takes a result's rows in one call: directly, or after .scalars() / .mappings() / .tuples().
_FETCHING = {"all", "one", "one_or_none", "first", "scalar", "scalar_one", "scalar_one_or_none"}
_REFRAMING = {"scalars", "mappings", "tuples"}


def read_rows_results_iterated(source: str) -> list[int]:
    """Line numbers where a ``read_rows(...)`` result is not taken by a method that fetches its rows in
    one call (``.all()``, ``.one()``, ``.scalars().all()``...): iterated, listed, added, or reframed
    (``.scalars()``) and then iterated, it is fetched a row per call."""
    tree = ast.parse(source)
    # A method called on a node: id(node) -> the method's name and the call it makes.
    called_on = {
        id(node.func.value): (node.func.attr, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }

    def fetched(node: ast.AST) -> bool:
        method, call = called_on.get(id(node), (None, None))
        return method in _FETCHING or (method in _REFRAMING and fetched(call))

    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "read_rows"
        and not fetched(node)
    ]


def test_read_rows_results_are_taken_in_one_call():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in python_files()
        if (lines := read_rows_results_iterated(path.read_text()))
    }
    assert found == {}, f"iterate read_rows(...).all(), not the result: {found}"


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("for row in read_rows(query): pass", True),
        ("rows = list(map(Line._make, read_rows(query)))", True),
        ("owners += read_rows(query)", True),
        ("for row in read_rows(query).all(): pass", False),
        ("count = read_rows(query).scalar_one()", False),
        ("ids = list(read_rows(query).scalars())", True),
        ("ids = read_rows(query).scalars().all()", False),
        ("pairs = read_rows(query).mappings().first()", False),
    ],
)
def test_the_read_rows_rule_catches_a_result_iterated(source, caught):
    assert bool(read_rows_results_iterated(source)) is caught

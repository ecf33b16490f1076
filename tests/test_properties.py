"""Property tests (hypothesis): arbitrary text, numbers and dates in every form field and every query
parameter, on every route, as every kind of user: the answer is a page or a clear refusal, never a 500.

Field names come from every form class and from every form on every page (as a chair and as an
admin, so prefixed and per-row fields are included); query parameter names from everything the views
read. Each is thrown at every route, so a route gets the fields of other forms too.
"""

import os
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import database_from
from tests.test_permissions import POLICY, ROLES, _client_for, sample_world  # noqa: F401 - the shared sample world

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

# Examples per route: a quick guard in every test run; `make security` asks for more.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "8"))

# Parameters read through helpers (text("q"), a ("from", "to") loop, ...) as well as args.get("...").
KNOWN_QUERY_PARAMETERS = {
    "action", "after", "agency", "before", "case", "direction", "due_from", "due_to", "from", "meeting",
    "next", "overdue", "owner", "page", "q", "record", "reference", "review", "revision", "role", "sort",
    "status", "to", "type", "updated", "user",
}  # fmt: skip


def query_parameter_names() -> list[str]:
    source = "\n".join(path.read_text() for path in Path("tracker").rglob("*.py"))
    read = set(re.findall(r"""args\.(?:get|getlist)\(\s*["']([a-z_]+)["']""", source))
    read |= set(re.findall(r"""\b(?:text|number)\(\s*["']([a-z_]+)["']""", source))
    return sorted(read | KNOWN_QUERY_PARAMETERS)


def form_class_field_names(app) -> set[str]:
    import tracker.actions.forms
    import tracker.admin.forms
    import tracker.auth.forms
    import tracker.meetings.forms
    import tracker.reviews.forms  # noqa: F401
    from tracker.forms import TrackerForm, _typed_text_fields  # noqa: F401 - import registers every form

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names: set[str] = set()
    with app.test_request_context():
        for form_class in subclasses(TrackerForm):
            form = form_class(formdata=None)
            names |= {field.name for field in form}
    return names


@pytest.fixture(scope="module")
def surface(sample_world, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """Every route's URL (with sample arguments), and every form field name seen anywhere."""
    from flask import url_for

    from tests.conftest import make_test_app

    snapshot, users, args, _agency_a = sample_world
    app = make_test_app(database_from(snapshot, tmp_path_factory.mktemp("surface")))
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            url = url_for(rule.endpoint, **{name: args[name] for name in rule.arguments})
            routes.append((rule.endpoint, url, sorted(rule.methods & {"GET", "POST"})))
    fields = form_class_field_names(app)
    for role in ("chair", "admin", "partner_a"):
        client = _client_for(app, users, role)
        for _endpoint, url, methods in routes:
            if "GET" in methods and not url.endswith((".pdf", ".csv", ".ics")):
                page = BeautifulSoup(client.get(url).data, "html.parser")
                fields |= {tag["name"] for tag in page.select("form [name]")}
    fields -= {"csrf_token"}
    return routes, sorted(fields), users


# Arbitrary values, and the kinds that broke things before: huge numbers, unicode digits, far dates,
# control and direction characters, numbers with signs and exponents.
TRICKY_VALUES = (
    [
        "", " ", "0", "-1", "1e9", "9" * 25, "²", "٣", "1.5", "NaN", "9999-12-31", "0001-01-01", "2026-02-30",
        "\x00", "\u202e", "<script>", "' OR 1=1 --", "//evil.example", "y", "on", "1", "open", "cancelled",
    ]
)  # fmt: skip
TRICKY = st.sampled_from(TRICKY_VALUES)
VALUE = st.one_of(TRICKY, st.text(max_size=60), st.integers(min_value=-(2**70), max_value=2**70).map(str))


def values_for(names):
    """A few parameters, or every one of them at once (each view then reads all it knows)."""
    some = st.dictionaries(st.sampled_from(names), st.one_of(VALUE, st.lists(VALUE, max_size=3)), max_size=8)
    every = st.fixed_dictionaries({name: st.one_of(TRICKY, VALUE) for name in names})
    return st.one_of(some, every)


def roles_let_in(endpoint: str, method: str) -> list[str]:
    """The roles that get past the permission check (the rest are refused before any input is read)."""
    policy = POLICY[endpoint]
    policy = policy.get(method, policy) if "ok" not in policy else policy
    return sorted(policy["ok"] | policy["not_found"]) or ["anonymous"]


def _routes(method):
    from tests.conftest import make_test_app  # noqa: F401 - keeps the import order of the module
    from tracker import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(
        {(rule.endpoint) for rule in app.url_map.iter_rules() if method in rule.methods and rule.endpoint != "static"}
    )


@pytest.fixture
def database_uri(sample_world, tmp_path):  # noqa: F811 - the fixture imported above
    return database_from(sample_world[0], tmp_path)


def _clients(app, users):
    # Refusals are audited and repeated ones e-mail the admins: not the point here.
    app.config["REFUSAL_ALERT_THRESHOLD"] = 10**9
    return {role: _client_for(app, users, role) for role in ROLES}


@pytest.mark.parametrize("endpoint", _routes("GET"))
def test_no_query_string_gives_a_500(app, surface, smtp_server, endpoint):
    routes, _fields, users = surface
    url = next(url for name, url, _ in routes if name == endpoint)
    clients = _clients(app, users)
    names = query_parameter_names()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(role=st.sampled_from(roles_let_in(endpoint, "GET")), query=values_for(names))
    def check(role, query):
        response = clients[role].get(url, query_string=query)
        assert response.status_code < 500, (role, url, query)

    check()


@pytest.mark.parametrize("endpoint", _routes("POST"))
def test_no_form_gives_a_500(app, surface, smtp_server, endpoint):
    """(Mail goes to the tests' own SMTP server: a form may publish an agenda, which e-mails partners.)"""
    routes, fields, users = surface
    url = next(url for name, url, _ in routes if name == endpoint)
    clients = _clients(app, users)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(role=st.sampled_from(roles_let_in(endpoint, "POST")), form=values_for(fields))
    def check(role, form):
        response = clients[role].post(url, data=form)
        assert response.status_code < 500, (role, url, form)

    check()


def test_every_kind_of_input_is_thrown():
    """The strategies reach the values that broke pages before (so the test is not vacuous)."""
    assert {"9" * 25, "²", "9999-12-31", "\x00", "\u202e"} <= set(TRICKY_VALUES)
    assert {"page", "from", "to", "agency", "q"} <= set(query_parameter_names())

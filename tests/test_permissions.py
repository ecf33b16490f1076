"""Every URL rule × every kind of user × GET and POST, checked against a declared policy.

A route that is missing from POLICY fails ``test_every_route_is_in_the_policy_table``, so a new
view cannot land without someone deciding, here, who may use it.
"""

import pytest

from tracker.permissions import undeclared_endpoints

ROLES = ("anonymous", "admin", "chair", "partner_a", "partner_b", "manager")
EVERYONE = frozenset(ROLES)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
ADMIN = frozenset({"admin"})

# endpoint -> who may use it. Methods a rule does not accept must answer 405 for everyone.
POLICY = {
    "static": EVERYONE,
    "main.home": SIGNED_IN,
    "main.accessibility": EVERYONE,
    "main.privacy": EVERYONE,
    "main.health": EVERYONE,
    "auth.sign_in": EVERYONE,
    "auth.sign_out": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "admin.users": ADMIN,
    "admin.new_user": ADMIN,
    "admin.user": ADMIN,
    "admin.user_password": ADMIN,
    "admin.deactivate_user": ADMIN,
    "admin.reactivate_user": ADMIN,
    "admin.agencies": ADMIN,
    "admin.new_agency": ADMIN,
    "admin.agency": ADMIN,
    "admin.deactivate_agency": ADMIN,
    "admin.reactivate_agency": ADMIN,
    "admin.audit_log": ADMIN,
}


def _rules():
    from tracker import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in ("GET", "POST")]


def test_every_route_is_in_the_policy_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - POLICY.keys() == set(), "add these routes to POLICY"
    assert POLICY.keys() - endpoints == set(), "these POLICY entries have no route"


def test_an_undeclared_view_is_detected(app):
    app.add_url_rule("/undeclared", "undeclared", lambda: "no permission declared")
    assert undeclared_endpoints(app) == ["undeclared"]


@pytest.fixture
def world(app, make_agency, make_user):
    """Two partner agencies, a user for every role, and sample objects for URL arguments."""
    agency_a = make_agency(name="Agency A", code="AAA")
    agency_b = make_agency(name="Agency B", code="BBB")
    users = {
        "admin": make_user("admin", agency_a),
        "chair": make_user("chair", agency_a),
        "manager": make_user("manager", agency_a),
        "partner_a": make_user("partner", agency_a),
        "partner_b": make_user("partner", agency_b),
    }
    sample_user = make_user("partner", agency_b)
    args = {"user_id": sample_user.id, "agency_id": agency_b.id, "filename": "app.css"}
    return users, args


def _client_for(app, users, role):
    client = app.test_client()
    if role != "anonymous":
        user = users[role]
        assert client.post("/sign-in", data={"email": user.email, "password": user.password}).status_code == 302
    return client


@pytest.mark.parametrize("endpoint, method", _rules())
def test_route_policy(app, world, endpoint, method):
    users, sample_args = world
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **{name: sample_args[name] for name in rule.arguments})
    allowed = POLICY[endpoint]

    for role in ROLES:
        response = getattr(_client_for(app, users, role), method.lower())(url)
        status = response.status_code
        location = response.headers.get("Location", "")
        outcome = f"{method} {url} as {role}: {status} {location}"
        if method not in rule.methods:
            assert status == 405, outcome
        elif role in allowed:
            assert status in (200, 302), outcome
            if endpoint != "auth.sign_out":  # the one allowed action that ends at the sign-in page
                assert not location.startswith("/sign-in"), outcome
        elif role == "anonymous":
            assert status == 302 and location.startswith("/sign-in"), outcome
        else:
            assert status == 403, outcome

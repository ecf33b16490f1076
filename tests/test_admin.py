"""Admin area: users and agencies. Every change is audited; bad input changes nothing."""

import pytest
from sqlalchemy import func, select

from tests.conftest import error_messages, get_page, parse, sign_in, text_of
from tracker.extensions import db
from tracker.models import Agency, AuditEvent, User

NEW_PASSWORD = "amber orchard lantern ridge"


@pytest.fixture
def admin(login_as, make_agency):
    return login_as("admin", make_agency(name="Police", code="POL"))


def new_user_form(agency_ref_id, **overrides):
    data = {
        "email": "New.Person@Example.org",
        "display_name": "New Person",
        "role": "partner",
        "agency_id": str(agency_ref_id),
        "is_spoc": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def audit_events(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_admin_creates_a_user_who_is_invited_by_email_and_never_given_a_password(
    client, app, admin, make_agency, smtp_server
):
    idva = make_agency(name="IDVA service", code="IDVA")
    page = get_page(client, "/admin/users/new")
    assert page.select("input[type=password]") == []  # the admin never types a password for anyone
    response = client.post("/admin/users/new", data=new_user_form(idva.id, temporary_password=NEW_PASSWORD))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
        assert (user.role, user.agency_id, user.is_spoc, user.must_change_password) == ("partner", idva.id, True, False)
        assert not user.password_hash.startswith("$argon2")  # no password until they choose one
    [event] = audit_events(app, "user_created")
    assert event.user_id == admin.id and "agency=IDVA" in event.detail
    assert len(audit_events(app, "invitation_sent")) == 1
    [mail] = smtp_server
    assert mail["to"] == ["new.person@example.org"] and "/set-password/" in mail["body"]

    # Not even a password the admin posted anyway works: the account has none.
    assert sign_in(app.test_client(), "new.person@example.org", NEW_PASSWORD).status_code == 200
    status = get_page(client, f"/admin/users/{user.id}")
    assert "has not chosen a password yet" in text_of(status.select_one("[data-testid=password-status]"))
    assert "invitation link works until" in text_of(status.select_one("[data-testid=password-status]"))


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format, like name@example.org"),
        ({"email": ""}, "email", "Enter an email address"),
        ({"display_name": ""}, "display_name", "Enter the user's full name"),
        ({"display_name": "x" * 121}, "display_name", "Full name must be 120 characters or fewer"),
        ({"role": "superuser"}, "role", "Select a role from the list"),
        ({"role": None}, "role", "Select a role"),
        ({"agency_id": ""}, "agency_id", "Select the user's agency from the list"),
        ({"agency_id": "99999"}, "agency_id", "Select the user's agency from the list"),
        ({"agency_id": "abc"}, "agency_id", "Select the user's agency from the list"),
        ({"role": "chair"}, "is_spoc", "Only partner agency officers can be a single point of contact"),
    ],
)
def test_bad_new_user_input_gets_a_field_message_and_creates_nothing(
    client, app, admin, make_agency, overrides, field, message
):
    idva = make_agency(code="IDVA")
    before = count(app, User)
    response = client.post("/admin/users/new", data=new_user_form(idva.id, **overrides))
    assert response.status_code == 200
    page = parse(response)
    assert error_messages(page)[field] == message
    assert page.select_one(".govuk-error-summary")
    assert count(app, User) == before
    assert audit_events(app, "user_created") == []


def test_partner_without_agency_is_refused(client, app, admin):
    response = client.post("/admin/users/new", data=new_user_form("", role="partner", is_spoc=None))
    assert error_messages(parse(response))["agency_id"] == "Select the user's agency from the list"


def test_inactive_agency_cannot_be_chosen(client, app, admin, make_agency):
    closed = make_agency(code="OLD", active=False)
    response = client.post("/admin/users/new", data=new_user_form(closed.id))
    assert error_messages(parse(response))["agency_id"] == "Select the user's agency from the list"


def test_duplicate_email_in_any_case_is_refused(client, app, admin, make_user, make_agency):
    make_user("partner", email="taken@example.org")
    response = client.post("/admin/users/new", data=new_user_form(make_agency().id, email="TAKEN@Example.ORG"))
    assert error_messages(parse(response))["email"] == "A user with this email address already exists"


def test_users_list_searches_and_filters(client, app, admin, make_user, make_agency):
    housing = make_agency(name="Housing", code="HOU")
    make_user("partner", housing, name="Alpha Housing")
    make_user("manager", name="Beta Manager")
    make_user("partner", name="Gamma Gone", active=False)

    def names(url):
        page = get_page(client, url)
        return [text_of(a) for a in page.select("[data-testid=users-table] tbody a")]

    assert "Gamma Gone" not in names("/admin/users")
    assert names(f"/admin/users?agency={housing.id}") == ["Alpha Housing"]
    assert names("/admin/users?role=manager") == ["Beta Manager"]
    assert names("/admin/users?q=beta") == ["Beta Manager"]
    assert names("/admin/users?status=inactive") == ["Gamma Gone"]
    page = get_page(client, "/admin/users?role=wizard&status=maybe&agency=x")
    assert "not understood" in text_of(page.select_one(".govuk-notification-banner"))


def test_users_list_is_paginated_with_a_constant_number_of_queries(client, app, admin, make_user, query_counter):
    for _ in range(3):
        make_user("partner")
    with query_counter() as few:
        get_page(client, "/admin/users")
    for _ in range(30):
        make_user("partner")
    with query_counter() as many:
        page = get_page(client, "/admin/users")
    assert len(many) == len(few)
    assert len(page.select("[data-testid=users-table] tbody tr")) == app.config["USERS_PER_PAGE"]
    assert page.select_one(".govuk-pagination")
    second = get_page(client, "/admin/users?page=2")
    assert len(second.select("[data-testid=users-table] tbody tr")) == 34 - app.config["USERS_PER_PAGE"]


def test_role_or_agency_change_ends_the_users_sessions(client, app, admin, make_user, make_agency):
    target = make_user("partner", name="Moving Person")
    device = app.test_client()
    sign_in(device, target.email, target.password)
    assert device.get("/").status_code == 200
    other = make_agency(code="NEW")
    response = client.post(
        f"/admin/users/{target.id}",
        data={"email": target.email, "display_name": "Moving Person", "role": "partner", "agency_id": str(other.id)},
    )
    assert response.status_code == 302
    assert device.get("/").status_code == 302
    [event] = audit_events(app, "user_updated")
    assert "agency" in event.detail and "NEW" in event.detail


def test_name_change_alone_keeps_sessions(client, app, admin, make_user):
    target = make_user("partner", name="Old Name")
    device = app.test_client()
    sign_in(device, target.email, target.password)
    client.post(
        f"/admin/users/{target.id}",
        data={"email": target.email, "display_name": "New Name", "role": "partner", "agency_id": str(target.agency_id)},
    )
    assert device.get("/").status_code == 200
    with app.app_context():
        assert db.session.get(User, target.id).display_name == "New Name"


def test_admin_cannot_change_own_role_or_deactivate_self(client, app, admin):
    response = client.post(
        f"/admin/users/{admin.id}",
        data={"email": admin.email, "display_name": "Admin", "role": "manager", "agency_id": str(admin.agency_id)},
    )
    assert error_messages(parse(response))["role"] == "You cannot change your own role. Ask another administrator"
    client.post(f"/admin/users/{admin.id}/deactivate")
    with app.app_context():
        me = db.session.get(User, admin.id)
        assert me.role == "admin" and me.active


def test_deactivate_and_reactivate_user(client, app, admin, make_user):
    target = make_user("partner")
    device = app.test_client()
    sign_in(device, target.email, target.password)
    assert client.post(f"/admin/users/{target.id}/deactivate").status_code == 302
    assert device.get("/").status_code == 302
    assert sign_in(app.test_client(), target.email, target.password).status_code == 200  # refused, generic
    client.post(f"/admin/users/{target.id}/reactivate")
    assert sign_in(app.test_client(), target.email, target.password).status_code == 302
    assert [len(audit_events(app, a)) for a in ("user_deactivated", "user_reactivated")] == [1, 1]


def test_the_old_set_a_temporary_password_page_is_gone(client, admin, make_user):
    target = make_user("partner")
    assert client.get(f"/admin/users/{target.id}/password").status_code == 404
    page = get_page(client, f"/admin/users/{target.id}")
    assert not page.find(string=lambda s: s and "temporary password" in s.lower())
    assert [text_of(b) for b in page.select("main form button")] == [
        "Save changes",
        "Send a password reset link",
        "Deactivate account",
    ]


def test_unknown_or_malformed_user_ids_are_404(client, admin):
    for url in ("/admin/users/99999", "/admin/users/abc", "/admin/users/-1", "/admin/agencies/1.5"):
        assert client.get(url).status_code == 404, url


def test_agency_create_edit_deactivate(client, app, admin):
    response = client.post("/admin/agencies/new", data={"name": "Probation service", "code": " prob "})
    assert response.status_code == 302
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.code == "PROB"))
        agency_id = agency.id
    client.post(f"/admin/agencies/{agency_id}", data={"name": "Probation Service (North)", "code": "PROB"})
    client.post(f"/admin/agencies/{agency_id}/deactivate")
    with app.app_context():
        agency = db.session.get(Agency, agency_id)
        assert (agency.name, agency.active) == ("Probation Service (North)", False)
    page = get_page(client, "/admin/agencies")
    row = next(tr for tr in page.select("[data-testid=agencies-table] tbody tr") if "PROB" in text_of(tr))
    assert "Deactivated" in text_of(row)
    assert [len(audit_events(app, a)) for a in ("agency_created", "agency_updated", "agency_deactivated")] == [1, 1, 1]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "", "code": "ABC"}, "name", "Enter the agency's name"),
        ({"name": "Some agency", "code": "A"}, "code", "Short code must be 2 to 12 capital letters or digits"),
        ({"name": "Some agency", "code": "AB-C"}, "code", "Short code must be 2 to 12 capital letters or digits"),
        ({"name": "police", "code": "ZZZ"}, "name", "An agency with this name already exists"),
        ({"name": "Another", "code": "pol"}, "code", "Another agency already uses this short code"),
    ],
)
def test_bad_agency_input(client, app, admin, data, field, message):
    before = count(app, Agency)
    response = client.post("/admin/agencies/new", data=data)
    assert response.status_code == 200
    assert error_messages(parse(response))[field] == message
    assert count(app, Agency) == before


def test_audit_log_lists_events_newest_first_and_filters(client, app, admin, make_user):
    make_user("partner")
    client.post("/admin/agencies/new", data={"name": "Health", "code": "NHS"})
    page = get_page(client, "/admin/audit")
    rows = page.select("[data-testid=audit-table] tbody tr")
    assert "agency created" in text_of(rows[0])
    filtered = get_page(client, "/admin/audit?action=sign_in")
    assert all("sign in" in text_of(r) for r in filtered.select("[data-testid=audit-table] tbody tr"))


def test_audit_rows_cannot_be_changed_or_deleted(app, admin):
    import sqlalchemy as sa

    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError):
            db.session.execute(sa.update(AuditEvent).values(detail="tampered"))
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError):
            db.session.execute(sa.delete(AuditEvent))
        db.session.rollback()
        assert db.session.scalar(select(func.count(AuditEvent.id))) >= 1


# Least privilege --------------------------------------------------------------------------


def test_the_admin_home_and_navigation_offer_only_what_an_admin_may_open(client, admin):
    page = get_page(client, "/")
    offered = {link["href"] for link in page.select("main a[href^='/'], .govuk-service-navigation a[href^='/']")}
    assert {"/admin/users", "/admin/agencies", "/admin/settings", "/admin/themes", "/admin/audit"} <= offered
    for href in offered:
        assert client.get(href).status_code == 200, href
    assert not any(
        href.startswith(("/meetings", "/actions", "/cases", "/reports", "/account/calendar")) for href in offered
    )
    assert page.select_one("[data-testid=workload]") is None and page.select_one("[data-testid=next-meetings]") is None


def test_an_admin_calendar_link_made_before_shows_nothing(app, admin):
    with app.app_context():
        db.session.get(User, admin.id).calendar_token = "an-admin-token"
        db.session.commit()
    assert app.test_client().get("/calendar/an-admin-token.ics").status_code == 404

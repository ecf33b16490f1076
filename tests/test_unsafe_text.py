"""Hidden control characters and text-direction overrides are refused in every typed field, with a
message on that field, and nothing is saved (tracker/forms.py: TrackerForm)."""

import pytest
from sqlalchemy import func, select

from tests.conftest import error_messages, parse, sign_in
from tracker.extensions import db
from tracker.forms import UNSAFE_CHARACTERS
from tracker.models import Action, ActionUpdate, Agency, Case, Meeting, User

MESSAGE_END = "must not contain hidden control characters or characters that change the direction of text"
HOSTILE = ["\x00", "\x1b[31m", "\x7f", "\u0085", "\u202e", "\u2066", "\u2069"]


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA")}


def rows(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("character", HOSTILE)
def test_every_hostile_character_is_recognised(character):
    assert UNSAFE_CHARACTERS.search(f"Safe text{character}more")


@pytest.mark.parametrize(
    "allowed", ["Line one\nline two", "Tab\tseparated", "Windows\r\nbreak", "Zoë Ó'Brien-Ålund", "عربي"]
)
def test_ordinary_text_is_allowed(allowed):
    assert not UNSAFE_CHARACTERS.search(allowed)


@pytest.mark.parametrize("character", ["\x00", "\u202e"])
def test_admin_forms_refuse_hidden_characters(client, app, agencies, make_user, character):
    admin = make_user("admin", agencies["POL"])
    sign_in(client, admin.email, admin.password)
    users_before, agencies_before = rows(app, User), rows(app, Agency)
    response = client.post(
        "/admin/users/new",
        data={
            "email": "new.person@example.org",
            "display_name": f"New{character}Person",
            "role": "partner",
            "agency_id": str(agencies["IDVA"].id),
            "temporary_password": "amber orchard lantern ridge",
        },
    )
    assert response.status_code == 200
    assert error_messages(parse(response))["display_name"].endswith(MESSAGE_END)
    response = client.post("/admin/agencies/new", data={"name": f"Health{character}", "code": "NHS"})
    assert error_messages(parse(response))["name"] == f"Agency name {MESSAGE_END}"
    assert (rows(app, User), rows(app, Agency)) == (users_before, agencies_before)


def test_a_meeting_note_a_reference_in_agenda_rows_and_an_action_update_are_refused(
    client, app, agencies, login_as, make_meeting, add_action
):
    chair = login_as("chair", agencies["POL"])
    meeting_id = make_meeting(1, chair=chair, invited=[agencies["IDVA"]])
    response = client.post(
        f"/meetings/{meeting_id}/notes", data={"general_notes": "Fine\x00", "any_other_business": "None"}
    )
    assert MESSAGE_END in error_messages(parse(response))["general_notes"]
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).general_notes in (None, "")

    response = client.post(
        f"/meetings/{meeting_id}/agenda",
        data={"save": "y", "rows-0-reference": "CR/1\u202e1/RC", "rows-0-agency_ids": [str(agencies["IDVA"].id)]},
    )
    assert response.status_code == 200
    assert MESSAGE_END in error_messages(parse(response))["rows-0-reference"]
    assert rows(app, Case) == 0

    action_id = add_action(meeting_id, agencies["IDVA"])
    updates_before = rows(app, ActionUpdate)
    response = client.post(
        f"/actions/{action_id}/progress",
        data={"progress-note": "Called\u2066 back", "progress-status": "", "progress-version": "1"},
    )
    assert response.status_code == 200
    assert MESSAGE_END in error_messages(parse(response))["progress-note"]
    assert rows(app, ActionUpdate) == updates_before
    with app.app_context():
        assert db.session.get(Action, action_id).version == 1


def test_line_breaks_and_accents_in_notes_are_kept(client, app, agencies, login_as, make_meeting):
    chair = login_as("chair", agencies["POL"])
    meeting_id = make_meeting(1, chair=chair)
    notes = "Zoë said:\n\tall agreed"
    assert (
        client.post(
            f"/meetings/{meeting_id}/notes", data={"general_notes": notes, "any_other_business": ""}
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).general_notes == "Zoë said:\n\tall agreed"


@pytest.mark.parametrize(
    "url",
    [
        "/cases?reference=CR%00",
        "/actions?q=call%00%E2%80%AE",
        "/actions?case=CR%00",
        "/admin/users?q=a%00",
        "/admin/users?agency=%C2%B2",
    ],
)
def test_a_nul_in_a_search_answers_a_page(client, login_as, url):
    login_as("admin" if url.startswith("/admin/") else "chair")
    assert client.get(url).status_code == 200

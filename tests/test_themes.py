"""Learning themes: administrators merge two that mean the same (reviews re-tagged, audited) and retire
one (kept on the reviews that carry it, not offered for others)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import error_messages, get_page, parse, sign_in, text_of
from tests.test_case_reviews import review_form
from tracker.extensions import db
from tracker.models import AuditEvent, CaseReview, LearningTheme


@pytest.fixture
def agencies(make_agency):
    return {code: make_agency(name=f"{code} agency", code=code) for code in ("POL", "IDVA")}


def add_theme(app, name, active=True) -> int:
    with app.app_context():
        theme = LearningTheme(name=name, active=active)
        db.session.add(theme)
        db.session.commit()
        return theme.id


def tag(app, review_id, *theme_ids):
    with app.app_context():
        review = db.session.get(CaseReview, review_id)
        review.themes = [db.session.get(LearningTheme, theme_id) for theme_id in theme_ids]
        db.session.commit()


def themes_of(app, review_id) -> list[str]:
    with app.app_context():
        return sorted(theme.name for theme in db.session.get(CaseReview, review_id).themes)


@pytest.fixture
def tagged(app, agencies, make_user, make_meeting, add_review):
    chair = make_user("chair", agencies["POL"])
    meeting_id = make_meeting(0, chair=chair)
    old = add_theme(app, "Coercive control missed")
    new = add_theme(app, "Coercive control not identified")
    other = add_theme(app, "Children not seen")
    reviews = {key: add_review(meeting_id, f"CR/TH/{key}") for key in ("old_only", "both", "new_only", "other")}
    tag(app, reviews["old_only"], old)
    tag(app, reviews["both"], old, new)
    tag(app, reviews["new_only"], new)
    tag(app, reviews["other"], other)
    return {"old": old, "new": new, "other": other, "reviews": reviews, "meeting": meeting_id, "chair": chair}


def test_merging_retags_the_reviews_once_removes_the_theme_and_is_audited(client, app, agencies, login_as, tagged):
    admin = login_as("admin", agencies["POL"])
    page = get_page(client, "/admin/themes")
    counts = {
        text_of(row.select("td")[0]): text_of(row.select("td")[1])
        for row in page.select("[data-testid=themes-table] tbody tr")
    }
    assert counts == {"Children not seen": "1", "Coercive control missed": "2", "Coercive control not identified": "2"}
    page = get_page(client, f"/admin/themes/{tagged['old']}/merge")
    assert "2 case reviews carry this theme" in text_of(page.select_one("[data-testid=merge-count]"))
    offered = [option.get("value") for option in page.select("#into_id option")]
    assert str(tagged["old"]) not in offered and str(tagged["new"]) in offered

    response = client.post(f"/admin/themes/{tagged['old']}/merge", data={"into_id": str(tagged["new"])})
    assert response.status_code == 302
    reviews = tagged["reviews"]
    assert themes_of(app, reviews["old_only"]) == ["Coercive control not identified"]
    assert themes_of(app, reviews["both"]) == ["Coercive control not identified"]
    assert themes_of(app, reviews["new_only"]) == ["Coercive control not identified"]
    assert themes_of(app, reviews["other"]) == ["Children not seen"]
    with app.app_context():
        assert db.session.get(LearningTheme, tagged["old"]) is None
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "learning_theme_merged"))
        assert (event.user_id, event.object_type, event.object_id) == (admin.id, "learning_themes", str(tagged["new"]))
        assert "Coercive control missed" in event.detail and "2 reviews re-tagged" in event.detail
    banner = text_of(parse(client.get("/admin/themes")).select_one(".govuk-notification-banner"))
    assert "Learning themes merged: 2 reviews re-tagged." in banner


@pytest.mark.parametrize(
    "choice, message",
    [
        ("", "Choose the theme to merge it into"),
        ("self", "Choose a theme from the list"),
        ("999", "Choose a theme from the list"),
        ("x", "Choose the theme to merge it into"),
    ],
)
def test_a_merge_needs_another_existing_theme(client, app, agencies, login_as, tagged, choice, message):
    login_as("admin", agencies["POL"])
    into = str(tagged["old"]) if choice == "self" else choice
    response = client.post(f"/admin/themes/{tagged['old']}/merge", data={"into_id": into})
    assert response.status_code == 200
    assert error_messages(parse(response))["into_id"] == message
    assert themes_of(app, tagged["reviews"]["both"]) == ["Coercive control missed", "Coercive control not identified"]


def test_merging_an_unknown_theme_is_not_found(client, agencies, login_as, tagged):
    login_as("admin", agencies["POL"])
    assert client.get("/admin/themes/999/merge").status_code == 404


def test_a_retired_theme_stays_on_its_reviews_and_is_not_offered_for_others(client, app, agencies, login_as, tagged):
    login_as("admin", agencies["POL"])
    client.post(f"/admin/themes/{tagged['other']}/active", data={"active": "0"})
    client.post("/sign-out")
    sign_in(client, tagged["chair"].email, tagged["chair"].password)
    meeting, reviews = tagged["meeting"], tagged["reviews"]

    page = get_page(client, f"/meetings/{meeting}/reviews/{reviews['new_only']}")
    offered = {text_of(label) for label in page.select("[name=theme_ids] + label, label[for^=theme_ids]")}
    assert "Children not seen" not in " ".join(offered) and "Coercive control missed" in " ".join(offered)
    response = client.post(
        f"/meetings/{meeting}/reviews/{reviews['new_only']}", data=review_form(theme_ids=[str(tagged["other"])])
    )
    assert error_messages(parse(response))["theme_ids"] == "Select learning themes from the list"

    page = get_page(client, f"/meetings/{meeting}/reviews/{reviews['other']}")
    box = page.select_one(f"input[name=theme_ids][value='{tagged['other']}']")
    assert box is not None and box.has_attr("checked")
    assert "Children not seen (retired)" in text_of(page.select_one(f"label[for='{box['id']}']"))
    response = client.post(
        f"/meetings/{meeting}/reviews/{reviews['other']}", data=review_form(theme_ids=[str(tagged["other"])])
    )
    assert response.status_code == 302
    assert themes_of(app, reviews["other"]) == ["Children not seen"]

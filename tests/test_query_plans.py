"""The meeting pages' history-sized queries are answered from the indexes meant for them, on SQLite
without statistics (as the app runs it) — checked with EXPLAIN QUERY PLAN, not with timings."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from tests.conftest import ON_POSTGRES
from tracker.extensions import db
from tracker.models import Action, CaseReview, Meeting, User
from tracker.timeutil import utcnow

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite query plans")


def plan_of(statement) -> str:
    sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    return " ".join(row[-1] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))


def only_open_action_indexes(plan: str) -> bool:
    """Every read of actions in ``plan`` is from an index of open actions alone, and from it alone."""
    reads = re.findall(r"(?:SCAN|SEARCH) actions USING (COVERING INDEX \w+|INDEX \w+|INTEGER PRIMARY KEY)", plan)
    reads += re.findall(r"(?:SCAN|SEARCH) actions(?! USING)", plan)
    return bool(reads) and all(re.fullmatch(r"COVERING INDEX ix_actions_open_\w+", read) for read in reads)


@pytest.fixture
def meeting_and_chair(app, make_meeting, make_user):
    chair = make_user("chair")
    meeting_id = make_meeting(chair=chair)
    return meeting_id, chair.id


def test_matters_arising_are_chosen_from_the_covering_index(app, meeting_and_chair):
    from tracker.meetings.queries import _matters_selected, _matters_values, matters_due_by

    meeting_id, chair_id = meeting_and_chair
    with app.app_context():
        meeting, chair = db.session.get(Meeting, meeting_id), db.session.get(User, chair_id)
        values = _matters_values(meeting, matters_due_by(meeting))
        selected = _matters_selected(chair, (False, False, False)).params(**values, page_limit=25, page_offset=0)
        plan = plan_of(selected)
    # The open actions with their due dates, meetings and agencies, from an index of open actions alone:
    # the agencies in name order, each one's open actions in due-date order, so the first page is read
    # and the reading stops, with nothing to sort (a sort of every open action grew with history).
    assert only_open_action_indexes(plan), plan
    assert plan.startswith("SCAN agencies USING COVERING INDEX"), plan
    assert "SEARCH actions USING COVERING INDEX ix_actions_open_agency_due (owning_agency_id=?" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_a_page_of_matters_arising_joins_only_the_chosen_actions_to_their_details(app, meeting_and_chair):
    from tracker.meetings.queries import _matters_page_rows, _matters_values, matters_due_by

    meeting_id, chair_id = meeting_and_chair
    with app.app_context():
        meeting, chair = db.session.get(Meeting, meeting_id), db.session.get(User, chair_id)
        values = {**_matters_values(meeting, matters_due_by(meeting)), "page_limit": 25, "page_offset": 0}
        plan = plan_of(_matters_page_rows(chair, (False, False, False)).params(**values))
    # The page's ids first, from the open actions' index alone; then each chosen action by its key, with
    # its agency, meeting, owner, case and latest update: never every open action joined to all of them.
    assert plan.startswith("MATERIALIZE page_ids SCAN agencies USING COVERING INDEX"), plan
    assert "SCAN page_ids SEARCH actions USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    assert "SCAN actions" not in plan, plan


def test_matters_arising_counts_read_open_actions_not_every_meeting(app, meeting_and_chair):
    from tracker.meetings.queries import _matters_counted, _matters_values, matters_due_by

    meeting_id, chair_id = meeting_and_chair
    with app.app_context():
        meeting, chair = db.session.get(Meeting, meeting_id), db.session.get(User, chair_id)
        plan = plan_of(_matters_counted(chair).params(**_matters_values(meeting, matters_due_by(meeting))))
    # The open actions of the meetings since, meeting by meeting, and the ends of the open actions by due
    # date: all from the open actions' own indexes, never the index of every action by meeting.
    assert "COVERING INDEX ix_actions_open_meeting (meeting_id=?" in plan, plan
    assert "COVERING INDEX ix_actions_open_due (due_date>?)" in plan, plan
    assert only_open_action_indexes(plan), plan
    # "Raised before the meeting" is asked as "not at it or since": the list of meetings since is a few,
    # that of the meetings before nearly all of history.
    since = re.findall(
        r"LIST SUBQUERY \d+ SEARCH meetings USING COVERING INDEX ix_meetings_starts_at \(starts_at>\?\)", plan
    )
    assert len(since) == 2, plan  # for the count due after the matters arising date, and the one not overdue
    assert "ix_meetings_starts_at (starts_at<?)" not in plan, plan


def test_a_partners_matters_arising_are_counted_and_chosen_from_its_agencys_index(app, meeting_and_chair, make_user):
    from tracker.meetings.queries import _matters_counted, _matters_selected, _matters_values, matters_due_by

    meeting_id, _chair_id = meeting_and_chair
    partner_id = make_user("partner").id
    with app.app_context():
        meeting, partner = db.session.get(Meeting, meeting_id), db.session.get(User, partner_id)
        values = {**_matters_values(meeting, matters_due_by(meeting)), "agency_id": partner.agency_id}
        counted = plan_of(_matters_counted(partner).params(**values))
        selected = plan_of(
            _matters_selected(partner, (False, False, False)).params(**values, page_limit=25, page_offset=0)
        )
    # The agency's open actions with their due dates and meetings, from the index alone: no row read
    # for each of them (a thousand for the police, ten years on).
    assert "COVERING INDEX ix_actions_open_agency_due (owning_agency_id=?)" in counted, counted
    assert "COVERING INDEX ix_actions_open_agency_due (owning_agency_id=? AND due_date>?)" in counted, counted
    assert "COVERING INDEX ix_actions_open_agency_due" in selected, selected
    assert only_open_action_indexes(selected), selected
    assert "TEMP B-TREE" not in selected, selected
    # Those raised at the meeting or since, meeting by meeting from the open actions' index by meeting,
    # the agency tested on each of those few: not the agency's every open action read once a meeting.
    per_meeting = re.findall(r"CORRELATED SCALAR SUBQUERY \d+ SEARCH actions USING ([\w ]+ \([^)]*\))", counted)
    assert per_meeting == ["INDEX ix_actions_open_meeting (meeting_id=? AND status=?)"], counted
    reads = re.findall(
        r"(?:SCAN|SEARCH) actions(?: USING (?:COVERING )?INDEX (\w+)| USING INTEGER PRIMARY KEY|(?! USING))", counted
    )
    assert reads and all(index.startswith("ix_actions_open_") for index in reads), counted  # no scan, no row by key


def test_the_actions_lists_first_page_is_the_start_of_the_open_actions_index(app, make_user):
    from tracker.actions.filters import ActionFilter
    from tracker.actions.queries import _selection, _shape, _values

    chair_id = make_user("chair").id
    with app.app_context():
        chair = db.session.get(User, chair_id)
        f, _problems = ActionFilter.parse({}, chair)  # the list as it first opens: open actions, by due date
        selected = _selection(chair, _shape(f)).with_only_columns(Action.id).limit(25)
        plan = plan_of(selected.params(**_values(f)))
    # The first 25 entries of the index, in its order: no sort of every open action.
    assert "ix_actions_open_due" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_home_pages_count_open_actions_from_their_agency_index(app, make_user):
    from tracker.actions.queries import _PARTNER_COUNTS, _PARTNER_PAGE_IDS, _WORKLOAD, _today_and_soon

    partner_id = make_user("partner").id
    with app.app_context():
        agency_id = db.session.get(User, partner_id).agency_id
        values = {**_today_and_soon(), "agency_id": agency_id, "limit": 25}
        workload, counts, page = (
            plan_of(statement.params(**values)) for statement in (_WORKLOAD, _PARTNER_COUNTS, _PARTNER_PAGE_IDS)
        )
    for plan in (workload, counts, page):
        assert "COVERING INDEX ix_actions_open_agency_due" in plan, plan
        assert only_open_action_indexes(plan), plan


@pytest.mark.parametrize("role", ["chair", "partner"])
def test_a_cases_open_actions_are_found_from_its_reviews(app, make_user, role):
    from tracker.reviews.queries import case_history

    user_id = make_user(role).id
    statements = []

    def keep(_connection, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    with app.app_context():
        user = db.session.get(User, user_id)
        sa.event.listen(db.engine, "before_cursor_execute", keep)
        try:
            review = CaseReview(id=0, case_id=1)  # not saved: only its case and id are read
            case_history(user, review, before=utcnow())
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", keep)
        [(sql, parameters)] = [(sql, p) for sql, p in statements if sql.lstrip().startswith("SELECT actions.")]
        plan = " ".join(
            row[-1] for row in db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
        )
    # Not through the indexes of open actions, which hold every open action in history, nor through
    # the agency's index, which holds every action of that agency.
    assert "ix_actions_case_review_id" in plan, plan
    assert "ix_actions_open_due" not in plan, plan
    assert "ix_actions_open_agency_due" not in plan, plan
    assert "ix_actions_agency_due" not in plan, plan


@pytest.mark.parametrize("role", ["chair", "partner"])
def test_the_case_list_walks_back_from_the_newest_meeting(app, make_user, role):
    from tracker.cases.queries import _newest_visible_reviews

    user_id = make_user(role).id
    with app.app_context():
        user = db.session.get(User, user_id)
        plan = plan_of(_newest_visible_reviews(user).params(walk_limit=200))
    # Meetings newest first from their index, stopping after 200 reviews: no sort of every review in history.
    assert "ix_meetings_starts_at" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_pending_extension_requests_are_read_from_their_status_index(app):
    from tracker.actions.queries import pending_extension_requests

    statements = []

    def keep(_connection, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", keep)
        try:
            pending_extension_requests()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", keep)
        plans = [
            " ".join(row[-1] for row in db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in statements
        ]
    # The count and the list: both from the handful of pending requests, not every request ever made.
    assert len(plans) == 2 and all("ix_extension_requests_status" in plan for plan in plans), plans


def test_a_partners_case_scope_asks_the_reviews_actions_not_the_agencys(app, make_user):
    from tracker.permissions import case_review_scope

    partner_id = make_user("partner").id
    with app.app_context():
        partner = db.session.get(User, partner_id)
        reviews = (
            sa.select(sa.func.count())
            .select_from(CaseReview)
            .where(CaseReview.meeting_id == 1, case_review_scope(partner))
        )
        plan = plan_of(reviews)
    # For each review, whether the agency owns one of its actions: a probe of the review's actions by
    # agency, not a walk through every action the agency ever had (a second per page at ten years).
    assert "COVERING INDEX ix_actions_case_review_id (case_review_id=? AND owning_agency_id=?)" in plan, plan
    assert "ix_actions_agency_due" not in plan, plan


def test_a_partners_meetings_are_counted_with_one_seek_of_attendance_for_each(app, make_user):
    from tracker.permissions import meetings_in_scope_counted

    partner_id = make_user("partner").id
    with app.app_context():
        plan = plan_of(meetings_in_scope_counted(db.session.get(User, partner_id)))
    # Whether the agency attended each meeting: one seek of (meeting, agency, status) in the index
    # alone, not a read of every attendance row of the meeting (migration d7a3f1c9e2b4).
    probes = re.findall(r"SEARCH scope_attendance USING ([A-Z ]*INDEX \w+ \([^)]*\))", plan)
    assert probes, plan
    expected = "COVERING INDEX ix_attendance_meeting_agency_status (meeting_id=? AND agency_id=? AND status=?)"
    assert all(probe == expected for probe in probes), plan


def test_an_agencys_last_meeting_is_found_walking_back_through_meetings_once_per_agency(app):
    from tracker.meetings.queries import _REGULARS

    with app.app_context():
        plan = plan_of(_REGULARS.params(agency_ids=[1, 2], starts_at=utcnow()))
    # Once for each agency (materialised), newest meeting first from the meetings' index, each asked for
    # the agency's attendance: never every attendance row of the agency in history, sorted.
    assert plan.startswith("MATERIALIZE last_named"), plan
    assert "SEARCH meetings USING COVERING INDEX ix_meetings_starts_at (starts_at<?)" in plan, plan
    assert "ix_attendance_meeting_agency_status (meeting_id=? AND agency_id=?)" in plan, plan
    assert "TEMP B-TREE" not in plan and "ix_attendance_agency_status" not in plan, plan

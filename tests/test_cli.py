"""flask create-admin and seed-demo."""

from sqlalchemy import func, select

from tests.conftest import get_page, make_test_app, sign_in
from tracker.demo import DEMO_PASSWORD, DEMO_USERS, HISTORY_WEEKS
from tracker.extensions import db
from tracker.models import Action, Agency, AgencyReturn, AuditEvent, CaseReview, Meeting, User
from tracker.permissions import may_own_actions


def test_create_admin_with_flags_and_environment_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "Head.Admin@Example.org", "--name", "Head Admin"],
        env={"TRACKER_ADMIN_PASSWORD": "granite harbour willow nine"},
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "head.admin@example.org"))
        assert user.role == "admin" and user.agency.code == "POL" and not user.must_change_password
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "user_created")) == 1
    # The new administrator sets up two-step verification at their first sign-in.
    response = sign_in(app.test_client(), "head.admin@example.org", "granite harbour willow nine")
    assert response.headers["Location"] == "/sign-in/set-up"


def test_create_admin_prompts_when_no_flags(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin"],
        input="prompted@example.org\nPrompted Admin\ngranite harbour willow nine\ngranite harbour willow nine\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.email == "prompted@example.org")) == "admin"


def test_create_admin_refuses_weak_password_and_duplicate_email(app, make_user):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-admin", "--email", "a@example.org", "--name", "A", "--password", "password1234"])
    assert weak.exit_code != 0 and "too common" in weak.output
    make_user("chair", email="taken@example.org")
    taken = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "TAKEN@example.org",
            "--name",
            "B",
            "--password",
            "granite harbour willow nine",
        ]
    )
    assert taken.exit_code != 0 and "already exists" in taken.output


def test_seed_demo_loads_a_lived_in_history_once(app):
    runner = app.test_cli_runner()
    assert "Demo data loaded" in runner.invoke(args=["seed-demo"]).output
    assert "already loaded" in runner.invoke(args=["seed-demo"]).output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == len(DEMO_USERS)
        assert db.session.scalar(select(func.count(Agency.id))) == 8
        idva = db.session.scalar(select(User).where(User.email == "idva@example.org"))
        assert idva.role == "partner" and idva.is_spoc and idva.agency.code == "IDVA"
        statuses = db.session.scalars(select(Meeting.status).order_by(Meeting.starts_at)).all()
        # Two years of approved history, then ten recent approved meetings, this week's and next week's.
        assert statuses == ["approved"] * (HISTORY_WEEKS + 10) + ["in_progress", "scheduled"]
        # Every grade on the reviewed cases; next week's published agenda is not graded yet.
        assert set(db.session.scalars(select(CaseReview.scrutiny_grade))) == {1, 2, 3, 4, None}
        next_week = db.session.scalar(select(Meeting).order_by(Meeting.starts_at.desc()).limit(1))
        assert next_week.agenda_published_at is not None and len(next_week.reviews) == 3
        assert db.session.scalar(select(func.count(AgencyReturn.id))) == 1
        assert db.session.scalar(select(func.count(CaseReview.id)).where(CaseReview.is_repeat.is_(True))) >= 3
        actions = list(db.session.scalars(select(Action)))
        assert {a.owning_agency.code for a in actions} >= {"IDVA", "HOU"}
        for code in ("IDVA", "HOU"):
            mine = [a for a in actions if a.owning_agency.code == code]
            assert any(a.is_overdue for a in mine) and any(a.status == "completed" for a in mine)
            assert any(a.status == "in_progress" for a in mine)
        # Every named owner may own actions (the administrator, of the police agency, owned a share).
        owners = {a.owner for a in actions if a.owner is not None}
        assert owners and all(may_own_actions(owner) for owner in owners)
    for email, *_ in DEMO_USERS:
        assert sign_in(app.test_client(), email, DEMO_PASSWORD).headers["Location"] == "/"


def test_seed_demo_gives_the_reports_eight_quarters_of_themes_extensions_and_late_completions(app):
    from tracker.models import ExtensionRequest, LearningTheme
    from tracker.models.case import case_review_themes
    from tracker.models.extension import ExtensionStatus
    from tracker.timeutil import london_today

    app.test_cli_runner().invoke(args=["seed-demo"])
    with app.app_context():
        first = db.session.scalar(select(func.min(Meeting.starts_at)))
        assert (london_today() - first.date()).days > 8 * 91
        decisions = set(db.session.scalars(select(ExtensionRequest.status)))
        assert {ExtensionStatus.AGREED, ExtensionStatus.DECLINED} <= decisions
        completed = db.session.scalars(select(Action).where(Action.status == "completed")).all()
        late = [a for a in completed if a.closed_at.date() > a.original_due_date]
        assert len(late) > len(completed) // 5
        # A theme that falls: recorded far more often in the first year than in the second.
        dash = db.session.scalar(select(LearningTheme).where(LearningTheme.name == "DASH not completed at the scene"))
        midpoint = first + (max(db.session.scalars(select(Meeting.starts_at))) - first) / 2
        tagged = (
            select(func.count())
            .select_from(case_review_themes)
            .join(CaseReview, CaseReview.id == case_review_themes.c.case_review_id)
            .join(Meeting, Meeting.id == CaseReview.meeting_id)
            .where(case_review_themes.c.theme_id == dash.id)
        )
        early = db.session.scalar(tagged.where(Meeting.starts_at < midpoint))
        later = db.session.scalar(tagged.where(Meeting.starts_at >= midpoint))
        assert early > 2 * later


def test_seed_demo_refuses_in_production(database_uri):
    app = make_test_app(database_uri)
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "refuses to run in production" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_seed_demo_has_extension_requests_agreed_declined_and_waiting(app):
    from tracker.models import ExtensionRequest

    app.test_cli_runner().invoke(args=["seed-demo"])
    with app.app_context():
        # The recent meetings' requests, made by the demo's partner officers (the two years of history
        # before them have agreed and declined requests too).
        recent = select(ExtensionRequest).where(ExtensionRequest.requested_by_id.is_not(None))
        requests = {r.status.value: r for r in db.session.scalars(recent)}
        assert set(requests) == {"agreed", "declined", "pending"}
        agreed = requests["agreed"].action
        assert agreed.due_date == requests["agreed"].requested_due_date != agreed.original_due_date
        declined = requests["declined"].action
        assert declined.due_date == declined.original_due_date and declined.is_overdue
        assert requests["pending"].action.owning_agency.code == "HOU"
    client = app.test_client()
    sign_in(client, "chair@example.org", DEMO_PASSWORD)
    rows = get_page(client, "/").select("[data-testid=extension-requests] tbody tr")
    assert len(rows) == 1

"""The single access policy: which role may do what, and which agencies' data a user may see.

Every view declares its permission with ``@public`` or ``@requires(Capability.X)``.
create_app() refuses to start if any endpoint has no declaration (deny by default), and
tests/test_permissions.py checks every URL rule against a declared table for every role.
Objects outside a user's scope are answered with 404, exactly like objects that do not exist.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Protocol, TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import and_, exists, func, literal, or_, select, true
from sqlalchemy.orm import aliased

from tracker.extensions import login_manager
from tracker.models import Action, AgencyReturn, Attendance, AttendanceStatus, CaseReview, Meeting, Role, User
from tracker.models.case import case_review_agencies


class Capability(enum.StrEnum):
    SIGNED_IN = "signed_in"  # any active, signed-in user
    MANAGE_USERS = "manage_users"
    MANAGE_AGENCIES = "manage_agencies"
    MANAGE_SETTINGS = "manage_settings"  # confidentiality statement, learning themes
    MANAGE_RETENTION = "manage_retention"  # legal holds that keep a case past its retention period
    READ_AUDIT_LOG = "read_audit_log"
    READ_MEETINGS = "read_meetings"  # partners: only meetings their agency attended (queries scope it)
    RECORD_MEETINGS = "record_meetings"  # schedule, attendance, case reviews, actions
    APPROVE_MINUTES = "approve_minutes"  # approve and reopen
    READ_CASES = "read_cases"  # partners: only cases their agency is involved in (queries scope it)
    UPDATE_ACTIONS = "update_actions"  # partners: only their own agency's actions
    READ_ACTIONS = "read_actions"  # partners: only their own agency's actions (queries scope it)
    READ_REPORTS = "read_reports"  # partners: their agency's summary and redacted minutes only


_EVERY_USER = {
    Capability.SIGNED_IN,
    Capability.READ_MEETINGS,
    Capability.READ_CASES,
    Capability.READ_ACTIONS,
    Capability.READ_REPORTS,
}
_CHAIR = _EVERY_USER | {Capability.RECORD_MEETINGS, Capability.APPROVE_MINUTES, Capability.UPDATE_ACTIONS}

# Least privilege: an administrator runs the service (users, agencies, settings, learning themes) and
# reads the audit log, which names references only. No case content: no meetings, case reviews,
# actions, minutes or reports. Someone who also chairs holds a chair account as well.
_ADMIN = {
    Capability.SIGNED_IN,
    Capability.MANAGE_USERS,
    Capability.MANAGE_AGENCIES,
    Capability.MANAGE_SETTINGS,
    Capability.MANAGE_RETENTION,
    Capability.READ_AUDIT_LOG,
}

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(_ADMIN),
    Role.CHAIR: frozenset(_CHAIR),
    Role.MANAGER: frozenset(_EVERY_USER),
    Role.PARTNER: frozenset(_EVERY_USER | {Capability.UPDATE_ACTIONS}),
}

PUBLIC = "public"


def can(user, capability: Capability) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return capability in ROLE_CAPABILITIES.get(user.role, frozenset())


def public(view):
    """Reachable without signing in (sign-in page, accessibility statement, ...)."""
    view.permission = PUBLIC
    return view


def requires(capability: Capability, *, while_password_change_pending: bool = False):
    """Allow only signed-in users whose role grants ``capability``.

    Users holding a temporary password are sent to set a new one first, except on the few
    views marked ``while_password_change_pending`` (change password, sign out).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.must_change_password and not while_password_change_pending:
                return redirect(url_for("auth.change_password", next=request.full_path.rstrip("?")))
            if not can(current_user, capability):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = capability  # type: ignore[attr-defined]  # read by undeclared_endpoints()
        return wrapped

    return decorator


def undeclared_endpoints(app) -> list[str]:
    """Endpoints that carry no permission declaration (Flask's own static route is public)."""
    return sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "permission")
    )


# Who reads what ---------------------------------------------------------------------------
# Every decision that depends on a user's role is made here, by name. Views, queries, documents
# and templates (these predicates are Jinja globals) ask; they never compare roles themselves.
# tests/test_code_rules.py fails on a role comparison anywhere else.

# Roles that read case work across every agency; partners see their own agency's part only, and
# administrators read no case work at all (they have none of the READ_ capabilities).
_CROSS_AGENCY_READERS = frozenset({Role.CHAIR, Role.MANAGER})
# Police-internal feedback to the officer: chairs and managers, never partners (screen, PDF, CSV, e-mail).
_FEEDBACK_READERS = frozenset({Role.CHAIR, Role.MANAGER})


def sees_every_agency(user: User | Reader) -> bool:
    """Chairs and managers read across agencies; partners see their own agency only."""
    return user.role in _CROSS_AGENCY_READERS


def sees_own_agency_only(user: User) -> bool:
    """The reader gets their agency's part of everything (a partner agency officer)."""
    return not sees_every_agency(user)


def reads_case_work(user: User | None) -> bool:
    """Meetings, cases, actions and reports: everyone but the service administrators."""
    return can(user, Capability.READ_MEETINGS)


def can_see_feedback(user: User | Reader | None) -> bool:
    """Feedback to the officer is police-internal: chairs and managers only."""
    return user is not None and getattr(user, "role", None) in _FEEDBACK_READERS


def redaction_for(user: User):
    """The agency whose redacted copy ``user`` gets (of a meeting, its minutes, a report), or None for
    the full record."""
    return user.agency if sees_own_agency_only(user) else None


def visible_agency_ids(user: User) -> set[int] | None:
    """The agencies whose data ``user`` may see; None means every agency."""
    return None if sees_every_agency(user) else {user.agency_id}


def may_see_agency(user: User, agency_id: int) -> bool:
    return sees_every_agency(user) or agency_id == user.agency_id


def may_chair_condition():
    """SQL condition on User: those who may chair a meeting (they approve its minutes)."""
    roles = [role for role, capabilities in ROLE_CAPABILITIES.items() if Capability.APPROVE_MINUTES in capabilities]
    return User.role.in_(roles)


# Those who read across agencies, or run the service, must prove a second factor at every sign-in;
# partner agency officers are offered it.
_SECOND_FACTOR_REQUIRED = frozenset({Role.ADMIN, Role.CHAIR, Role.MANAGER})


def second_factor_required(user: User) -> bool:
    """Must this user sign in with an authenticator app code (and set one up at first sign-in)?"""
    return user.role in _SECOND_FACTOR_REQUIRED


def may_be_spoc(role: Role | str | None) -> bool:
    """Only a partner agency officer can be their agency's single point of contact."""
    return role == Role.PARTNER  # a StrEnum: equal to its value as submitted in a form


def agency_officer_condition():
    """SQL condition on User: active partner agency officers (they return their agency's information)."""
    return and_(User.active.is_(True), User.role == Role.PARTNER)


def action_owner_condition():
    """SQL condition on User: active accounts that may update actions, so may be named as an action's
    owner (not managers, who only read them, nor the service's administrators, who may not even open
    one: the owner is the person reminded to act on it)."""
    roles = [role for role, capabilities in ROLE_CAPABILITIES.items() if Capability.UPDATE_ACTIONS in capabilities]
    return and_(User.active.is_(True), User.role.in_(roles))


def attendee_condition():
    """SQL condition on User: people who take part in meetings (everyone but service administrators)."""
    return User.role != Role.ADMIN


def audit_reader_condition():
    """SQL condition on User: the active users who read the audit log (alerts about it go to them)."""
    roles = [role for role, capabilities in ROLE_CAPABILITIES.items() if Capability.READ_AUDIT_LOG in capabilities]
    return and_(User.active.is_(True), User.role.in_(roles))


def spoc_condition():
    """SQL condition on User: the active single points of contact, to whom escalations go."""
    return and_(User.is_spoc.is_(True), User.active.is_(True), User.role == Role.PARTNER)


# The aliases the partner rules use in their subqueries. Made once: SQLAlchemy works out an alias's
# columns the first time they are used, which cost about a millisecond per page when the aliases were
# made afresh for every query. Each rule has its own, so no subquery correlates to another rule's.
_SCOPE_ATTENDANCE = aliased(Attendance, name="scope_attendance")
_SCOPE_AGENDA_REVIEW = aliased(CaseReview, name="scope_agenda_review")
_SCOPE_AGENDA_LINK = case_review_agencies.alias("scope_agenda_link")
_REVIEW_MEETING = aliased(Meeting, name="scope_review_meeting")
_REVIEW_LINK = case_review_agencies.alias("scope_review_link")
_REVIEW_ACTION = aliased(Action, name="scope_review_action")


# A partner's rules below depend only on their agency, and SQL expressions never change once made, so
# each agency's is made once per process and shared by every statement that uses it: building the
# EXISTS subqueries, and working out their part of each statement's cache key, cost a partner's pages
# several hundred Python calls a statement. (About fifteen agencies: the caches stay small.)


@lru_cache(maxsize=256)
def _meeting_scope_on(meeting, agency_id: int):
    """The partner rule for ``meeting`` (the Meeting class or an alias), as correlated EXISTS
    subqueries: each is answered from an index for the one meeting in hand, however long the history."""
    if meeting is not Meeting and meeting is not _REVIEW_MEETING:
        raise ValueError("The meeting rule is kept per agency for Meeting and its one alias, not a fresh alias")
    return or_(*_meeting_scope_parts(meeting, agency_id))


def _probed(*conditions):
    """EXISTS (the rows meeting ``conditions``), looked up for each outer row from an index.

    The OFFSET 0 (with LIMIT 1, which SQLite needs beside it) keeps PostgreSQL from answering an
    EXISTS inside an OR by first reading every row the subquery could ever match into a hash: for the
    police, involved in every case, ten thousand agenda cases on each partner page, ten years on
    (3.3 ms against 0.6 ms probing, for a page of meetings' case counts). SQLite probes either way."""
    return select(literal(1)).where(*conditions).limit(1).offset(0).exists()


@lru_cache(maxsize=256)
def _meeting_scope_parts(meeting, agency_id: int):
    """The partner rule's two parts: the agency attended; the meeting's published agenda involves it."""
    attendance, review, link = _SCOPE_ATTENDANCE, _SCOPE_AGENDA_REVIEW, _SCOPE_AGENDA_LINK
    attended = _probed(
        attendance.meeting_id == meeting.id,
        attendance.agency_id == agency_id,
        attendance.status == AttendanceStatus.PRESENT,
    )
    involved_on_agenda = _probed(
        review.meeting_id == meeting.id, link.c.case_review_id == review.id, link.c.agency_id == agency_id
    )
    return attended, and_(meeting.agenda_published_at.is_not(None), involved_on_agenda)


def meetings_in_scope_counted(user: User | Reader, *conditions):
    """A SELECT of how many meetings meeting ``conditions`` ``user`` may see (meeting_scope).

    A partner's are counted as those its agency attended plus those it did not attend whose published
    agenda involves it: the same meetings as meeting_scope's OR, but PostgreSQL answers an OR of two
    EXISTS by reading every agenda case the agency was ever involved in (ten thousand, for the
    police, ten years on) where the second count reads the few meetings it did not attend.
    """
    if sees_every_agency(user):
        return select(func.count(Meeting.id)).where(*conditions)
    attended, on_published_agenda = _meeting_scope_parts(Meeting, user.agency_id)
    counted_attended = select(func.count(Meeting.id)).where(attended, *conditions).scalar_subquery()
    counted_others = select(func.count(Meeting.id)).where(~attended, on_published_agenda, *conditions).scalar_subquery()
    return select(counted_attended + counted_others)


def meeting_scope(user: User | Reader):
    """SQL condition on Meeting: the meetings ``user`` may see.

    Partners see the meetings their agency attended (someone from it was present), and meetings
    whose published agenda has a case their agency is involved in (to return its information).
    """
    if sees_every_agency(user):
        return true()
    return _meeting_scope_on(Meeting, user.agency_id)


def case_review_scope(user: User | Reader):
    """SQL condition on CaseReview: inside a visible meeting, the reviews ``user`` may see.

    Partners see reviews their agency is involved in or owns an action on.
    """
    if sees_every_agency(user):
        return true()
    return _partner_case_review_scope(user.agency_id)


@lru_cache(maxsize=256)
def _partner_case_review_scope(agency_id: int):
    meeting, link, action = _REVIEW_MEETING, _REVIEW_LINK, _REVIEW_ACTION
    in_visible_meeting = exists().where(meeting.id == CaseReview.meeting_id, _meeting_scope_on(meeting, agency_id))
    involved = _probed(link.c.case_review_id == CaseReview.id, link.c.agency_id == agency_id)
    owns_action = _probed(action.case_review_id == CaseReview.id, action.owning_agency_id == agency_id)
    # The agency's own link to the review first: one index probe rules out most reviews before the
    # costlier meeting check (SQLite tries the conditions in the order written).
    return and_(or_(involved, owns_action), in_visible_meeting)


@dataclass(frozen=True)
class Reader:
    """All that the scope rules read of a user: their role, and their agency where the rules depend on
    it (a partner's). The rules above accept one in place of the user."""

    role: Role
    agency_id: int | None


def reader_of(user: User) -> Reader:
    return Reader(user.role, None if sees_every_agency(user) else user.agency_id)


_Statement = TypeVar("_Statement")


def statement_per_reader(builder: Callable[..., _Statement]) -> Callable[..., _Statement]:
    """A page's statement, built by ``builder(reader, *shape)`` once per Reader (and shape: hashable
    arguments saying which parts the statement has, such as the filters in use) and shared by every
    user with the same one; what differs per request (ids, dates, the filters' values) goes in bind
    parameters. A statement built afresh for each request cost its building, its cache key and the
    ORM's preparation of its loader options: 0.4-0.7 ms a statement, and a page makes six to twelve.
    The builder is given the Reader, not the user, so nothing else of a user can end up in a
    statement that other users share."""
    cached = lru_cache(maxsize=1024)(builder)  # shapes of filters in use, times readers: small statements

    @wraps(builder)
    def for_user(user: User, *shape) -> _Statement:
        return cached(reader_of(user), *shape)

    return for_user


def action_scope(user: User | Reader, *, by_agency_index: bool = True):
    """SQL condition on Action: partners see only their own agency's actions.

    ``by_agency_index=False`` keeps the planner from reading the actions by their agency's index (the
    condition is tested on each row read otherwise): for a count reached through another index."""
    if sees_every_agency(user):
        return true()
    if not by_agency_index:
        return Action.owning_agency_id + 0 == user.agency_id
    return Action.owning_agency_id == user.agency_id


class OwnedByAgency(Protocol):
    """An action, or a row read from one (a matter arising's): the rules below read only its agency."""

    @property
    def owning_agency_id(self) -> int: ...


def can_see_action(user: User, action: OwnedByAgency) -> bool:
    """The same rule as action_scope, for an action already loaded."""
    return sees_every_agency(user) or action.owning_agency_id == user.agency_id


def may_update_action(user: User, action: OwnedByAgency) -> bool:
    return can(user, Capability.UPDATE_ACTIONS) and (
        can(user, Capability.RECORD_MEETINGS) or action.owning_agency_id == user.agency_id
    )


def may_assign_owner(user: User, action: Action) -> bool:
    """Chairs, or the owning agency's single point of contact."""
    return can(user, Capability.RECORD_MEETINGS) or (
        user.is_spoc and can(user, Capability.UPDATE_ACTIONS) and action.owning_agency_id == user.agency_id
    )


def may_own_actions(user: User) -> bool:
    """Whether ``user`` may be named as an action's owner (action_owner_condition, in Python)."""
    return user.active and can(user, Capability.UPDATE_ACTIONS)


def follows_up_as_named_owner(user: User | None, action: Action) -> bool:
    """The named owner follows the action up (and is reminded) only while they may own actions (active,
    and able to update them: not an account made a manager since) and still in the owning agency;
    someone moved to another agency no longer hears about their old agency's actions. Otherwise the
    agency's SPOC follows it up."""
    return user is not None and may_own_actions(user) and user.agency_id == action.owning_agency_id


def may_cancel_action(user: User) -> bool:
    """Only chairs cancel actions."""
    return can(user, Capability.RECORD_MEETINGS)


def may_change_due_date(user: User) -> bool:
    """Chairs (and admins) move a due date directly, giving a reason. Partners ask for an extension."""
    return can(user, Capability.RECORD_MEETINGS)


def may_request_extension(user: User, action: Action) -> bool:
    """A partner agency officer asks for a later due date on one of their agency's open actions."""
    return (
        can(user, Capability.UPDATE_ACTIONS)
        and sees_own_agency_only(user)
        and action.owning_agency_id == user.agency_id
        and not action.status.is_closed
    )


def may_decide_extensions(user: User) -> bool:
    """Chairs (and admins) agree or decline extension requests."""
    return can(user, Capability.RECORD_MEETINGS)


def extension_decider_condition():
    """SQL condition on User: the people told by e-mail that an extension request waits (active chairs)."""
    return and_(User.active.is_(True), User.role == Role.CHAIR)


def may_return_information(user: User, review: CaseReview) -> bool:
    """A partner agency involved in a case on a published agenda returns what it holds, until the
    minutes are locked. (Chairs read the returns; they do not write them.)"""
    return (
        can(user, Capability.UPDATE_ACTIONS)
        and sees_own_agency_only(user)
        and review.meeting.agenda_published_at is not None
        and not review.meeting.is_locked
        and any(agency.id == user.agency_id for agency in review.agencies)
    )


def returns_scope(user: User | Reader):
    """SQL condition on AgencyReturn: a partner sees only its own agency's returns."""
    if sees_every_agency(user):
        return true()
    return AgencyReturn.agency_id == user.agency_id


def template_globals() -> dict:
    """The predicates templates may ask (registered as Jinja globals by the app factory)."""
    return {
        "sees_own_agency_only": sees_own_agency_only,
        "sees_every_agency": sees_every_agency,
        "reads_case_work": reads_case_work,
        "can_see_feedback": can_see_feedback,
        "may_update_action": may_update_action,
        "may_assign_owner": may_assign_owner,
        "may_cancel_action": may_cancel_action,
        "may_change_due_date": may_change_due_date,
        "may_request_extension": may_request_extension,
        "may_decide_extensions": may_decide_extensions,
        "may_return_information": may_return_information,
        "second_factor_required": second_factor_required,
    }

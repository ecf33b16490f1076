"""The single access policy: which role may do what, and which agencies' data a user may see.

Every view declares its permission with ``@public`` or ``@requires(Capability.X)``.
create_app() refuses to start if any endpoint has no declaration (deny by default), and
tests/test_permissions.py checks every URL rule against a declared table for every role.
Objects outside a user's scope are answered with 404, exactly like objects that do not exist.
"""

from __future__ import annotations

import enum
from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from tracker.models import Role, User


class Capability(enum.StrEnum):
    SIGNED_IN = "signed_in"  # any active, signed-in user
    MANAGE_USERS = "manage_users"
    MANAGE_AGENCIES = "manage_agencies"
    READ_AUDIT_LOG = "read_audit_log"


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.CHAIR: frozenset({Capability.SIGNED_IN}),
    Role.MANAGER: frozenset({Capability.SIGNED_IN}),
    Role.PARTNER: frozenset({Capability.SIGNED_IN}),
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
                return current_app.login_manager.unauthorized()
            if current_user.must_change_password and not while_password_change_pending:
                return redirect(url_for("auth.change_password", next=request.full_path.rstrip("?")))
            if not can(current_user, capability):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = capability
        return wrapped

    return decorator


def undeclared_endpoints(app) -> list[str]:
    """Endpoints that carry no permission declaration (Flask's own static route is public)."""
    return sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "permission")
    )


# Agency scope -----------------------------------------------------------------------------

def sees_every_agency(user: User) -> bool:
    """Admins, chairs and managers read across agencies; partners see their own agency only."""
    return user.role in {Role.ADMIN, Role.CHAIR, Role.MANAGER}


def visible_agency_ids(user: User) -> set[int] | None:
    """The agencies whose data ``user`` may see; None means every agency."""
    return None if sees_every_agency(user) else {user.agency_id}

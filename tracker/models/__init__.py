"""Every model, re-exported so Alembic's autogenerate sees them all."""

from tracker.models.agency import Agency
from tracker.models.audit import AuditEvent
from tracker.models.user import LoginFailure, Role, User, UserSession

__all__ = ["Agency", "AuditEvent", "LoginFailure", "Role", "User", "UserSession"]

"""Every model, re-exported so Alembic's autogenerate sees them all."""

from tracker.models.account_token import AccountToken, TokenPurpose
from tracker.models.action import IS_OPEN, OPEN_STATUSES, Action, ActionStatus, ActionUpdate
from tracker.models.agency import Agency
from tracker.models.audit import AuditEvent
from tracker.models.case import (
    RISK_FLAGS,
    SCRUTINY_GRADES,
    AgencyReturn,
    Case,
    CaseReview,
    LearningTheme,
    ReviewProgress,
    RiskLevel,
)
from tracker.models.document import MinutesDocument
from tracker.models.document_job import DocumentJob, DocumentJobStatus
from tracker.models.extension import ExtensionRequest, ExtensionStatus
from tracker.models.meeting import Attendance, AttendanceStatus, Meeting, MeetingRole, MeetingStatus
from tracker.models.reminder import ReminderSent
from tracker.models.reopening import MinutesReopening
from tracker.models.retention import LegalHold
from tracker.models.second_factor import RecoveryCode, SecondFactor
from tracker.models.setting import ServiceSetting
from tracker.models.submission import FormSubmission
from tracker.models.user import LoginFailure, Role, User, UserSession

__all__ = [
    "IS_OPEN",
    "OPEN_STATUSES",
    "RISK_FLAGS",
    "SCRUTINY_GRADES",
    "AccountToken",
    "Action",
    "ActionStatus",
    "ActionUpdate",
    "Agency",
    "AgencyReturn",
    "Attendance",
    "AttendanceStatus",
    "AuditEvent",
    "Case",
    "CaseReview",
    "DocumentJob",
    "DocumentJobStatus",
    "ExtensionRequest",
    "ExtensionStatus",
    "FormSubmission",
    "LearningTheme",
    "LegalHold",
    "LoginFailure",
    "Meeting",
    "MeetingRole",
    "MeetingStatus",
    "MinutesDocument",
    "MinutesReopening",
    "RecoveryCode",
    "ReminderSent",
    "ReviewProgress",
    "RiskLevel",
    "Role",
    "SecondFactor",
    "ServiceSetting",
    "TokenPurpose",
    "User",
    "UserSession",
]

"""Service settings an administrator can change (stored in the database, with defaults here)."""

from __future__ import annotations

from tracker.extensions import db
from tracker.models import ServiceSetting

CONFIDENTIALITY_STATEMENT_KEY = "confidentiality_statement"
DEFAULT_CONFIDENTIALITY_STATEMENT = (
    "The information discussed at this meeting is confidential and is shared only for the purpose of "
    "scrutinising the response to domestic abuse and keeping people safe. It must not be shared outside "
    "the meeting except as agreed here and in line with the information sharing agreement. Records are "
    "marked OFFICIAL-SENSITIVE. If you have a conflict of interest in any case, say so now."
)


def confidentiality_statement() -> str:
    setting = db.session.get(ServiceSetting, CONFIDENTIALITY_STATEMENT_KEY)
    return setting.value if setting is not None else DEFAULT_CONFIDENTIALITY_STATEMENT

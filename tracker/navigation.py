"""The service navigation, by role."""

from flask import request, url_for

from tracker.permissions import Capability, can

# (label, endpoint, capability needed, endpoint prefix that marks the item as current)
ITEMS = [
    ("Home", "main.home", Capability.SIGNED_IN, "main.home"),
    ("Meetings", "meetings.meetings", Capability.READ_MEETINGS, "meetings."),
    ("Actions", "actions.actions", Capability.READ_ACTIONS, "actions."),
    ("Cases", "cases.cases", Capability.READ_CASES, "cases."),
    ("Reports", "reports.index", Capability.READ_REPORTS, "reports."),
    ("Users", "admin.users", Capability.MANAGE_USERS, "admin.user"),
    ("Agencies", "admin.agencies", Capability.MANAGE_AGENCIES, "admin.agenc"),
    ("Settings", "admin.settings", Capability.MANAGE_SETTINGS, "admin.settings"),
    ("Legal holds", "admin.legal_holds", Capability.MANAGE_RETENTION, "admin.legal_holds"),
    ("Audit log", "admin.audit_log", Capability.READ_AUDIT_LOG, "admin.audit"),
]


def items_for(user) -> list[dict]:
    endpoint = request.endpoint or ""
    return [
        {"text": label, "href": url_for(target), "active": endpoint.startswith(prefix)}
        for label, target, capability, prefix in ITEMS
        if can(user, capability)
    ]

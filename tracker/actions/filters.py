"""The one action filter: parsed and checked from a query string here, and nowhere else.

The actions list, its CSV and the action summary PDF all take an ActionFilter and hand it to
tracker.actions.queries.filtered_actions(), so for the same query string they list the same actions.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from tracker.models import ActionStatus, User
from tracker.params import date_param, id_param, search_text
from tracker.permissions import may_see_agency, sees_own_agency_only
from tracker.timeutil import format_date

STILL_OPEN = "still_open"
STATUS_CHOICES = [
    (STILL_OPEN, "Open or in progress"),
    *((status.value, status.label) for status in ActionStatus),
    ("", "Any status"),
]
SORTS = {
    "due": "Due date, earliest first",
    "-due": "Due date, latest first",
    "raised": "Newest first",
    "agency": "Agency",
}


class OutOfScope(Exception):
    """The filter names an agency the user may not see (answered with 404, like a missing page)."""


@dataclass(frozen=True)
class Problem:
    """A filter that could not be used: the query-string key and a message for people."""

    key: str
    message: str


@dataclass(frozen=True)
class ActionFilter:
    agency_id: int | None = None
    status: str = STILL_OPEN
    overdue: bool = False
    due_from: date | None = None
    due_to: date | None = None
    meetings_from: date | None = None
    meetings_to: date | None = None
    meeting_id: int | None = None
    case_reference: str = ""
    owner_id: int | None = None
    text: str = ""
    sort: str = "due"

    @property
    def selects_open(self) -> bool:
        """Whether the status filter lets open or in-progress actions through (any status does)."""
        return self.status in ("", STILL_OPEN, ActionStatus.OPEN, ActionStatus.IN_PROGRESS)

    @property
    def selects_completed(self) -> bool:
        return self.status in ("", ActionStatus.COMPLETED)

    @classmethod
    def parse(cls, args, user: User) -> tuple[ActionFilter, list[Problem]]:
        """Read the filters from a query string. What cannot be used is left out and reported as a
        Problem; an agency outside the user's scope raises OutOfScope. A partner's filter is always
        their own agency's."""
        problems: list[Problem] = []
        values: dict[str, Any] = {}

        def text(key: str) -> str:
            return search_text(args.get(key), 200)

        for name, key, label in (("agency_id", "agency", "agency"), ("meeting_id", "meeting", "meeting"),
                                 ("owner_id", "owner", "named owner")):  # fmt: skip
            if raw := text(key):
                if (value := id_param(raw)) is None:
                    problems.append(Problem(key, f"Choose the {label} from the list"))
                else:
                    values[name] = value
        if values.get("agency_id") is not None and not may_see_agency(user, values["agency_id"]):
            raise OutOfScope()
        if sees_own_agency_only(user):
            values["agency_id"] = user.agency_id

        status = text("status") if "status" in args else STILL_OPEN
        if status in dict(STATUS_CHOICES):
            values["status"] = status
        else:
            problems.append(Problem("status", "Choose a status from the list"))
        values["overdue"] = text("overdue") in ("1", "on", "true", "y")

        for name, label in (("due_from", "Due from"), ("due_to", "Due by"),
                            ("meetings_from", "Raised at meetings from"),
                            ("meetings_to", "Raised at meetings up to")):  # fmt: skip
            if raw := text(name):
                if (day := date_param(raw)) is None:
                    problems.append(Problem(name, f"{label} must be a real date between 1900 and 2100"))
                else:
                    values[name] = day
        for start, end, label in (("due_from", "due_to", "due date"), ("meetings_from", "meetings_to", "meeting date")):
            if values.get(start) and values.get(end) and values[start] > values[end]:
                problems.append(Problem(start, f"The {label} range is the wrong way round: the start is after the end"))
                values[start] = values[end] = None

        values["case_reference"] = text("case")[:40]
        values["text"] = text("q")[:100]
        sort = text("sort") or "due"
        if sort in SORTS:
            values["sort"] = sort
        else:
            problems.append(Problem("sort", "Choose a sort order from the list"))
        return cls(**values), problems

    def as_args(self) -> dict:
        """The query string that reproduces this filter (pagination, the CSV and PDF links)."""
        args = {
            "agency": self.agency_id or "",
            "status": self.status,
            "overdue": "1" if self.overdue else "",
            "due_from": self.due_from.isoformat() if self.due_from else "",
            "due_to": self.due_to.isoformat() if self.due_to else "",
            "meetings_from": self.meetings_from.isoformat() if self.meetings_from else "",
            "meetings_to": self.meetings_to.isoformat() if self.meetings_to else "",
            "meeting": self.meeting_id or "",
            "case": self.case_reference,
            "owner": self.owner_id or "",
            "q": self.text,
            "sort": self.sort,
        }
        # An empty status means "any status", which must survive the round trip.
        return {key: value for key, value in args.items() if value not in ("", None) or key == "status"}

    def for_audit(self) -> str:
        """A short, factual summary for the audit log (no words the user typed beyond the case filter)."""
        parts = [
            f"{field.name}={getattr(self, field.name)}"
            for field in fields(self)
            if getattr(self, field.name) not in (None, "", False) and field.name != "text"
        ]
        if self.text:
            parts.append("text=yes")
        return " ".join(parts)[:400]

    def for_people(
        self, *, agency_name: str | None = None, meeting_day: date | None = None, owner_name: str | None = None
    ) -> list[str]:
        """What the filter selects, in words (printed on the first page of the summary PDF). The caller
        looks up the names of the agency, meeting and owner the filter names."""
        parts = [f"owned by {agency_name}" if self.agency_id else "every agency"]
        parts.append(dict(STATUS_CHOICES)[self.status].lower() if self.status else "any status")
        if self.overdue:
            parts.append("overdue only")
        if self.due_from or self.due_to:
            parts.append(f"due {format_date(self.due_from) or 'any time'} to {format_date(self.due_to) or 'any time'}")
        if self.meetings_from or self.meetings_to:
            parts.append(
                f"raised at meetings {format_date(self.meetings_from) or 'any time'} to "
                f"{format_date(self.meetings_to) or 'any time'}"
            )
        if self.meeting_id:
            parts.append(f"raised at the meeting on {format_date(meeting_day)}" if meeting_day else "one meeting")
        if self.case_reference:
            parts.append(f"case reference containing {self.case_reference}")
        if self.owner_id:
            parts.append(f"named owner {owner_name}" if owner_name else "one named owner")
        if self.text:
            parts.append(f"description containing “{self.text}”")
        return parts

    def for_filename(self, *, agency_code: str | None = None, meeting_day: date | None = None) -> list[str]:
        """The filter as parts of a file name: ASCII words, no person's name and nothing typed."""
        parts = [slug(agency_code) if self.agency_id and agency_code else "all-agencies"]
        parts.append({STILL_OPEN: "open-or-in-progress", "": "any-status"}.get(self.status, slug(self.status)))
        if self.overdue:
            parts.append("overdue")
        if self.due_from or self.due_to:
            parts.append(f"due-{_day(self.due_from)}-to-{_day(self.due_to)}")
        if self.meetings_from or self.meetings_to:
            parts.append(f"raised-{_day(self.meetings_from)}-to-{_day(self.meetings_to)}")
        if self.meeting_id:
            parts.append(f"meeting-{_day(meeting_day)}")
        if self.case_reference:
            parts.append("one-case")
        if self.owner_id:
            parts.append("one-owner")
        if self.text:
            parts.append("text-search")
        return parts


def _day(value: date | None) -> str:
    return value.isoformat() if value else "any"


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and hyphens only (for file names)."""
    return "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in text.lower()).split())[:40] or "x"

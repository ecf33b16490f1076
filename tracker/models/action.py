from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, bindparam
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship, validates

from tracker.extensions import Model
from tracker.models.agency import Agency
from tracker.models.case import CaseReview
from tracker.models.meeting import Meeting
from tracker.models.types import enum_type
from tracker.models.user import User
from tracker.timeutil import UTCDateTime, london_today, utcnow


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"open": "Open", "in_progress": "In progress", "completed": "Completed", "cancelled": "Cancelled"}[
            self.value
        ]

    @property
    def is_closed(self) -> bool:
        return self in (ActionStatus.COMPLETED, ActionStatus.CANCELLED)


OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


def _due_date_on_creation(context) -> date:
    return context.get_current_parameters()["due_date"]


class Action(Model):
    """Something a meeting decided an agency will do by a date."""

    __tablename__ = "actions"
    __table_args__ = (
        # An agency's actions of any status by due date: a partner's actions list filtered by status.
        # Its open actions have an index of their own (below), holding all a query of them reads; this
        # one does not, so that SQLite without statistics does not prefer it for them.
        Index("ix_actions_agency_due", "owning_agency_id", "due_date"),
        # A case review's actions, and whether an agency owns one of them (a partner's scope rule for
        # cases: tracker/permissions.py), from the index alone.
        Index("ix_actions_case_review_id", "case_review_id", "owning_agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    case_review_id: Mapped[int | None] = mapped_column(ForeignKey("case_reviews.id"))
    description: Mapped[str] = mapped_column(Text)
    owning_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_date: Mapped[date] = mapped_column(index=True)
    # The due date the meeting first set: set on creation and never changed, so reports can measure
    # completion on time and the days added by agreed extensions.
    original_due_date: Mapped[date] = mapped_column(default=_due_date_on_creation)
    status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus, "action_status"), default=ActionStatus.OPEN)
    completion_note: Mapped[str] = mapped_column(Text, default="")
    cancellation_reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Indexed for the reports: completions in a period, and actions still open at a period's end.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Optimistic locking: SQLAlchemy refuses to save over a row someone else changed first.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    # Filled in by the list, CSV and summary PDF query (tracker/actions/queries.py, with_follow_up()),
    # in the same statement as the actions: the latest update and how often the due date moved later.
    latest_update_at: Mapped[datetime | None] = query_expression()
    latest_update_text: Mapped[str | None] = query_expression()
    extension_count: Mapped[int | None] = query_expression()

    meeting: Mapped[Meeting] = relationship(back_populates="actions")
    case_review: Mapped[CaseReview | None] = relationship(back_populates="actions")
    owning_agency: Mapped[Agency] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updates: Mapped[list[ActionUpdate]] = relationship(back_populates="action", order_by="ActionUpdate.id")

    @validates("original_due_date")
    def _original_due_date_never_moves(self, _key: str, value: date) -> date:
        if self.original_due_date is not None and value != self.original_due_date:
            raise ValueError("an action's original due date never changes")
        return value

    @property
    def is_overdue(self) -> bool:
        """Derived, never stored: due date passed (in London) and not closed."""
        return not self.status.is_closed and self.due_date < london_today()

    @property
    def reference(self) -> str:
        return self.reference_for(self.id)

    @staticmethod
    def reference_for(action_id: int) -> str:
        return f"A-{action_id:05d}"


# "The action is open", with the statuses written into the SQL as literals (``literal_execute``), not
# bound: the partial indexes below hold only open actions, and neither SQLite nor PostgreSQL uses a
# partial index for a condition that is a bound parameter, which could be anything. The queries of
# open actions that pages and reports make use this one condition, so that it is the index's own, word
# for word (the retention rule, on an alias of actions, and the demo data need no index).
IS_OPEN = Action.status.in_(bindparam("open_statuses", list(OPEN_STATUSES), expanding=True, literal_execute=True))

# The open actions are the panel's working set: some thousands ten years on, against tens of thousands
# closed. Indexes of them alone keep the pages that read them from growing with history:
# - by due date: the actions list's first page is the index's first 25 entries, not a sort of every
#   open action; the counts of those due before or after a date read only that end of the index;
# - by agency, then due date: a partner's open actions, and matters arising by agency, in order;
# - by meeting: how many open actions the meetings since a given one raised (matters arising counts).
# Each ends with the status (_index_of_open_actions), though every entry's is open or in progress:
# SQLite reads a query from the index alone only if it holds every column the query names, and "the
# action is open" names the status.


def _index_of_open_actions(name: str, *columns) -> Index:
    return Index(name, *columns, Action.status, sqlite_where=IS_OPEN, postgresql_where=IS_OPEN)


_index_of_open_actions("ix_actions_open_due", Action.due_date, Action.id, Action.owning_agency_id, Action.meeting_id)
_index_of_open_actions(
    "ix_actions_open_agency_due", Action.owning_agency_id, Action.due_date, Action.id, Action.meeting_id
)
_index_of_open_actions("ix_actions_open_meeting", Action.meeting_id)


class ActionUpdate(Model):
    """Append-only trail of an action: notes, status changes and due-date changes with reasons."""

    __tablename__ = "action_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[ActionStatus | None] = mapped_column(enum_type(ActionStatus, "action_update_status_from"))
    status_to: Mapped[ActionStatus | None] = mapped_column(enum_type(ActionStatus, "action_update_status_to"))
    due_from: Mapped[date | None]
    due_to: Mapped[date | None]
    due_change_reason: Mapped[str] = mapped_column(String(500), default="")

    action: Mapped[Action] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()

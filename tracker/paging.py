"""A page of results read by statements built once (tracker.permissions.statement_per_reader)."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Integer, bindparam

from tracker.extensions import db

# The bind parameters an items statement takes its page by: .limit(PAGE_LIMIT).offset(PAGE_OFFSET).
PAGE_LIMIT = bindparam("page_limit", type_=Integer)
PAGE_OFFSET = bindparam("page_offset", type_=Integer)


class StatementPage(Pagination):
    """Flask-SQLAlchemy's Pagination over an items statement that pages by PAGE_LIMIT and PAGE_OFFSET
    and a count statement, both built once with their other values as bind parameters. (db.paginate
    makes new limited and counting statements from the query for every page it reads.)"""

    def __init__(self, items, count, parameters: dict, *, page: int, per_page: int) -> None:
        # With no count statement, total is None (a subclass then says whether there is a next page).
        self._statements = items, count, parameters
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False, count=count is not None)

    def _query_items(self) -> list:
        items, _count, parameters = self._statements
        page = {"page_limit": self.per_page, "page_offset": self._query_offset}
        return list(db.session.scalars(items, {**parameters, **page}))

    def _query_count(self) -> int:
        _items, count, parameters = self._statements
        return db.session.scalar(count, parameters) or 0

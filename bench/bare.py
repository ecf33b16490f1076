"""The baseline for bench/pages.py: a bare Flask + SQLAlchemy + Jinja page that lists 50 rows.

Its own table of 100,000 rows, in a temporary SQLite file, or in a PostgreSQL database of its own
(``<name>_bare`` beside the database being measured) when the pages are measured on PostgreSQL. One
query (the newest 50 rows), one template that extends a small layout and escapes every cell: the least
any server-rendered page listing 50 rows costs on this machine, measured in the same process and the
same run as the real pages, so machine noise affects both alike.

Run it alone to see what it serves:  .venv/bin/python bench/bare.py [postgresql+psycopg://.../name]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROWS = 100_000
PAGE_SIZE = 50

TEMPLATES = {
    "layout.html": """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{% block title %}{% endblock %} – Bare page</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><header><a href="/">Bare page</a></header>
<main>{% block content %}{% endblock %}</main>
<footer>OFFICIAL-SENSITIVE</footer></body>
</html>""",
    "rows.html": """{% extends "layout.html" %}
{% block title %}Rows{% endblock %}
{% block content %}
<h1>Rows</h1>
<table>
  <thead><tr><th>Reference</th><th>Agency</th><th>Description</th><th>Due</th><th>Status</th></tr></thead>
  <tbody>
  {% for row in rows %}
    <tr><td><a href="/rows/{{ row.id }}">R-{{ '%05d' % row.id }}</a></td><td>{{ row.agency }}</td>
    <td>{{ row.description }}</td><td>{{ row.due_date.strftime('%d %B %Y') }}</td><td>{{ row.status }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endblock %}""",
}


class Base(DeclarativeBase):
    pass


class BareRow(Base):
    __tablename__ = "bare_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str] = mapped_column(sa.String(12))
    description: Mapped[str] = mapped_column(sa.String(200))
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(16))


def bare_database_url(measured_url: str | None, folder: Path) -> str:
    """A SQLite file in ``folder``, or ``<name>_bare`` on the same PostgreSQL server as ``measured_url``."""
    if measured_url and sa.engine.make_url(measured_url).get_backend_name() == "postgresql":
        url = sa.engine.make_url(measured_url)
        return url.set(database=f"{url.database}_bare").render_as_string(hide_password=False)
    return f"sqlite:///{folder / 'bare.sqlite'}"


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist."""
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).scalar()
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def _spin(seconds: float) -> None:
    """Busy for ``seconds``, as a request is between two statements (a sleep would idle this core too)."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def round_trips(url: str, samples: int = 300, idle_ms: float = 1.0) -> tuple[float, float]:
    """Mean milliseconds of a ``SELECT 1`` on PostgreSQL sent back to back, and sent ``idle_ms`` after
    the previous answer, as a page's statements are (Python works on each one's rows before the next).
    The mean, not the median: on a machine whose idle processors are slow to wake, some of the
    round trips take a millisecond or more and most do not, and a page of ten statements pays the
    average of them ten times over, BEGIN and COMMIT included. That is what sets the ratios on
    PostgreSQL apart from SQLite's, where a statement is a function call."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    means = []
    try:
        with engine.connect() as connection:
            cursor = connection.connection.cursor()
            for gap in (0.0, idle_ms / 1000):
                times = []
                for _ in range(samples):
                    _spin(gap)
                    started = time.perf_counter()
                    cursor.execute("SELECT 1")
                    cursor.fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                means.append(statistics.fmean(times))
    finally:
        engine.dispose()
    return means[0], means[1]


def fill(url: str, rows: int = ROWS) -> None:
    """(Re)create the bare table with ``rows`` rows."""
    if sa.engine.make_url(url).get_backend_name() == "postgresql":
        ensure_postgres_database(url)
    engine = sa.create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    rng = random.Random(1)
    start = date(2016, 1, 5)
    agencies = ["POL", "IDVA", "HOU", "MASH", "NHS", "PROB", "KSC", "SDAS"]
    statuses = ["open", "in_progress", "completed", "cancelled"]
    with engine.begin() as connection:
        for first in range(1, rows + 1, 20_000):
            connection.execute(
                sa.insert(BareRow),
                [
                    {
                        "id": n,
                        "agency": rng.choice(agencies),
                        "description": f"Follow up the referral and share the outcome <#{n}> with the panel",
                        "due_date": start + timedelta(days=n // 10),
                        "status": rng.choice(statuses),
                    }
                    for n in range(first, min(rows, first + 19_999) + 1)
                ],
            )
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE bare_rows")
    engine.dispose()


def create_bare_app(url: str) -> Flask:
    """The bare app: GET / lists the newest 50 rows."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.jinja_loader = DictLoader(TEMPLATES)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True  # as the real app
    db = SQLAlchemy(model_class=Base)
    db.init_app(app)

    @app.get("/")
    def rows():
        newest = db.session.scalars(sa.select(BareRow).order_by(BareRow.id.desc()).limit(PAGE_SIZE)).all()
        return render_template("rows.html", rows=newest)

    app.extensions["bare_db"] = db
    return app


def bare_engine(app: Flask) -> sa.Engine:
    with app.app_context():
        return app.extensions["bare_db"].engine


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="tracker-bare-") as temporary:
        bare_url = bare_database_url(sys.argv[1] if len(sys.argv) > 1 else None, Path(temporary))
        fill(bare_url)
        bare_app = create_bare_app(bare_url)
        response = bare_app.test_client().get("/")
        print(response.status_code, len(response.data), "bytes")
        print(response.get_data(as_text=True)[:600])
        bare_engine(bare_app).dispose()

"""Reports benchmark over N years of generated history (bench/generate.py), as a chair and as a
partner officer:

- the board report PDF for the last complete quarter: median seconds over --runs downloads through
  the app (queries, charts, templating and WeasyPrint), its pages and SQL statements. Target: under 5 s;
- the reports page for that quarter counted afresh (nothing kept: the first view after a change),
  median milliseconds over --runs. Kept views are measured beside the bare page by bench/pages.py:
    .venv/bin/python bench/pages.py --pages '^reports\\.index$' --roles 'chair,manager,partner IDVA'

Usage:  .venv/bin/python bench/board.py [--years 10] [--scale 1] [--runs 3] [--database-url URL]
Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The board report is prepared by a background job: here it runs at once, after the request, so the
# time measured is the whole preparation (a worker would spend the same).
os.environ["TRACKER_JOBS"] = "immediate"

import sqlalchemy as sa
from generate import default_database_url, make_app
from pages import sign_in
from pypdf import PdfReader

from tracker.extensions import db
from tracker.models import DocumentJob
from tracker.reports import cache
from tracker.reports.periods import period_of
from tracker.timeutil import london_today

READERS = {"chair": "chair@example.org", "partner": "idva@example.org"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or default_database_url(args.years, args.scale, args.seed)
    app = make_app(url)
    quarter = period_of("quarter", london_today()).previous()
    query = f"period=quarter&of={quarter.first.isoformat()}"
    statements: list[str] = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    print(f"Board report for {quarter.label} on {url.split('@')[-1]}, {args.runs} runs each:\n")
    header = f"{'reader':10} {'median s':>9} {'max s':>7} {'pages':>6} {'SQL':>5}  {'under 5 s?':10}"
    print(f"{header}  page counted afresh, ms")
    for reader, email in READERS.items():
        client = sign_in(app, email)  # password and the demo key's second-factor code, as bench/pages.py
        timings, pages, count = [], 0, 0
        for _ in range(args.runs):
            statements.clear()
            with app.app_context():  # a new job each run, not the one prepared a moment ago
                db.session.execute(sa.delete(DocumentJob))
                db.session.commit()
            started = time.perf_counter()
            asked = client.get(f"/reports/board.pdf?{query}")
            response = client.get(asked.headers.get("Location", "") + "/download")
            timings.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{reader}: {asked.status_code} then {response.status_code}")
            pages, count = len(PdfReader(io.BytesIO(response.get_data())).pages), len(statements)
        median = statistics.median(timings)
        verdict = "PASS" if median < 5 else "FAIL"
        cold = []
        for _ in range(args.runs):
            cache.forget_all()
            started = time.perf_counter()
            client.get(f"/reports?{query}")
            cold.append(time.perf_counter() - started)
        cold_ms = statistics.median(cold) * 1000
        row = f"{reader:10} {median:9.2f} {max(timings):7.2f} {pages:6d} {count:5d}  {verdict:10}"
        print(f"{row}  {cold_ms:8.0f}")


if __name__ == "__main__":
    main()

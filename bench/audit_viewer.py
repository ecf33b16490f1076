"""Audit viewer benchmark: each filter of the admin's audit log, on a generated service with millions
of audit events (bench/generate.py; about 2.6 million over ten years at scale 1).

Signs in as admin@example.org with Flask's test client and requests the audit log unfiltered and
with each filter (an account, an agency, a kind of event, a record, a month, "who saw case X", and an
older page), timing each request in-process and counting its SQL statements. Prints the median and
p95 milliseconds per URL. Each filter is answered from an index (migration a7d2c9e4f1b6), so the
figures should not grow with the number of events: compare with a smaller --years.

Usage:
    .venv/bin/python bench/generate.py --years 10 --database-url sqlite:////tmp/bench-audit.sqlite
    .venv/bin/python bench/audit_viewer.py --database-url sqlite:////tmp/bench-audit.sqlite --runs 9
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from pages import sign_in

from tracker import create_app
from tracker.extensions import db


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a database made by bench/generate.py")
    parser.add_argument("--runs", type=int, default=9, help="requests per URL (default 9)")
    args = parser.parse_args()

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": args.database_url})
    statements = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *_: statements.append(1))
        events = db.session.scalar(sa.text("SELECT count(*) FROM audit_events"))
        user, agency = db.session.execute(
            sa.text("SELECT id, agency_id FROM users WHERE email = 'idva@example.org'")
        ).one()
        case_reference = db.session.scalar(sa.text("SELECT reference FROM cases ORDER BY id DESC LIMIT 1"))
        meeting = db.session.scalar(sa.text("SELECT max(id) FROM meetings"))
        old_event = db.session.scalar(
            sa.text("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET :offset"),
            {"offset": min(1000, events // 2)},
        )
    client = sign_in(app, "admin@example.org")  # password and second factor, as bench/pages.py
    urls = [
        "/admin/audit",
        f"/admin/audit?user={user}",
        f"/admin/audit?agency={agency}",
        "/admin/audit?action=case_viewed",
        f"/admin/audit?type=meetings&record={meeting}",
        "/admin/audit?from=2019-03-01&to=2019-03-31",
        f"/admin/audit?case={case_reference}",
        f"/admin/audit?before={old_event}",
    ]
    print(f"{events:,} audit events; {args.runs} requests per URL\n")
    print(f"{'median ms':>10} {'p95 ms':>8} {'SQL':>4}  URL")
    failed = False
    for url in urls:
        times, counts = [], []
        for _ in range(args.runs):
            statements.clear()
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
            counts.append(len(statements))
            failed |= response.status_code != 200
        ordered = sorted(times)
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
        print(f"{statistics.median(times) * 1000:10.1f} {p95 * 1000:8.1f} {max(counts):4}  {url}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

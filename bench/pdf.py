"""PDF benchmark: a 40-case minutes document and action summaries of 1,000 and 5,000 actions.

For each document it prints, as medians over repeated runs:
- total: our whole render path (queries + templating + WeasyPrint), as a download would run it;
- weasyprint: WeasyPrint alone on the very same HTML;
- our share: (total - weasyprint) / total, i.e. the cost of our queries, templating and the completion
  of the PDF/UA tagging (tracker/documents/tagging.py);
- pages, pages per second, and the process's peak resident memory after the renders (documents are
  measured from smallest to largest, so each figure is the peak that document needed);
and the time to download a stored, approved minutes PDF through the app (no rendering at all).

Usage:  .venv/bin/python bench/pdf.py [--runs 3]
It builds its own SQLite database in a temporary folder; nothing else is touched.
Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from weasyprint import HTML

from tracker import create_app
from tracker.actions.filters import ActionFilter
from tracker.auth.passwords import hash_password
from tracker.demo import DEMO_TOTP_SECRET, demo_code
from tracker.documents import action_summary, minutes
from tracker.documents.fetcher import BASE_URL, StaticOnlyFetcher
from tracker.extensions import db
from tracker.meetings import operations
from tracker.models import (
    Action,
    ActionStatus,
    Agency,
    Attendance,
    AttendanceStatus,
    Case,
    CaseReview,
    Meeting,
    MeetingStatus,
    RiskLevel,
    Role,
    SecondFactor,
    User,
)
from tracker.timeutil import london_today

PASSWORD = "benchmark password here"
FINDINGS = (
    "Attendance within target time and body-worn video used. The DASH was completed at the scene, "
    "the children were spoken to, and a referral to the IDVA service was made the same day. "
)


def build(app) -> dict:
    with app.app_context():
        upgrade()
        agencies = [Agency(name=f"Partner agency {n:02d}", code=f"AG{n:02d}") for n in range(15)]
        db.session.add_all(agencies)
        db.session.flush()
        chair = User(
            email="chair@example.org",
            display_name="Benchmark Chair",
            role=Role.CHAIR,
            agency_id=agencies[0].id,
            password_hash=hash_password(PASSWORD),
            must_change_password=False,
        )
        db.session.add(chair)
        db.session.flush()
        db.session.add(SecondFactor(user_id=chair.id, secret=DEMO_TOTP_SECRET))  # the demo key: see demo_code()
        # 100 earlier meetings with 50 actions each: 5,000 actions for the summaries.
        first_day = london_today() - timedelta(weeks=101)
        earlier = operations.schedule_meetings(
            first_day=first_day, start=clock(10), weeks=100, location="Room 1", chair=chair, invited=agencies
        )
        for index, meeting in enumerate(earlier):
            meeting.status = MeetingStatus.APPROVED
            for n in range(50):
                due = meeting.starts_at.date() + timedelta(days=14 + n % 30)
                # As in life, almost everything from older meetings is closed; recent ones are mixed.
                recent = index >= 97
                status = (
                    [ActionStatus.COMPLETED, ActionStatus.OPEN, ActionStatus.IN_PROGRESS][n % 3]
                    if recent
                    else (ActionStatus.OPEN if n == 0 and index % 10 == 0 else ActionStatus.COMPLETED)
                )
                db.session.add(
                    Action(
                        meeting=meeting,
                        description=f"Benchmark action {index}-{n}: follow up the referral",
                        owning_agency=agencies[n % 15],
                        due_date=due,
                        status=status,
                    )
                )
        # The meeting being minuted: 40 cases, 3 actions each, everyone present.
        (meeting,) = operations.schedule_meetings(
            first_day=london_today(), start=clock(10), weeks=1, location="Room 2", chair=chair, invited=agencies
        )
        for agency in agencies:
            db.session.add(
                Attendance(
                    meeting=meeting,
                    agency=agency,
                    person_name=f"{agency.code} representative",
                    status=AttendanceStatus.PRESENT,
                )
            )
        for n in range(40):
            case = Case(reference=f"BENCH/{n:05d}")
            review = CaseReview(
                meeting=meeting,
                case=case,
                position=n + 1,
                dash_score=n % 25,
                risk_level=RiskLevel.from_dash_score(n % 25),
                summary=FINDINGS,
                findings=FINDINGS * 2,
                scrutiny_grade=n % 4 + 1,
                agencies=agencies[n % 5 : n % 5 + 3],
            )
            db.session.add(review)
            for k in range(3):
                db.session.add(
                    Action(
                        meeting=meeting,
                        case_review=review,
                        description=f"Case action {n}-{k}",
                        owning_agency=agencies[(n + k) % 15],
                        due_date=london_today() + timedelta(days=21),
                    )
                )
        db.session.commit()
        operations.approve_minutes(meeting, chair)  # renders and stores the approved PDF
        db.session.commit()
        return {
            "meeting_id": meeting.id,
            "chair_id": chair.id,
            "summary_1000_to": (first_day + timedelta(weeks=19)).isoformat(),
        }


def measure(render, runs: int) -> dict:
    totals, weasy, pages = [], [], 0
    for _ in range(runs):
        started = time.perf_counter()
        rendered = render()
        totals.append(time.perf_counter() - started)
        started = time.perf_counter()
        # WeasyPrint alone: layout and writing, without our completion of the tagging (that is ours).
        HTML(string=rendered.html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf(pdf_variant="pdf/ua-1")
        weasy.append(time.perf_counter() - started)
        pages = rendered.pages
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux reports KiB
    total, weasyprint = statistics.median(totals), statistics.median(weasy)
    return {
        "total": total,
        "weasyprint": weasyprint,
        "share": (total - weasyprint) / total,
        "pages": pages,
        "pages_per_second": pages / total,
        "peak_mib": peak_kib / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}", "ACTION_SUMMARY_MAX_ROWS": 10000}
    )
    print(f"Building data in {folder} ...", flush=True)
    ids = build(app)
    results = {}
    with app.test_request_context():
        chair = db.session.get(User, ids["chair_id"])
        meeting = db.session.get(Meeting, ids["meeting_id"])
        results["minutes, 40 cases"] = measure(
            lambda: minutes.render_minutes(meeting, chair, document_id="BENCH", produced_for="Benchmark"), args.runs
        )
        for label, query in (
            ("action summary, 1,000 actions", {"status": "", "meetings_to": ids["summary_1000_to"]}),
            ("action summary, 5,000 actions", {"status": ""}),
        ):
            filters, _problems = ActionFilter.parse(query, chair)
            count = sum(len(f.actions) for f in action_summary.summary_data(chair, filters))
            label = label.replace("1,000", f"{count:,}") if "1,000" in label else label.replace("5,000", f"{count:,}")
            results[label] = measure(
                lambda filters=filters: action_summary.render_summary(chair, filters, produced_for="Benchmark"),
                args.runs,
            )

    client = app.test_client()
    client.post("/sign-in", data={"email": "chair@example.org", "password": PASSWORD})
    with app.app_context():
        code = demo_code("chair@example.org")
    client.post("/sign-in/code", data={"code": code.code if code else ""})
    url = f"/reports/minutes/{ids['meeting_id']}.pdf"
    if client.get(url).mimetype != "application/pdf":
        raise SystemExit("Could not sign in to time the re-download (a changed sign-in form?)")
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    redownload_ms = statistics.median(timings) * 1000

    print(f"\nMedians over {args.runs} runs (SQLite, {sys.platform}, Python {sys.version.split()[0]}):\n")
    header = f"{'document':34} {'total s':>8} {'weasy s':>8} {'our share':>9} {'pages':>6} {'pages/s':>8}"
    print(f"{header} {'peak RSS MiB':>12}")
    for label, r in results.items():
        print(
            f"{label:34} {r['total']:8.2f} {r['weasyprint']:8.2f} {r['share']:9.1%} {r['pages']:6d} "
            f"{r['pages_per_second']:8.1f} {r['peak_mib']:12.0f}"
        )
    print(f"\nRe-download of the stored approved minutes: {redownload_ms:.1f} ms (median of 30)")
    print("Targets: our share at most 15%; minutes at 12 pages/s or better; re-download under 20 ms.")


if __name__ == "__main__":
    main()

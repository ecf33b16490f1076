"""PDF benchmark: a 40-case minutes document and action summaries of 1,000 and 5,000 actions.

For each document it prints, as medians over repeated runs:
- total: our whole render path (queries + templating + WeasyPrint + completing the tagging), as a
  download would run it;
- weasyprint: WeasyPrint alone on the very same HTML and print CSS (parse, layout, write_pdf as PDF/UA-1);
  for a summary made in parts (more than ACTION_SUMMARY_PART_ACTIONS actions), WeasyPrint alone on each
  part's HTML once;
- our share: (total - weasyprint) / total, i.e. the cost of our queries, templating and the completion
  of the PDF/UA tagging (tracker/documents/tagging.py); for a summary made in parts, also laying out
  its page numbers and joining the parts. Also on CPU time (this process's), which other work on a
  shared machine disturbs far less than the wall clock of a single run;
- pages, pages per second (wall clock, and on the process's CPU time, which a busy machine disturbs less);
  all timed after one untimed render of the minutes: a web or job worker has compiled the templates,
  parsed the print CSS and loaded the fonts long before, once for all the documents it makes (timed
  in the first render, they were counted in our share though much of them is WeasyPrint's own),
  and each timed part after a full garbage collection;
- peak RSS: the peak resident memory of a fresh process (a new interpreter, as a job worker is) that
  makes the app and renders that document once, read from /proc/self/status (WeasyPrint and pikepdf allocate
  outside Python's heap, so tracemalloc would miss much of it);
and the time to download a stored, approved minutes PDF through the app (no rendering at all). Then
PASS or FAIL against the targets, and the machine's load average before and after (2-core machines
shared with other work are noisy: read the figures with the load).

Usage:  .venv/bin/python bench/pdf.py [--runs 3] [--large-runs 1]
It builds its own SQLite database in a temporary folder; nothing else is touched.
Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from tracker import create_app
from tracker.actions.filters import ActionFilter
from tracker.auth.passwords import hash_password
from tracker.demo import DEMO_TOTP_SECRET, demo_code
from tracker.documents import action_summary, minutes, render
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
MINUTES_PAGES_PER_SECOND = 12  # at least
OUR_SHARE = 0.10  # at most, of the minutes' time
SUMMARY_PEAK_MB = 500  # at most, for the 5,000-action summary (MB = 10^6 bytes)
REDOWNLOAD_MS = 20  # at most
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


def measure(render_document, runs: int) -> dict:
    totals, cpu, weasy, weasy_cpu, pages = [], [], [], [], 0
    for _ in range(runs):
        # Each timed part starts with no garbage waiting: a full collection (about 0.2 s with a laid-out
        # document alive) otherwise falls in one part or the other by chance, and decided our share.
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        rendered = render_document()
        totals.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        parts = [part.html for part in rendered.html_parts] if rendered.html_parts else [rendered.html]
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        # WeasyPrint alone: layout and writing, without our completion of the tagging (that is ours).
        for html in parts:
            render.layout(html, draft=rendered.draft).write_pdf(pdf_variant="pdf/ua-1")
        weasy.append(time.perf_counter() - started)
        weasy_cpu.append(time.process_time() - started_cpu)
        pages = rendered.pages
    total, weasyprint = statistics.median(totals), statistics.median(weasy)
    return {
        "total": total,
        "weasyprint": weasyprint,
        "share": (total - weasyprint) / total,
        "cpu_share": (statistics.median(cpu) - statistics.median(weasy_cpu)) / statistics.median(cpu),
        "pages": pages,
        "pages_per_second": pages / total,
        "pages_per_cpu_second": pages / statistics.median(cpu),
        "parts": len(parts),
    }


DOCUMENTS = ("minutes", "summary-1000", "summary-5000")


def render_one(app, ids: dict, document: str):
    """Render ``document`` once, the way a download (or a job) does; returns the RenderedPdf."""
    chair = db.session.get(User, ids["chair_id"])
    if document == "minutes":
        meeting = db.session.get(Meeting, ids["meeting_id"])
        return minutes.render_minutes(meeting, chair, document_id="BENCH", produced_for="Benchmark")
    query = {"status": "", "meetings_to": ids["summary_1000_to"]} if document == "summary-1000" else {"status": ""}
    filters, _problems = ActionFilter.parse(query, chair)
    return action_summary.render_summary(chair, filters, produced_for="Benchmark")


def peak_in_fresh_process(database_url: str, ids: dict, document: str) -> float:
    """Peak RSS in MB of a new interpreter that makes the app and renders ``document`` once."""
    result = subprocess.run(
        [sys.executable, __file__, "--peak-of", document, "--database-url", database_url, "--ids", json.dumps(ids)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def print_peak(database_url: str, ids: dict, document: str) -> None:
    app = make_app(database_url)
    with app.test_request_context():
        render_one(app, ids, document)
    print(peak_rss_mb())


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux, VmHWM: the high-water mark of this program's own
    memory since it was started. (getrusage's ru_maxrss also counts the parent's peak at fork, so a
    child started after the parent had rendered a 5,000-action summary reported the parent's peak.)"""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # Linux reports KiB


def make_app(database_url: str):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "ACTION_SUMMARY_MAX_ROWS": 10000})


def load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of the minutes and the 1,000-action summary")
    parser.add_argument("--large-runs", type=int, default=1, help="runs of the 5,000-action summary")
    parser.add_argument("--peak-of", choices=DOCUMENTS, help=argparse.SUPPRESS)  # the fresh process's part
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_of:
        print_peak(args.database_url, json.loads(args.ids), args.peak_of)
        return
    print(f"Before: {load()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    database_url = f"sqlite:///{folder / 'bench.sqlite'}"
    app = make_app(database_url)
    print(f"Building data in {folder} ...", flush=True)
    ids = build(app)
    results = {}
    with app.test_request_context():
        chair = db.session.get(User, ids["chair_id"])
        print("Warming up (one untimed render of the minutes) ...", flush=True)
        render_one(app, ids, "minutes")
        for document in DOCUMENTS:
            if document == "minutes":
                label = "minutes, 40 cases"
            else:
                query = {"status": ""} | ({"meetings_to": ids["summary_1000_to"]} if document == "summary-1000" else {})
                filters, _problems = ActionFilter.parse(query, chair)
                count = sum(len(f.actions) for f in action_summary.summary_data(chair, filters))
                label = f"action summary, {count:,} actions"
            runs = args.large_runs if document == "summary-5000" else args.runs
            print(f"Measuring the {label} ({runs} run{'s' if runs > 1 else ''}) ...", flush=True)
            results[document] = (label, measure(lambda document=document: render_one(app, ids, document), runs))
    for document in DOCUMENTS:
        print(f"Peak memory of the {results[document][0]} in a fresh process ...", flush=True)
        results[document][1]["peak_mb"] = peak_in_fresh_process(database_url, ids, document)

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

    print(
        f"\nMedians over {args.runs} runs ({args.large_runs} for the largest summary), "
        f"SQLite, {sys.platform}, Python {sys.version.split()[0]}:\n"
    )
    print(
        f"{'document':34} {'total s':>8} {'weasy s':>8} {'our share':>9} {'(CPU)':>6} {'pages':>6} "
        f"{'pages/s':>8} {'pages/CPU s':>11} {'peak RSS MB':>11}"
    )
    for label, r in results.values():
        print(
            f"{label:34} {r['total']:8.2f} {r['weasyprint']:8.2f} {r['share']:9.1%} {r['cpu_share']:6.1%} "
            f"{r['pages']:6d} {r['pages_per_second']:8.1f} {r['pages_per_cpu_second']:11.1f} {r['peak_mb']:11.0f}"
        )
    for label, r in results.values():
        if r["parts"] > 1:
            print(f"{label}: made in {r['parts']} parts, then joined (see the top of bench/pdf.py)")
    print(f"\nRe-download of the stored approved minutes: {redownload_ms:.1f} ms (median of 30)")
    minutes_result, summary_result = results["minutes"][1], results["summary-5000"][1]
    print("\nTargets:")
    print(
        f"  {verdict(minutes_result['pages_per_second'] >= MINUTES_PAGES_PER_SECOND)}  minutes at "
        f"{MINUTES_PAGES_PER_SECOND} pages/s or better: {minutes_result['pages_per_second']:.1f}"
    )
    print(
        f"  {verdict(minutes_result['share'] <= OUR_SHARE)}  our share of the minutes' time at most "
        f"{OUR_SHARE:.0%}: {minutes_result['share']:.1%} (on CPU time: {minutes_result['cpu_share']:.1%})"
    )
    print(
        f"  {verdict(summary_result['peak_mb'] <= SUMMARY_PEAK_MB)}  the 5,000-action summary within "
        f"{SUMMARY_PEAK_MB} MB peak RSS: {summary_result['peak_mb']:.0f} MB"
    )
    print(f"  {verdict(redownload_ms <= REDOWNLOAD_MS)}  re-download within {REDOWNLOAD_MS} ms: {redownload_ms:.1f} ms")
    print(f"\nAfter: {load()}")


if __name__ == "__main__":
    main()

"""Page benchmark: every GET page of the app, per role, at demo size and at N years of data.

What it measures. The pages are found in ``app.url_map`` (GET rules, less static files, the health check,
the calendar feed and downloads: PDFs always, CSV unless --include-csv); URL arguments are filled with real
ids the signed-in user may see (the latest approved meeting in the user's scope, a review in it, an action
in the user's scope, that review's case, the user's own agency and account), so nothing about the pages'
structure is written here. Each role signs in through the real sign-in form with Flask's test client (CSRF
is off in the "testing" configuration; the second step takes the demo key's code) and requests every page it is allowed
to see (pages answering 403 or 404 for a role are left out of that role's rows). Each request is timed
in-process (the objects alive once each app is made are put out of the garbage collector's reach, as
gunicorn.conf.py does in each worker: tracker/workers.py), and its SQL statements are counted with a
``before_cursor_execute`` listener on the engine. The BARE page (bench/bare.py: Flask + SQLAlchemy + Jinja
listing 50 rows of a 100,000-row table, on the same kind of database) is requested the same way, in the same
rounds: about once for every ten page requests, at shuffled places among them (BARE_EVERY), so both see the
same machine noise and the same state of the processor's caches; "ratio" is the page's median over the median
of all the run's bare requests. (Until 2026-11-27 the bare page was requested before every page request. It
then ran two requests after its last run, its code and data still in the caches, while each page ran once in
a round of hundreds: on the same code, the bare page's median was 1.58-1.63 ms that way and 1.65-1.74 ms this way,
the ratios about 8 % higher.) Both sizes are measured in the same loop (every round requests every page of
both, shuffled), so the growth is not skewed by the machine being busier while one size was measured.

The sizes: "demo" is tracker.demo seeded into a fresh database (as ``flask seed-demo`` does), plus
police.partner@example.org, a partner officer of the police agency; "N years" is bench/generate.py's
output (reused when the database already holds the same --years/--scale/--seed, after applying any newer
migrations; --regenerate to rebuild). --also-years M measures a third size, M years of generated data (beside
the N years'), and prints each page's growth from M to N years: the demo holds a few rows in some lists that
M years fill to a page, so a page bounded to a page of rows shows its growth with history there, not against
the demo. It is shown, not judged: the targets stay those against the demo.

Roles (--roles): chair, manager, "police partner" (police.partner@example.org), "partner IDVA"
(idva@example.org) and admin (admin@example.org, so that the admin pages and the audit log are measured too).
--sql REGEX prints every statement of one request to the matching endpoints with its duration, to see
which statement grows or repeats.

On PostgreSQL it first prints the mean round trip of a ``SELECT 1`` sent back to back and sent 1 ms after
the last answer (bare.round_trips): on this kind of machine an idle processor can take a millisecond or
more to wake, each of a page's statements (and its BEGIN and COMMIT) waits for it, and the bare page
sends three, so the ratios there follow the statement counts more than the work done.

How to read the output. One table per size: page (endpoint), role, median and p95 milliseconds, the
ratio to the bare page's median, and the SQL statements per request ("9-10" when it varied between
requests, e.g. the once-a-minute session write). Then both sizes side by side: the growth (N years'
median / demo median), the statement counts, and PASS or FAIL against the targets of QUALITY.md section 4:
ratio to bare <= 3 at N years, growth <= 1.3, <= 12 statements per page, the same count at both sizes.
The targets are printed as they are; a FAIL is a finding about the page, not about the benchmark.

Usage:
    .venv/bin/python bench/pages.py                          # SQLite, demo vs 10 years, 30 runs
    .venv/bin/python bench/pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_tracker
    .venv/bin/python bench/pages.py --demo-only --runs 5 --pages 'meetings\\.'
On PostgreSQL the N-year data goes in the named database, the demo in ``<name>_demo`` and the bare
table in ``<name>_bare`` (created when missing). Exit status: 0, or 1 if a page answered a 5xx error.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare
import generate
import sqlalchemy as sa
from flask_migrate import upgrade

from tracker.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_code, seed_demo
from tracker.extensions import db
from tracker.models import Action, Agency, CaseReview, Meeting, MeetingStatus, Role, SecondFactor, User
from tracker.models.action import OPEN_STATUSES
from tracker.permissions import action_scope, case_review_scope, meeting_scope
from tracker.timeutil import london_today
from tracker.workers import freeze_loaded_objects

# label -> email. Every one of them exists in the demo data (police.partner is added) and in generate.py's.
ROLES = {
    "chair": "chair@example.org",
    "manager": "manager@example.org",
    "police partner": generate.POLICE_PARTNER_EMAIL,
    "partner IDVA": "idva@example.org",
    "admin": "admin@example.org",
}
SKIPPED_ENDPOINTS = {"static", "main.health", "main.calendar_feed", "auth.sign_in"}
DOWNLOAD_SUFFIXES = (".pdf", ".ics")

TARGET_RATIO = 3.0
TARGET_GROWTH = 1.3
TARGET_QUERIES = 12


@dataclass
class Sample:
    url: str = ""
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    bare_ms: float = math.nan  # the median of every bare request of the run

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000

    @property
    def ratio(self) -> float:
        return self.median_ms / self.bare_ms

    @property
    def query_count(self) -> int:
        """The most common count (ties: the larger)."""
        counts = Counter(self.queries)
        return max(counts, key=lambda count: (counts[count], count))

    @property
    def query_label(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


@dataclass
class Page:
    role: str
    endpoint: str
    url: str


@dataclass
class SizeResult:
    label: str
    samples: dict[tuple[str, str], Sample]  # (endpoint, role) -> sample
    refused: dict[str, list[str]]  # role -> endpoints answering 403/404
    errors: list[str]
    unfilled: list[str]
    bare_ms: float
    bare_p95_ms: float


class ErrorLog(logging.Handler):
    """Keeps the app's unhandled-error log records (instead of printing their tracebacks), so a 5xx
    can be reported in one line with its exception."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""
        for name in ("tracker.errors", "tracker"):
            logger = logging.getLogger(name)
            logger.addHandler(self)
            logger.propagate = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.last = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        else:
            self.last = record.getMessage()


ERRORS = ErrorLog()


class QueryCounter:
    """Counts the SQL statements sent through an engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        self.keep = False  # keep each statement's text and duration too (--sql)
        self.statements: list[tuple[str, float]] = []
        self._started = 0.0
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.count = 0
        self.statements = []

    def _before(self, *_args) -> None:
        self.count += 1
        self._started = time.perf_counter()

    def _after(self, _connection, _cursor, statement, *_args) -> None:
        if self.keep:
            self.statements.append((statement, time.perf_counter() - self._started))


# Databases ---------------------------------------------------------------------------------------------


def build_demo(url: str) -> None:
    """A fresh database with the demo data, as ``flask seed-demo`` loads it, plus a police partner."""
    from tracker.admin import operations as admin_operations

    app = generate.make_app(url)
    generate.prepare_schema(app, url)
    with app.app_context():
        seed_demo()
        police = db.session.scalar(sa.select(Agency).where(Agency.code == "POL"))
        user = admin_operations.create_user(
            email=generate.POLICE_PARTNER_EMAIL,
            display_name="Police Partner Officer",
            role=Role.PARTNER.value,
            agency=police,
            is_spoc=False,
            password=DEMO_PASSWORD,
        )
        user.must_change_password = False
        db.session.add(SecondFactor(user_id=user.id, secret=DEMO_TOTP_SECRET))
        db.session.commit()
        db.engine.dispose()


def generated_parameters(url: str) -> dict | None:
    """What bench/generate.py recorded in this database, or None."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("bench_generated"):
                return None
            rows = connection.execute(sa.select(generate.bench_generated)).all()
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()
    return {key: json.loads(value) for key, value in rows}


def upgrade_schema(url: str) -> None:
    """Apply migrations added since the data was generated (a no-op when there are none)."""
    app = generate.make_app(url)
    with app.app_context():
        before = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        db.session.rollback()
        upgrade()
        after = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        db.session.rollback()
        db.engine.dispose()
    if before != after:
        print(f"  migrated the reused database from {before} to {after}")


def postgres_sibling(url: str, suffix: str) -> str:
    parsed = sa.engine.make_url(url)
    return parsed.set(database=f"{parsed.database}{suffix}").render_as_string(hide_password=False)


# Pages -------------------------------------------------------------------------------------------------


def discover(app, include_csv: bool, pattern: re.Pattern | None) -> list:
    """The GET rules worth measuring, in URL order."""
    rules = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        if rule.rule.endswith(DOWNLOAD_SUFFIXES) or (rule.rule.endswith(".csv") and not include_csv):
            continue
        if pattern and not pattern.search(rule.endpoint):
            continue
        rules.append(rule)
    return rules


def candidate_arguments(user: User) -> list[dict[str, int]]:
    """Values for URL arguments that ``user`` may see, best first: the latest approved meeting in scope
    (then this week's, then next week's), the first review of it in scope, an action, a case, ..."""
    session = db.session
    meetings = []
    for status in (MeetingStatus.APPROVED, MeetingStatus.IN_PROGRESS, MeetingStatus.SCHEDULED):
        meeting_id = session.scalar(
            sa.select(Meeting.id)
            .where(meeting_scope(user), Meeting.status == status)
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        )
        if meeting_id is not None:
            meetings.append(meeting_id)
    candidates = []
    for meeting_id in meetings:
        review = session.execute(
            sa.select(CaseReview.id, CaseReview.case_id)
            .where(CaseReview.meeting_id == meeting_id, case_review_scope(user))
            .order_by(CaseReview.position)
            .limit(1)
        ).first()
        # An open action first, at every size: its page has the forms a closed one has not (a statement
        # more), and the sizes are compared page for page.
        still_open = sa.case((Action.status.in_(OPEN_STATUSES), 0), else_=1)
        action_id = session.scalar(
            sa.select(Action.id)
            .where(Action.meeting_id == meeting_id, action_scope(user))
            .order_by(still_open, Action.id)
            .limit(1)
        )
        if action_id is None:  # none raised in this meeting for the user's agency: their latest one
            action_id = session.scalar(
                sa.select(Action.id).where(action_scope(user)).order_by(still_open, Action.id.desc()).limit(1)
            )
        values = {"meeting_id": meeting_id, "user_id": user.id, "agency_id": user.agency_id}
        if review is not None:
            values.update(review_id=review.id, case_id=review.case_id)
        if action_id is not None:
            values["action_id"] = action_id
        candidates.append(values)
    return candidates or [{"user_id": user.id, "agency_id": user.agency_id}]


def sign_in(app, email: str):
    """Through the real form, and the second step with the demo key's current code (tracker/demo.py)."""
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
    if response.headers.get("Location") == "/sign-in/code":
        with app.app_context():
            code = demo_code(email)
        response = client.post("/sign-in/code", data={"code": code.code if code else ""})
    if response.status_code != 302 or client.get("/").status_code != 200:
        raise SystemExit(f"Could not sign in as {email}: {response.status_code} (a second factor? a changed form?)")
    return client


def timed_get(client, url: str, counter: QueryCounter) -> tuple[float, int, int]:
    counter.reset()
    started = time.perf_counter()
    response = client.get(url)
    response.get_data()
    elapsed = time.perf_counter() - started
    return elapsed, counter.count, response.status_code


@dataclass
class Size:
    """One data set being measured: its app, query counter, signed-in pages and what was left out."""

    label: str
    app: object
    counter: QueryCounter
    pages: list[tuple[Page, object]] = field(default_factory=list)  # (page, signed-in client)
    refused: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    unfilled: set[str] = field(default_factory=set)
    samples: dict[tuple[str, str], Sample] = field(default_factory=dict)


def prepare_size(label: str, url: str, roles: list[str], args) -> Size:
    """Sign in as every role and find, with one warm-up request each, the pages each role may see."""
    app = generate.make_app(url)
    freeze_loaded_objects()  # as gunicorn.conf.py's post_worker_init does once a worker has loaded the app
    with app.app_context():
        size = Size(label, app, QueryCounter(db.engine))
    rules = discover(app, args.include_csv, re.compile(args.pages) if args.pages else None)
    show_sql = re.compile(args.sql) if args.sql else None
    for role in roles:
        client = sign_in(app, ROLES[role])
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == ROLES[role]))
            candidates = candidate_arguments(user)
        for rule in rules:
            found = status = None
            for values in candidates:
                if not set(rule.arguments) <= values.keys():
                    continue
                with app.test_request_context():
                    path = app.url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
                timed_get(client, path, size.counter)  # the warm-up request
                size.counter.keep = bool(show_sql and show_sql.search(rule.endpoint))
                _, _, status = timed_get(client, path, size.counter)
                size.counter.keep = False
                if status == 200:
                    found = path
                    if size.counter.statements:
                        print(f"\n-- SQL of {rule.endpoint} as {role} at {label}: {path}")
                        for number, (statement, seconds) in enumerate(size.counter.statements, 1):
                            text = " ".join(statement.split())
                            text = text if len(text) <= 400 else text[:250] + " ... " + text[-150:]
                            print(f"{number:3}. {seconds * 1000:7.2f} ms  {text}")
                    break
                if status >= 500:
                    size.errors.append(f"{rule.endpoint} as {role}: {path} answered {status} ({ERRORS.last})")
                    break
            if found:
                size.pages.append((Page(role, rule.endpoint, found), client))
            elif status is None:
                size.unfilled.add(f"{rule.endpoint} ({', '.join(sorted(rule.arguments))})")
            elif status < 500:
                size.refused.setdefault(role, []).append(f"{rule.endpoint} {status}")
    return size


# The bare page is requested about once for every this many page requests, shuffled in among them.
BARE_EVERY = 10


def measure(sizes: list[Size], runs: int, bare_app, bare_counter) -> list[float]:
    """``runs`` rounds; each requests every page of every size once and the bare page once for every
    BARE_EVERY pages (at least once), all in a shuffled order. Returns the bare page's timings."""
    bare_client = bare_app.test_client()
    timed_get(bare_client, "/", bare_counter)
    pages = [(size, page, client) for size in sizes for page, client in size.pages]
    items: list = pages + [None] * max(1, round(len(pages) / BARE_EVERY))  # None: the bare page
    shuffler = random.Random(1)
    bare_times: list[float] = []
    labels = " and ".join(size.label for size in sizes)
    print(
        f"\nMeasuring {len(pages)} pages x {runs} runs ({labels}, interleaved; the bare page "
        f"{len(items) - len(pages)} times a run among them) ...",
        flush=True,
    )
    for _ in range(runs):
        shuffler.shuffle(items)  # no page always follows the same one
        for item in items:
            if item is None:
                elapsed, _, _ = timed_get(bare_client, "/", bare_counter)
                bare_times.append(elapsed)
                continue
            size, page, client = item
            sample = size.samples.setdefault((page.endpoint, page.role), Sample(url=page.url))
            elapsed, queries, status = timed_get(client, page.url, size.counter)
            if status != 200:
                size.errors.append(f"{page.endpoint} as {page.role}: {page.url} answered {status} ({ERRORS.last})")
            sample.times.append(elapsed)
            sample.queries.append(queries)
    return bare_times


def result_of(size: Size, roles: list[str], bare_times: list[float]) -> SizeResult:
    samples = size.samples
    bare = Sample(times=bare_times) if bare_times else None
    for sample in samples.values():
        sample.bare_ms = bare.median_ms if bare else math.nan
    with size.app.app_context():
        db.engine.dispose()
    return SizeResult(
        label=size.label,
        samples=dict(sorted(samples.items(), key=lambda item: (item[1].url, roles.index(item[0][1])))),
        refused=size.refused,
        errors=sorted(set(size.errors)),
        unfilled=sorted(size.unfilled),
        bare_ms=bare.median_ms if bare else math.nan,
        bare_p95_ms=bare.p95_ms if bare else math.nan,
    )


# Output ------------------------------------------------------------------------------------------------

HEADER = f"{'page':28} {'role':15} {'median ms':>9} {'p95 ms':>8} {'ratio':>6} {'queries':>7}  url"


def print_size(result: SizeResult, runs: int, backend: str) -> None:
    print(
        f"\n== {result.label} ({backend}): median and p95 of {runs} requests per page; ratio = median / bare "
        f"median; bare page {result.bare_ms:.2f} ms median, {result.bare_p95_ms:.2f} ms p95"
    )
    print(HEADER)
    for (endpoint, role), sample in result.samples.items():
        print(
            f"{endpoint:28} {role:15} {sample.median_ms:9.1f} {sample.p95_ms:8.1f} "
            f"{sample.ratio:6.1f} {sample.query_label:>7}  {sample.url}"
        )
    for role, endpoints in result.refused.items():
        print(f"  not for {role} (status): {', '.join(sorted(endpoints))}")
    if result.unfilled:
        print(f"  no value for the URL arguments of: {', '.join(result.unfilled)}")
    for error in result.errors:
        print(f"  ERROR {error}")


def verdict(demo: Sample | None, large: Sample) -> tuple[str, list[str]]:
    reasons = []
    if large.ratio > TARGET_RATIO:
        reasons.append(f"ratio {large.ratio:.1f} > {TARGET_RATIO:g}")
    if demo is not None:
        growth = large.median_ms / demo.median_ms
        if growth > TARGET_GROWTH:
            reasons.append(f"growth {growth:.2f} > {TARGET_GROWTH:g}")
        if demo.query_count != large.query_count:
            reasons.append(f"queries {demo.query_count} -> {large.query_count}")
    if large.query_count > TARGET_QUERIES:
        reasons.append(f"{large.query_count} queries > {TARGET_QUERIES}")
    return ("FAIL" if reasons else "PASS"), reasons


def print_comparison(demo: SizeResult, large: SizeResult) -> None:
    print(f"\n== {demo.label} vs {large.label} (large): growth = large median / demo median, measured interleaved")
    print(
        f"Targets: ratio to bare <= {TARGET_RATIO:g} at {large.label}, growth <= {TARGET_GROWTH:g}, "
        f"<= {TARGET_QUERIES} queries, the same count at both sizes"
    )
    print(
        f"{'page':28} {'role':15} {'demo ms':>8} {'large ms':>9} {'growth':>6} {'ratio':>6} "
        f"{'q demo':>6} {'q large':>7}  verdict"
    )
    passed = failed = 0
    for key, sample in large.samples.items():
        before = demo.samples.get(key)
        result, reasons = verdict(before, sample)
        passed, failed = passed + (result == "PASS"), failed + (result == "FAIL")
        demo_ms = f"{before.median_ms:8.1f}" if before else f"{'-':>8}"
        growth = f"{sample.median_ms / before.median_ms:6.2f}" if before else f"{'-':>6}"
        queries = before.query_label if before else "-"
        print(
            f"{key[0]:28} {key[1]:15} {demo_ms} {sample.median_ms:9.1f} {growth} {sample.ratio:6.1f} "
            f"{queries:>6} {sample.query_label:>7}  {result}{': ' + '; '.join(reasons) if reasons else ''}"
        )
    missing = [f"{e} ({r})" for e, r in demo.samples.keys() - large.samples.keys()]
    if missing:
        print(f"  measured at {demo.label} only: {', '.join(sorted(missing))}")
    print(f"\n{passed} PASS, {failed} FAIL")


def print_growth(smaller: SizeResult, larger: SizeResult) -> None:
    """--also-years: the growth between two generated sizes, page by page (no verdict: the targets compare
    with the demo). A page whose lists are full at both sizes shows here whether its cost follows history."""
    print(
        f"\n== {smaller.label} vs {larger.label}: growth = {larger.label} median / {smaller.label} median, "
        f"measured interleaved (shown, not judged: the targets are against the demo, below)"
    )
    print(f"{'page':28} {'role':15} {'smaller':>8} {'larger':>8} {'growth':>6} {'queries':>9}")
    growths = []
    for key, sample in larger.samples.items():
        before = smaller.samples.get(key)
        if before is None:
            continue
        growth = sample.median_ms / before.median_ms
        growths.append(growth)
        queries = f"{before.query_label}->{sample.query_label}"
        print(f"{key[0]:28} {key[1]:15} {before.median_ms:8.1f} {sample.median_ms:8.1f} {growth:6.2f} {queries:>9}")
    if growths:
        above = sum(1 for growth in growths if growth > TARGET_GROWTH)
        print(
            f"median growth {statistics.median(growths):.2f}, largest {max(growths):.2f}; "
            f"{above} of {len(growths)} above {TARGET_GROWTH:g}"
        )


def print_single(result: SizeResult) -> None:
    """--demo-only: the targets that do not need a second size."""
    print(f"\n== {result.label}: ratio to bare <= {TARGET_RATIO:g}, <= {TARGET_QUERIES} queries")
    for key, sample in result.samples.items():
        outcome, reasons = verdict(None, sample)
        print(f"{key[0]:28} {key[1]:15} {outcome}{': ' + '; '.join(reasons) if reasons else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        help="database for the generated data (default: a SQLite file under "
        f"{generate.DEFAULT_SQLITE}); on PostgreSQL the demo and bare databases sit beside it",
    )
    parser.add_argument("--years", type=float, default=10, help="years of generated data (10)")
    parser.add_argument("--scale", type=float, default=1, help="generate.py --scale (1)")
    parser.add_argument("--seed", type=int, default=2026, help="generate.py --seed (2026)")
    parser.add_argument("--runs", type=int, default=30, help="requests per page and role, after one warm-up (30)")
    parser.add_argument("--demo-only", action="store_true", help="measure the demo data only")
    parser.add_argument(
        "--also-years",
        type=float,
        metavar="M",
        help="also measure M years of generated data, and print the growth from M to --years years: whether a "
        "page's cost grows with history once its lists are full (the demo's may hold a few rows where M years "
        "fill a page)",
    )
    parser.add_argument("--regenerate", action="store_true", help="generate the data again even if it is there")
    parser.add_argument("--pages", help="only endpoints matching this regular expression, e.g. 'meetings\\.|home'")
    parser.add_argument(
        "--roles", default=",".join(ROLES), help=f"comma-separated roles to sign in as (default: {','.join(ROLES)})"
    )
    parser.add_argument("--include-csv", action="store_true", help="also measure the CSV download(s)")
    parser.add_argument(
        "--sql", metavar="REGEX", help="print the SQL, with timings, of one request to each endpoint matching REGEX"
    )
    args = parser.parse_args()
    if args.also_years is not None and (args.demo_only or not 0 < args.also_years < args.years):
        parser.error("--also-years M needs 0 < M < --years, and generated data (not --demo-only)")
    roles = [role.strip() for role in args.roles.split(",") if role.strip()]
    if unknown := [role for role in roles if role not in ROLES]:
        parser.error(f"unknown roles: {', '.join(unknown)} (choose from {', '.join(ROLES)})")

    with tempfile.TemporaryDirectory(prefix="tracker-pages-") as temporary:
        errors = run(args, roles, Path(temporary))
    if errors:
        sys.exit(1)


def smaller_generated_url(args, large_url: str, backend: str) -> str:
    """Where --also-years' data goes: beside the large size's (a database or a file of its own)."""
    suffix = f"{args.also_years:g}y".replace(".", "_")
    if backend == "postgresql":
        return postgres_sibling(large_url, f"_{suffix}")
    if args.database_url is None:
        return generate.default_database_url(args.also_years, args.scale, args.seed)
    path = Path(sa.engine.make_url(large_url).database or "")
    return f"sqlite:///{path.with_name(f'{path.stem}-{suffix}{path.suffix}')}"


def generated(url: str, years: float, args) -> str:
    """Make sure ``url`` holds ``years`` of generated data (reused if it does); returns the size's label."""
    label = f"{years:g} years"
    wanted = {"years": years, "scale": args.scale, "seed": args.seed}
    found = generated_parameters(url)
    if args.regenerate or not found or any(found.get(key) != value for key, value in wanted.items()):
        generate.print_summary(generate.generate(url, years, args.scale, args.seed))
    else:
        print(f"Reusing {label} of data generated on {found['generated_on']} in {generate._safe(url)}")
        if found["generated_on"] != london_today().isoformat():
            print("  (dates have moved on since: overdue counts and 'next week' drift; --regenerate for today's)")
        upgrade_schema(url)
    return label


def run(args, roles: list[str], folder: Path) -> bool:
    """Build, measure and print; True if a page answered an error."""
    large_url = args.database_url or generate.default_database_url(args.years, args.scale, args.seed)
    backend = sa.engine.make_url(large_url).get_backend_name()
    if backend == "postgresql":
        demo_url = postgres_sibling(large_url, "_demo")
        bare.ensure_postgres_database(demo_url)
        bare.ensure_postgres_database(large_url)
    else:
        demo_url = f"sqlite:///{folder / 'demo.sqlite'}"
    bare_url = bare.bare_database_url(large_url, folder)

    started = time.perf_counter()
    bare.fill(bare_url)
    bare_app = bare.create_bare_app(bare_url)
    bare_counter = QueryCounter(bare.bare_engine(bare_app))
    build_demo(demo_url)
    print(f"Demo data and bare table ready in {time.perf_counter() - started:.1f} s", flush=True)
    sizes = [prepare_size("demo", demo_url, roles, args)]
    if not args.demo_only:
        if args.also_years:
            middle_url = smaller_generated_url(args, large_url, backend)
            if backend == "postgresql":
                bare.ensure_postgres_database(middle_url)
            sizes.append(prepare_size(generated(middle_url, args.also_years, args), middle_url, roles, args))
        sizes.append(prepare_size(generated(large_url, args.years, args), large_url, roles, args))
    if backend == "postgresql":
        back_to_back, after_idle = bare.round_trips(bare_url)
        print(
            f"PostgreSQL round trip (SELECT 1, mean): {back_to_back:.2f} ms back to back, {after_idle:.2f} ms sent "
            "1 ms after the last answer, as a page's statements are. A page waits about the second for each of "
            "its statements and its BEGIN and COMMIT; the bare page sends three.",
            flush=True,
        )
    bare_times = measure(sizes, args.runs, bare_app, bare_counter)
    results = [result_of(size, roles, bare_times) for size in sizes]
    for result in results:
        print_size(result, args.runs, backend)
    if len(results) == 1:
        print_single(results[0])
    else:
        if len(results) == 3:
            print_growth(results[1], results[2])
        print_comparison(results[0], results[-1])
    with bare_app.app_context():
        bare_app.extensions["bare_db"].engine.dispose()
    return any(result.errors for result in results)


if __name__ == "__main__":
    main()

"""Load test: many people using the service at once on gunicorn with the production configuration,
while board reports and 5,000-action summaries are being prepared in the background.

What it measures. One command prepares (or reuses) a database of bench/generate.py's data, starts
gunicorn with gunicorn.conf.py and the production configuration on 127.0.0.1 (a free port), starts a
huey worker on the job queue (Redis by default) at a lower CPU priority (``nice``), then runs locust
headless: --users simulated people (50), each signing in (--spawn-rate a second, 2) through the real
two-step sign-in (password, then the demo key's code, with the CSRF token scraped from each form) on an
account of their own, then asking for pages with a pause of --wait seconds (1 to 5) between them, the
pages each role uses most:
- chairs (10 %): this week's meeting page and recent ones, its matters arising, case review pages,
  the meetings list, the actions list (some filtered) and their home page;
- partner agency officers (74 %): their home page, their agency's actions, an action page, the
  published agenda of a meeting their agency is involved in, and the return form for one of its cases;
- managers (16 %): the reports page (several periods), the meetings list and meeting pages, the
  actions list and the case search.
All the while, two more managers keep asking for documents that are prepared in the background, one
after another: board reports (a different month or quarter each time) and action summaries of up to
--summary-actions actions (5,000; a different span of meetings each time). Each waits on the
"preparing your document" page until it is ready, then downloads it. So the job worker is busy the whole
time, as on the worst afternoon before a board meeting.

gunicorn sits on plain HTTP on 127.0.0.1 as it does behind a TLS-terminating proxy: the server runs
with TRUSTED_PROXY_COUNT=1 and every request carries ``X-Forwarded-Proto: https``, as the proxy sends
it, so the secure ``__Host-`` session cookie and the strict CSRF referrer check work as in production
(the form posts carry the https Referer a browser would send). Accounts the run signs in as are given
the demo key (tracker/demo.py) in the bench database; the data never leaves 127.0.0.1.

How to read the output. The machine's load average before and after (the figures are only as quiet
as the machine was: note it beside them). Then the pages, measured for --duration seconds (60) from
the moment everyone has signed in: one row per group of pages and role, with requests, requests per
second, failures, p50, p95 and p99 in milliseconds (exact, from every request's own time), and the
same over all pages. Then the sign-in steps, each person's once during the ramp-up, apart: a sign-in
checks the password with argon2id, which is deliberately costly (about a quarter of a second of CPU),
and a person does it once a day, not once a minute. Then the documents prepared in the background meanwhile:
how many, and the median seconds from asking to having the PDF. Then the CPU used in the window by
gunicorn, by the PostgreSQL backends serving it, by the job worker (and its backends) and by locust,
in seconds and per page request, the most memory one process of gunicorn and of the worker took, and
so the pages per second the machine's cores could answer at most at that cost: CPU time, unlike
latency, hardly moves with other work on the machine. Last, the totals over the measured
window: requests/s, p50, p95, p99, and the errors of the whole run (any request that failed or
answered other than expected, the sign-in included, and any document that failed or never became
ready), with PASS or FAIL against 0 errors and p99 at most --p99-target ms (300).
Exit status: 0 on PASS, 1 on FAIL, 2 when something could not be set up.

Usage:
    .venv/bin/python bench/load.py                         # PostgreSQL bench_load, ten years, 50 users, 60 s
    .venv/bin/python bench/load.py --users 150 --duration 60 --workers 4 --threads 4
    .venv/bin/python bench/load.py --leave-out 'actions list' --no-documents   # what the rest costs
    .venv/bin/python bench/load.py --database-url sqlite:////tmp/tracker-load.sqlite --years 0.1 --scale 0.1 \\
        --users 3 --duration 3 --jobs-queue sqlite     # a tiny smoke run, as tests/test_bench_load.py does
The data is reused when the database already holds the same --years/--scale/--seed (--regenerate to
rebuild). Everything started is stopped at the end, also on failure or Ctrl-C. Logs (gunicorn's
access log, the worker's log, locust's CSV files) are kept in a temporary folder when the run fails
or with --keep-logs. Sends requests only to 127.0.0.1.

This file is also the locustfile: locust imports it (``locust -f bench/load.py``) in its own process,
and only then are the locust users below defined, so locust's gevent patching never reaches the
process that runs the servers.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.cookiejar
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
TARGET_P99_MS = 300
# Share of the simulated people in each role (the rest are partner agency officers).
MIX = {"chair": 0.10, "manager": 0.16}
DOCUMENT_MANAGERS = 2  # managers asking for documents in the background, besides the simulated people
# What each role asks for, and how often relative to its other pages.
WEIGHTS = {
    "chair": {
        "meeting page": 4,
        "case review": 6,
        "matters arising": 2,
        "meetings list": 1,
        "actions list": 2,
        "home": 2,
    },
    "partner": {"home": 3, "actions list": 3, "action page": 4, "agenda": 1, "agency return": 2},
    "manager": {
        "reports page": 2,
        "meetings list": 2,
        "meeting page": 2,
        "actions list": 3,
        "case search": 3,
        "home": 1,
    },
}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PLURAL = {"board report": "board reports", "action summary": "action summaries"}
FORWARDED = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy adds (TRUSTED_PROXY_COUNT=1)


def secure_over_plain_http() -> http.cookiejar.CookiePolicy:
    """Send Secure cookies over http to 127.0.0.1, where the TLS proxy would stand in production."""
    return http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))


# The locust users: defined only in the locust process (see the docstring) ---------------------------------


def _locust_users() -> dict:
    import gevent
    import pyotp
    from locust import FastHttpUser, between, events, task
    from locust.exception import StopUser

    plan = json.loads(Path(os.environ["TRACKER_LOAD_PLAN"]).read_text())
    accounts = {role: iter(plan["accounts"][role]) for role in WEIGHTS}  # one locust process: each takes the next
    totp = pyotp.TOTP(plan["totp_secret"])
    # Every request, as (started, name, milliseconds, failed), and the measured window: from the moment
    # everyone has signed in, for plan["duration"] seconds. Written to plan["results"] when locust quits.
    results: dict = {"requests": [], "signed_in": 0, "window": None}

    @events.request.add_listener
    def record(name, response_time, exception=None, start_time=None, **_):
        started = start_time if start_time is not None else time.time() - response_time / 1000
        results["requests"].append((started, name, response_time, exception is not None))

    def measure(environment) -> None:
        everyone, deadline = sum(plan["counts"].values()), time.time() + plan["sign_in_limit"]
        while results["signed_in"] < everyone and time.time() < deadline:
            gevent.sleep(0.1)
        start = time.time()
        gevent.sleep(plan["duration"])
        results["window"] = (start, time.time())
        environment.runner.quit()

    @events.test_start.add_listener
    def start_measuring(environment, **_):
        gevent.spawn(measure, environment)

    @events.quitting.add_listener
    def write_results(environment, **_):
        Path(plan["results"]).write_text(json.dumps(results))

    class Person(FastHttpUser):
        abstract = True
        role = ""
        wait_time = between(*plan["wait"])
        default_headers = FORWARDED
        network_timeout = connection_timeout = 60.0

        def on_start(self) -> None:
            # The session cookie is Secure: send it here as the browser does over the proxy's https.
            self.client.cookiejar.set_policy(secure_over_plain_http())
            account = next(accounts[self.role])
            self.urls = account["urls"]
            self.groups = [group for group in WEIGHTS[self.role] if self.urls.get(group)]
            self.weights = [WEIGHTS[self.role][group] for group in self.groups]
            try:
                self.sign_in(account["email"])
            finally:
                results["signed_in"] += 1  # or gave up: the measured window waits for no one

        def _form(self, path: str, name: str) -> str:
            with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
                found = CSRF.search(response.text or "") if response.status_code == 200 else None
                if found is None:
                    response.failure(f"{path}: {response.status_code}, no form")
                    raise StopUser()
                return found.group(1)

        def _post(self, path: str, fields: dict, name: str, expected: str):
            headers = {"Referer": f"https://{plan['host']}{path}"}  # the strict CSRF check over https wants it
            with self.client.post(
                path, data=fields, headers=headers, name=name, allow_redirects=False, catch_response=True
            ) as response:
                location = response.headers.get("Location", "")
                if response.status_code == 302 and location.split("?")[0] == expected:
                    return True
                if response.status_code == 200:  # the form again, with a message
                    response.success()
                    return False
                response.failure(f"{path}: {response.status_code} to {location or 'nowhere'}")
                raise StopUser()

        def sign_in(self, email: str) -> None:
            token = self._form("/sign-in", "sign-in: password form")
            fields = {"email": email, "password": plan["password"], "csrf_token": token}
            if not self._post("/sign-in", fields, "sign-in: password", "/sign-in/code"):
                self._give_up(f"password refused for {email}")
            # Codes work once per 30-second step: if this account's current one was used (a run moments
            # ago), the next one is accepted one step early.
            for offset in (0, 1):
                token = self._form("/sign-in/code", "sign-in: code form")
                code = totp.at(time.time(), counter_offset=offset)
                if self._post("/sign-in/code", {"code": code, "csrf_token": token}, "sign-in: code", "/"):
                    return
            self._give_up(f"code refused for {email}")

        def _give_up(self, why: str) -> None:
            self.environment.events.request.fire(
                request_type="POST", name="sign-in: refused", response_time=0, response_length=0,
                exception=RuntimeError(why), context={},
            )  # fmt: skip
            raise StopUser()

        @task
        def browse(self) -> None:
            if not self.groups:  # everything this role asks for was left out (--leave-out)
                return
            group = random.choices(self.groups, self.weights)[0]
            url = random.choice(self.urls[group])
            name = f"{group} ({self.role})"
            with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
                if response.status_code != 200:
                    where = response.headers.get("Location", "")
                    response.failure(f"{url}: {response.status_code} {where}".strip())

    class Chair(Person):
        role = "chair"
        fixed_count = plan["counts"]["chair"]

    class Partner(Person):
        role = "partner"
        fixed_count = plan["counts"]["partner"]

    class Manager(Person):
        role = "manager"
        fixed_count = plan["counts"]["manager"]

    return {"Chair": Chair, "Partner": Partner, "Manager": Manager}


if __name__ != "__main__" and os.environ.get("TRACKER_LOAD_PLAN"):
    globals().update(_locust_users())


# Preparing the data and the plan -------------------------------------------------------------------------


def mix_for(users: int) -> dict[str, int]:
    """How many simulated people of each role: at least one chair and one manager when there is room."""
    counts = {role: max(1, round(users * share)) if users >= 3 else 0 for role, share in MIX.items()}
    if users < 3:
        counts = {"chair": 1 if users >= 2 else 0, "manager": 0}
    counts["partner"] = users - sum(counts.values())
    return counts


def prepare_database(args) -> dict:
    """Generate or reuse the data, then apply any newer migrations; returns what generate.py recorded."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import bare
    import generate
    import pages
    import sqlalchemy as sa

    url = args.database_url
    if sa.engine.make_url(url).get_backend_name() == "postgresql":
        bare.ensure_postgres_database(url)
    wanted = {"years": args.years, "scale": args.scale, "seed": args.seed}
    found = pages.generated_parameters(url)
    if args.regenerate or not found or any(found.get(key) != value for key, value in wanted.items()):
        summary = generate.generate(url, args.years, args.scale, args.seed)
        generate.print_summary(summary)
        return summary
    print(f"Reusing {args.years:g} years of data generated on {found['generated_on']} in {generate._safe(url)}")
    pages.upgrade_schema(url)
    return found


@dataclass
class Plan:
    accounts: dict[str, list[dict]]  # role -> [{"email", "urls": {group: [url, ...]}}]
    document_managers: list[str]
    board_periods: list[str]  # query strings for /reports/board.pdf
    summaries: list[tuple[str, int]]  # (query string for /reports/actions.pdf, actions in it)


def build_plan(args, counts: dict[str, int]) -> Plan:
    """Choose the accounts (enrolled with the demo key), and the pages and documents each may see."""
    import generate
    import sqlalchemy as sa

    from tracker.actions import queries as action_queries
    from tracker.actions.filters import ActionFilter
    from tracker.extensions import db
    from tracker.models import (
        Action,
        ActionStatus,
        Case,
        CaseReview,
        DocumentJob,
        DocumentJobStatus,
        Meeting,
        MeetingStatus,
        Role,
        SecondFactor,
        User,
    )
    from tracker.permissions import action_scope, case_review_scope, may_return_information, meeting_scope
    from tracker.reports.periods import period_of
    from tracker.timeutil import london_today, utcnow

    app = generate.make_app(args.database_url)
    with app.app_context():
        session = db.session

        def latest(status: MeetingStatus, limit: int = 1) -> list[Meeting]:
            query = sa.select(Meeting).where(Meeting.status == status).order_by(Meeting.starts_at.desc())
            return list(session.scalars(query.limit(limit)))

        in_progress = latest(MeetingStatus.IN_PROGRESS)
        scheduled = latest(MeetingStatus.SCHEDULED)
        approved = latest(MeetingStatus.APPROVED, 6)
        upcoming = [*scheduled, *in_progress]
        current = [*in_progress, *approved[:1]]

        def accounts(role: Role, wanted: int) -> list[User]:
            found = list(
                session.scalars(
                    sa.select(User).where(User.role == role, User.active.is_(True)).order_by(User.id).limit(wanted)
                )
            )
            model = session.scalar(sa.select(User).where(User.active.is_(True)).order_by(User.id).limit(1))
            for number in range(len(found), wanted):  # more than the data has: add some, as generate.py would
                extra = User(
                    email=f"load.{role.value}{number}@pol.example.org",
                    display_name=f"Load {role.value.title()} {number}",
                    role=role,
                    agency_id=model.agency_id,
                    password_hash=model.password_hash,  # every generated account has the demo password
                    must_change_password=False,
                )
                session.add(extra)
                found.append(extra)
            session.flush()
            return found

        # Documents an earlier run left unfinished would be prepared again by this run's worker first.
        left = session.execute(
            sa.update(DocumentJob)
            .where(DocumentJob.status.in_([DocumentJobStatus.QUEUED, DocumentJobStatus.RUNNING]))
            .values(status=DocumentJobStatus.FAILED, error_reference="LOADRUN")
        ).rowcount
        if left:
            print(f"  set aside {left} document(s) an earlier run left unfinished")
        chairs = accounts(Role.CHAIR, counts["chair"])
        managers = accounts(Role.MANAGER, counts["manager"] + DOCUMENT_MANAGERS)
        partners = partner_accounts(upcoming, counts["partner"])
        if len(partners) < counts["partner"]:
            partners += accounts(Role.PARTNER, counts["partner"] - len(partners))
        for user in [*chairs, *managers, *partners]:
            factor = session.get(SecondFactor, user.id)
            if factor is None:
                session.add(SecondFactor(user_id=user.id, secret=demo_secret(), updated_at=utcnow()))
            elif factor.secret != demo_secret():
                factor.secret = demo_secret()
        session.commit()

        def meeting_urls(meetings: list[Meeting]) -> list[str]:
            return [f"/meetings/{meeting.id}" for meeting in meetings]

        reviews = list(
            session.execute(
                sa.select(CaseReview.meeting_id, CaseReview.id)
                .where(CaseReview.meeting_id.in_([meeting.id for meeting in current]))
                .order_by(CaseReview.position)
            )
        )
        agencies = sorted({user.agency_id for user in partners})
        actions_lists = ["/actions", "/actions?overdue=1", "/actions?status=&sort=raised"]
        actions_lists += [f"/actions?agency={agency}" for agency in agencies[:3]]
        chair_urls = {
            "meeting page": meeting_urls([*in_progress, *approved[:5]]),
            "case review": [f"/meetings/{meeting}/reviews/{review}" for meeting, review in reviews],
            "matters arising": [f"/meetings/{meeting.id}/matters-arising" for meeting in in_progress],
            "meetings list": ["/meetings", "/meetings?page=2"],
            "actions list": actions_lists,
            "home": ["/"],
        }
        quarter = period_of("quarter", london_today())
        manager_urls = {
            "reports page": [
                "/reports",
                f"/reports?period=quarter&of={quarter.previous().first.isoformat()}",
                f"/reports?period=year&of={london_today().year}-01-01",
            ],
            "meetings list": ["/meetings", "/meetings?page=3"],
            "meeting page": meeting_urls(approved),
            "actions list": actions_lists,
            "case search": case_searches(session, sa, Case, CaseReview),
            "home": ["/"],
        }
        plan_accounts: dict[str, list[dict]] = {
            "chair": [{"email": user.email, "urls": chair_urls} for user in chairs],
            "manager": [{"email": user.email, "urls": manager_urls} for user in managers[: counts["manager"]]],
            "partner": [],
        }
        for user in partners:
            own_actions = session.scalars(
                sa.select(Action.id)
                .where(action_scope(user), Action.status.in_([ActionStatus.OPEN, ActionStatus.IN_PROGRESS]))
                .order_by(Action.id.desc())
                .limit(20)
            ).all()
            visible = [
                m
                for m in upcoming
                if session.scalar(sa.select(Meeting.id).where(Meeting.id == m.id, meeting_scope(user)))
            ]
            returns = [
                f"/meetings/{review.meeting_id}/reviews/{review.id}/return"
                for review in session.scalars(
                    sa.select(CaseReview).where(
                        CaseReview.meeting_id.in_([m.id for m in visible]), case_review_scope(user)
                    )
                )
                if may_return_information(user, review)
            ]
            urls = {
                "home": ["/"],
                "actions list": ["/actions", "/actions?overdue=1"],
                "action page": [f"/actions/{action_id}" for action_id in own_actions],
                "agenda": meeting_urls(visible),
                "agency return": returns[:10],
            }
            plan_accounts["partner"].append({"email": user.email, "urls": urls})

        # Documents: a different period or span each time, so none is a recent identical request
        # (which the service answers with the document it already has).
        document_reader = managers[-1]
        first_meeting = session.scalar(sa.select(sa.func.min(Meeting.starts_at)))
        periods = []
        day = london_today().replace(day=1)
        while first_meeting and day >= first_meeting.date():
            periods.append(f"period=month&of={day.isoformat()}")
            if day.month in (1, 4, 7, 10):
                periods.append(f"period=quarter&of={day.isoformat()}")
            day = (day - timedelta(days=1)).replace(day=1)
        summaries = summary_spans(session, sa, Action, Meeting, args.summary_actions)
        if summaries:  # the span counted the way the service counts it
            query, count = summaries[0]
            filters, _ = ActionFilter.parse(
                dict(urllib.parse.parse_qsl(query, keep_blank_values=True)), document_reader
            )
            counted = action_queries.count_filtered(document_reader, filters)
            if counted != count:
                raise SystemExit(f"Summary span {query}: {counted} actions by the service's count, {count} here")
        document_managers = [user.email for user in managers[counts["manager"] :]]
        db.engine.dispose()
    random.shuffle(periods)
    random.shuffle(summaries)
    return Plan(plan_accounts, document_managers, periods, summaries)


def demo_secret() -> str:
    from tracker.demo import DEMO_TOTP_SECRET

    return DEMO_TOTP_SECRET


def demo_password() -> str:
    from tracker.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def partner_accounts(upcoming: list, wanted: int) -> list:
    """Partner officers, taking turns between agencies, those involved in the coming agendas first."""
    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.models import CaseReview, Role, User
    from tracker.models.case import case_review_agencies

    involved = set(
        db.session.scalars(
            sa.select(case_review_agencies.c.agency_id)
            .join(CaseReview, CaseReview.id == case_review_agencies.c.case_review_id)
            .where(CaseReview.meeting_id.in_([meeting.id for meeting in upcoming]))
            .distinct()
        )
    )
    by_agency: dict[int, list] = {}
    partners = sa.select(User).where(User.role == Role.PARTNER, User.active.is_(True)).order_by(User.id)
    for user in db.session.scalars(partners):
        by_agency.setdefault(user.agency_id, []).append(user)
    order = sorted(by_agency, key=lambda agency: (agency not in involved, agency))
    chosen: list = []
    while len(chosen) < wanted and any(by_agency.values()):
        for agency in order:
            if by_agency[agency] and len(chosen) < wanted:
                chosen.append(by_agency[agency].pop(0))
    return chosen


def case_searches(session, sa, Case, CaseReview) -> list[str]:
    """What a manager looks for: a case reference, words from the findings, a grade, a risk, a year."""
    references = session.scalars(sa.select(Case.reference).order_by(Case.id.desc()).limit(5)).all()
    summaries = session.scalars(sa.select(CaseReview.summary).where(CaseReview.summary != "").limit(20)).all()
    words = sorted({word.lower() for text in summaries for word in re.findall(r"[A-Za-z]{6,}", text or "")})[:5]
    year = date.today().year - 1
    return [
        *(f"/cases?reference={urllib.parse.quote(reference)}" for reference in references),
        *(f"/cases?words={word}" for word in words),
        "/cases?grade=4",
        "/cases?risk=high",
        f"/cases?reviewed_from={year}-01-01&reviewed_to={year}-12-31",
        "/cases?flags=is_repeat",
    ]


def summary_spans(session, sa, Action, Meeting, most: int) -> list[tuple[str, int]]:
    """Spans of meetings whose actions (any status) number as many as possible up to ``most``."""
    from tracker.timeutil import LONDON

    weeks = session.execute(
        sa.select(Meeting.starts_at, sa.func.count(Action.id))
        .join(Action, Action.meeting_id == Meeting.id)
        .group_by(Meeting.id, Meeting.starts_at)
        .order_by(Meeting.starts_at)
    ).all()
    days = [(starts_at.astimezone(LONDON).date(), count) for starts_at, count in weeks]
    spans = []
    for first in range(len(days)):
        total, last = 0, first
        while last < len(days) and total + days[last][1] <= most:
            total += days[last][1]
            last += 1
        if last == len(days) and spans:
            break  # the rest are shorter tails of the last full span
        if total:
            query = urllib.parse.urlencode(
                {
                    "status": "",
                    "meetings_from": days[first][0].isoformat(),
                    "meetings_to": days[last - 1][0].isoformat(),
                }
            )
            spans.append((query, total))
    return spans


# Servers ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """Everything this run started, each in a session of its own, stopped in reverse order."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict, log: Path) -> subprocess.Popen:
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started.append((name, process))
        print(f"Started {name}: process group {process.pid}")
        return process

    def stop_all(self) -> None:
        for _name, process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in reversed(self.started):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop within 30 s: killed")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):  # gunicorn's workers, should any outlive their parent
                os.killpg(process.pid, signal.SIGKILL)
        if self.started:
            print(f"Stopped {', '.join(name for name, _ in reversed(self.started))}")
        self.started.clear()


class CpuSampler:
    """CPU seconds used by what serves the pages, sampled each second: gunicorn, the job worker, the
    PostgreSQL backends of this database, and locust (the load generator). Unlike latency, CPU time is
    hardly moved by other work on the machine, so it gives the capacity of a server."""

    def __init__(self, processes: Processes, database: str | None) -> None:
        self.processes, self.database = processes, database
        self.samples: list[tuple[float, dict[str, dict[int, float]]]] = []
        self.largest: dict[str, int] = {}  # the most memory (RSS) one process of each took
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self, name: str, pid: int) -> tuple[dict[int, float], set[int]]:
        """CPU seconds of a process and its children, and the local ports of their TCP connections."""
        import psutil

        used, ports = {}, set()
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    used[process.pid] = times.user + times.system
                    ports.update(connection.laddr.port for connection in process.net_connections("tcp"))
                    memory = process.memory_info().rss
                    self.largest[name] = max(self.largest.get(name, 0), memory)
        return used, ports

    def _postgres(self) -> dict[int, tuple[float, int | None]]:
        """This database's backends: CPU seconds and the client's port (from the process title)."""
        import psutil

        found = {}
        if self.database:
            for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
                title = " ".join(process.info["cmdline"] or ())
                if process.info["name"] == "postgres" and f" {self.database} " in f"{title} ":
                    port = re.search(r"\((\d+)\)", title)
                    times = process.info["cpu_times"]
                    found[process.pid] = (times.user + times.system, int(port.group(1)) if port else None)
        return found

    def _run(self) -> None:
        owners: dict[int, str] = {}  # PostgreSQL backend -> whose connection it serves
        while not self.stop.is_set():
            sample, ports = {}, {}
            for name, process in self.processes.started:
                sample[name], ports[name] = self._tree(name, process.pid)
            for pid, (cpu, port) in self._postgres().items():
                if pid not in owners:
                    owner = next((name for name, used in ports.items() if port in used), None)
                    if owner is None:
                        continue  # not (yet) known whose: another client of the same database
                    owners[pid] = owner
                sample.setdefault(f"PostgreSQL for {owners[pid]}", {})[pid] = cpu
            self.samples.append((time.time(), sample))
            self.stop.wait(1)

    def start(self) -> None:
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def used(self, first: float, last: float) -> dict[str, float]:
        """CPU seconds each used between the samples nearest ``first`` and ``last``."""
        if len(self.samples) < 2:
            return {}
        start = min(self.samples, key=lambda sample: abs(sample[0] - first))[1]
        end_time, _ = min(self.samples, key=lambda sample: abs(sample[0] - last))
        used = {}
        for name in {name for at, sample in self.samples if at <= end_time for name in sample}:
            seen: dict[int, float] = {}
            for at, sample in self.samples:  # a process gone before the end counts with its last reading
                if at <= end_time:
                    seen.update(sample.get(name, {}))
            used[name] = sum(cpu - start.get(name, {}).get(pid, 0.0) for pid, cpu in seen.items())
        return used


def server_environment(args, port: int, folder: Path, inline_max: int | None) -> dict:
    """The production configuration, as README "Running in production" sets it, on 127.0.0.1."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TRACKER_", "FLASK_", "TEST_DATABASE", "ALLOW_SQLITE", "ACTION_SUMMARY"))
    }
    env.update(
        TRACKER_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=args.database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(free_port()),  # nothing listens there: no e-mail leaves the run
        MAIL_SENDER="scrutiny-tracker@example.org",
        SERVICE_URL="https://tracker.example.org",
        TRUSTED_PROXY_COUNT="1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
    )
    if args.workers:
        env["GUNICORN_WORKERS"] = str(args.workers)
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
    if args.database_url.startswith("sqlite"):
        env["ALLOW_SQLITE_IN_PRODUCTION"] = "1"
    if args.jobs_queue == "sqlite":
        env["TRACKER_JOBS_SQLITE"] = str(folder / "jobs.sqlite")
    else:
        env["TRACKER_JOBS_REDIS_URL"] = args.jobs_queue
    if inline_max is not None:
        env["ACTION_SUMMARY_INLINE_MAX"] = str(inline_max)
    return env


def wait_until_serving(base: str, processes: Processes, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, process in processes.started:
            if process.poll() is not None:
                raise SetUpFailed(f"{name} stopped at start (exit {process.returncode})")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SetUpFailed(f"gunicorn did not answer {base}/healthz within {seconds:.0f} s")


class SetUpFailed(RuntimeError):
    pass


# The documents prepared in the background ------------------------------------------------------------------


class Browser:
    """A signed-in manager's browser, for the documents (urllib: this process is not locust's)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.host = urllib.parse.urlsplit(base).netloc
        jar = http.cookiejar.CookieJar(secure_over_plain_http())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def open(self, path: str, fields: dict | None = None, timeout: float = 60) -> tuple[str, bytes]:
        headers = dict(FORWARDED)
        data = None
        if fields is not None:
            data = urllib.parse.urlencode(fields).encode()
            headers["Referer"] = f"https://{self.host}{path}"
        request = urllib.request.Request(f"{self.base}{path}", data=data, headers=headers)
        with self.opener.open(request, timeout=timeout) as response:
            return urllib.parse.urlsplit(response.url).path, response.read()

    def sign_in(self, email: str, password: str, secret: str) -> None:
        import pyotp

        _, page = self.open("/sign-in")
        where, page = self.open("/sign-in", {"email": email, "password": password, "csrf_token": token_in(page)})
        for offset in (0, 1):
            code = pyotp.TOTP(secret).at(time.time(), counter_offset=offset)
            where, page = self.open("/sign-in/code", {"code": code, "csrf_token": token_in(page)})
            if where == "/":
                return
        raise SetUpFailed(f"could not sign in as {email} (ended on {where})")


def token_in(page: bytes) -> str:
    found = CSRF.search(page.decode())
    if found is None:
        raise SetUpFailed("no CSRF token on the form")
    return found.group(1)


@dataclass
class Documents:
    """What the background readers got: per kind, seconds from asking to having the PDF."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    sizes: dict[str, list[int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def keep_asking(browser: Browser, kind: str, queries: list[str], stop: threading.Event, found: Documents) -> None:
    """Ask for one document after another until told to stop; wait on the preparing page as a reader would."""
    path = {"board report": "/reports/board.pdf", "action summary": "/reports/actions.pdf"}[kind]
    for query in queries * 10:
        if stop.is_set():
            return
        asked = time.perf_counter()
        try:
            where, page = browser.open(f"{path}?{query}")
            if not where.startswith("/reports/documents/"):
                raise RuntimeError(f"{path}?{query} led to {where}, not a document being prepared")
            found.started.set()
            while b"Preparing your document" in page:
                if stop.wait(1):
                    return
                if time.perf_counter() - asked > 300:
                    raise RuntimeError(f"{path}?{query} not ready after 300 s")
                _, page = browser.open(where)
            if b"Your document is ready" not in page:
                raise RuntimeError(f"{path}?{query} could not be prepared")
            _, pdf = browser.open(f"{where}/download", timeout=120)
            if not pdf.startswith(b"%PDF"):
                raise RuntimeError(f"{path}?{query}: the download is not a PDF")
        except (OSError, RuntimeError, urllib.error.HTTPError) as problem:
            with found.lock:
                found.errors.append(f"{kind}: {problem}")
            if stop.wait(2):
                return
            continue
        with found.lock:
            found.seconds.setdefault(kind, []).append(time.perf_counter() - asked)
            found.sizes.setdefault(kind, []).append(len(pdf))
        if stop.wait(1):  # a moment before the next, as a reader would take
            return


# Running and reporting ---------------------------------------------------------------------------------------


def percentile(times: list[float], share: float) -> float:
    """The value below which ``share`` of ``times`` fall (linear between the nearest two)."""
    if not times:
        return math.nan
    ordered = sorted(times)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Row:
    name: str
    times: list[float] = field(default_factory=list)
    failures: int = 0

    def line(self, seconds: float | None = None) -> str:
        rate = f"{len(self.times) / seconds:8.1f}" if seconds else " " * 8
        return (
            f"{self.name:34} {len(self.times):>8} {rate} {self.failures:>6} {percentile(self.times, 0.5):>7.0f} "
            f"{percentile(self.times, 0.95):>7.0f} {percentile(self.times, 0.99):>7.0f}"
        )


def read_failures(prefix: Path) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [f"{r['Occurrences']}x {r['Method']} {r['Name']}: {r['Error']}" for r in csv.DictReader(handle)]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--years", type=float, default=10, help="years of generated data (10)")
    parser.add_argument("--scale", type=float, default=1, help="generate.py --scale (1)")
    parser.add_argument("--seed", type=int, default=2026, help="generate.py --seed (2026)")
    parser.add_argument("--regenerate", action="store_true", help="generate the data again even if it is there")
    parser.add_argument("--users", type=int, default=50, help="simulated people (50)")
    parser.add_argument("--spawn-rate", type=float, default=2, help="people starting (signing in) per second (2)")
    parser.add_argument("--duration", type=int, default=60, help="seconds measured once everyone is signed in (60)")
    parser.add_argument("--wait", default="1,5", help="seconds between one person's pages, MIN,MAX (1,5)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per gunicorn worker (default: gunicorn.conf.py's)")
    parser.add_argument("--job-workers", type=int, default=2, help="huey worker threads (2, as README says)")
    parser.add_argument("--nice", type=int, default=10, help="the huey worker's niceness (10; 0 for none)")
    parser.add_argument(
        "--jobs-queue", default=DEFAULT_REDIS_URL, help=f"a redis:// URL or 'sqlite' (default: {DEFAULT_REDIS_URL})"
    )
    parser.add_argument("--summary-actions", type=int, default=5000, help="actions in each summary (5,000)")
    parser.add_argument("--no-documents", action="store_true", help="no documents in the background")
    parser.add_argument(
        "--leave-out", metavar="REGEX", help="leave out the page groups matching REGEX (to see what one page costs)"
    )
    parser.add_argument("--p99-target", type=float, default=TARGET_P99_MS, help=f"ms ({TARGET_P99_MS})")
    parser.add_argument("--keep-logs", action="store_true", help="keep the logs folder even when the run passes")
    args = parser.parse_args()
    wait = tuple(float(part) for part in args.wait.split(","))
    if len(wait) != 2 or wait[0] > wait[1] or args.users < 1:
        parser.error("--wait takes MIN,MAX seconds; --users at least 1")

    folder = Path(tempfile.mkdtemp(prefix="tracker-load-"))
    processes = Processes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))  # run the finally below
    passed = False
    try:
        passed = run(args, wait, folder, processes)
    except SetUpFailed as problem:
        print(f"\nCould not set up the run: {problem}", file=sys.stderr)
        sys.exit(2)
    finally:
        processes.stop_all()
        if passed and not args.keep_logs:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"Logs: {folder}")
    sys.exit(0 if passed else 1)


def run(args, wait: tuple[float, float], folder: Path, processes: Processes) -> bool:
    import sqlalchemy as sa

    started = time.perf_counter()
    recorded = prepare_database(args)
    counts = mix_for(args.users)
    plan = build_plan(args, counts)
    print(f"Data and accounts ready in {time.perf_counter() - started:.0f} s")
    inline_max = None
    if plan.summaries and (smallest := min(count for _, count in plan.summaries)) <= 300:
        inline_max = smallest - 1  # small data: the summaries still go through the queue, as 5,000-action ones do
        print(f"  (small summaries: ACTION_SUMMARY_INLINE_MAX={inline_max} so they are prepared in the background)")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(args, port, folder, inline_max)
    # The production rules, checked while the servers start (they refuse the same settings).
    check = subprocess.Popen(
        [str(VENV_BIN / "flask"), "--app", "tracker", "check-config"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    gunicorn = [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "tracker:create_app()"]
    processes.start("gunicorn", gunicorn, env, folder / "gunicorn.log")
    worker = [str(VENV_BIN / "huey_consumer"), "tracker.jobs.huey", "--workers", str(args.job_workers)]
    if args.nice:
        worker = ["nice", "-n", str(args.nice), *worker]
    if args.jobs_queue != "sqlite":  # what an earlier run left queued would be done first
        from huey import RedisHuey

        RedisHuey("tracker", url=args.jobs_queue).flush()
    processes.start("huey worker", worker, env, folder / "jobs.log")
    said, _ = check.communicate(timeout=120)
    if check.returncode != 0:
        raise SetUpFailed(f"check-config refused the production settings:\n{said}")
    wait_until_serving(base, processes)

    if args.leave_out:
        pattern = re.compile(args.leave_out)
        for accounts in plan.accounts.values():
            for account in accounts:
                account["urls"] = {group: urls for group, urls in account["urls"].items() if not pattern.search(group)}
        print(f"Left out: the page groups matching {args.leave_out!r} (not the benchmark's mix: its verdict is not)")
    sign_in_limit = args.users / args.spawn_rate + 120
    plan_file, results_file = folder / "plan.json", folder / "results.json"
    plan_file.write_text(
        json.dumps(
            {
                "host": f"127.0.0.1:{port}",
                "password": demo_password(),
                "totp_secret": demo_secret(),
                "wait": wait,
                "counts": counts,
                "accounts": plan.accounts,
                "duration": args.duration,
                "sign_in_limit": sign_in_limit,
                "results": str(results_file),
            }
        )
    )
    stop, documents, askers = threading.Event(), Documents(), []
    if not args.no_documents:
        kinds = [("board report", plan.board_periods), ("action summary", [query for query, _ in plan.summaries])]
        for email, (kind, queries) in zip(plan.document_managers, kinds, strict=True):
            if not queries:
                continue
            browser = Browser(base)
            browser.sign_in(email, demo_password(), demo_secret())
            askers.append(
                threading.Thread(target=keep_asking, args=(browser, kind, queries, stop, documents), daemon=True)
            )
        for asker in askers:
            asker.start()
        if not documents.started.wait(60):
            stop.set()
            raise SetUpFailed(f"no document was being prepared after 60 s: {documents.errors}")

    backend = sa.engine.make_url(args.database_url).get_backend_name()
    counted = recorded.get("counts", {})
    workers = env.get("GUNICORN_WORKERS") or gunicorn_setting("workers")
    threads = env.get("GUNICORN_THREADS") or gunicorn_setting("threads")
    print(
        f"\nLoad: {counted_as(args.users, 'person', 'people')} ({counted_as(counts['chair'], 'chair')}, "
        f"{counted_as(counts['partner'], 'partner officer')}, {counted_as(counts['manager'], 'manager')}) "
        f"signing in {args.spawn_rate:g} a second, then {args.duration} s measured, "
        f"a page every {wait[0]:g}-{wait[1]:g} s each;\n"
        f"gunicorn {workers} workers x {threads} threads (gunicorn.conf.py), huey worker {args.job_workers} threads "
        f"at nice {args.nice}, jobs on {'SQLite' if args.jobs_queue == 'sqlite' else 'Redis'};\n"
        f"{backend}, {args.years:g} years at scale {args.scale:g} ({counted.get('case_reviews', 0):,} case reviews, "
        f"{counted.get('actions', 0):,} actions, {counted.get('audit_events', 0):,} audit events)."
    )
    print(f"Machine load before: {load_average()}", flush=True)
    prefix = folder / "locust"
    locust = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).resolve()), "--headless",
        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{sign_in_limit + args.duration + 30:.0f}s",
        "--stop-timeout", "10", "--host", base, "--csv", str(prefix), "--loglevel", "WARNING", "--only-summary",
    ]  # fmt: skip
    runner = processes.start(
        "locust", locust, {**os.environ, "TRACKER_LOAD_PLAN": str(plan_file)}, folder / "locust.log"
    )
    cpu = CpuSampler(processes, sa.engine.make_url(args.database_url).database if backend == "postgresql" else None)
    cpu.start()
    try:
        runner.wait(timeout=sign_in_limit + args.duration + 120)
    except subprocess.TimeoutExpired:
        print("locust did not finish in time: stopped")
    finally:
        cpu.finish()
        stop.set()
        for asker in askers:
            asker.join(timeout=30)
    print(f"Machine load after:  {load_average()}")
    if not results_file.exists():
        print("\nlocust wrote no figures: the end of its log")
        print((folder / "locust.log").read_text()[-3000:])
        return False
    return report(args, json.loads(results_file.read_text()), read_failures(prefix), documents, cpu)


def counted_as(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def gunicorn_setting(name: str) -> str:
    """A value gunicorn.conf.py sets, read as gunicorn reads it (in this environment)."""
    settings: dict = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)  # noqa: S102
    return str(settings[name])


def report(args, results: dict, failures: list[str], documents: Documents, cpu: CpuSampler) -> bool:
    window = results["window"]
    if window is None:
        print("\nThe measured window never started (locust stopped early): see its log")
        return False
    first, last = window
    seconds = last - first
    groups: dict[str, Row] = {}
    signing_in: dict[str, Row] = {}
    total, everything_failed = Row("all pages, measured window"), 0
    for started, name, milliseconds, failed in results["requests"]:
        everything_failed += failed
        if name.startswith("sign-in"):
            row = signing_in.setdefault(name, Row(name))
        elif first <= started < last:
            row = groups.setdefault(name, Row(name))
            total.times.append(milliseconds)
            total.failures += failed
        else:
            continue  # a page asked for while others were still signing in, or after the window
        row.times.append(milliseconds)
        row.failures += failed
    header = f"{'':34} {'requests':>8} {'per s':>8} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    print(f"\nPages, {seconds:.0f} s once everyone had signed in:\n{header}")
    for name in sorted(groups):
        print(groups[name].line(seconds))
    print(total.line(seconds))
    print("\nSigning in (each person once, during the ramp-up; not in the window above):")
    for name in sorted(signing_in):
        print(signing_in[name].line())
    errors = everything_failed + len(documents.errors)
    for line in [*failures, *documents.errors][:20]:
        print(f"  error: {line}")
    if args.no_documents:
        print("\nDocuments in the background: none (--no-documents)")
    else:
        print("\nDocuments prepared in the background meanwhile (asked for, waited for, downloaded):")
        for kind in ("board report", "action summary"):
            taken, sizes = documents.seconds.get(kind, []), documents.sizes.get(kind, [])
            if taken:
                print(
                    f"  {PLURAL[kind]:16} {len(taken):>3}, median {statistics.median(taken):5.1f} s from asking "
                    f"to the PDF, median {statistics.median(sizes) / 2**20:.1f} MiB"
                )
            else:
                print(f"  {PLURAL[kind]:16}   0 finished")
    if not total.times:
        print("\nFAIL: no page was asked for in the measured window")
        return False
    used = cpu.used(first, last)
    if used:
        cores = os.cpu_count() or 1
        print(f"\nCPU used in the measured window ({cores} cores x {seconds:.0f} s = {cores * seconds:.0f} CPU s):")
        for name in ("gunicorn", "PostgreSQL for gunicorn", "huey worker", "PostgreSQL for huey worker", "locust"):
            if name in used:
                each = used[name] * 1000 / len(total.times)
                print(f"  {name:27} {used[name]:6.1f} s  ({each:5.1f} ms per page request)")
        largest = ", ".join(
            f"{name} {cpu.largest.get(name, 0) / 2**20:.0f} MiB" for name in ("gunicorn", "huey worker")
        )
        print(f"  the most memory one process took: {largest}")
        serving = used.get("gunicorn", 0.0) + used.get("PostgreSQL for gunicorn", 0.0)
        if serving:
            print(
                f"  so a page costs {serving * 1000 / len(total.times):.0f} ms of CPU (gunicorn and PostgreSQL): "
                f"{cores} cores answer at most about {cores * len(total.times) / serving:.0f} requests/s of this mix"
            )
    p99 = percentile(total.times, 0.99)
    print(
        f"\nTotal: {len(total.times) / seconds:.1f} requests/s, p50 {percentile(total.times, 0.5):.0f} ms, "
        f"p95 {percentile(total.times, 0.95):.0f} ms, p99 {p99:.0f} ms, {errors} errors "
        f"(failed requests of the whole run, sign-in included, and failed documents)"
    )
    passed = errors == 0 and p99 <= args.p99_target
    verdict = "PASS" if passed else "FAIL"
    print(f"{verdict}: {errors} errors (target 0), p99 {p99:.0f} ms (target <= {args.p99_target:.0f} ms)")
    return passed


if __name__ == "__main__":
    main()

"""Does a long PDF block the rest of the site? Page latency while a 5,000-action summary renders.

Starts gunicorn with the project's gunicorn.conf.py (threaded workers) on 127.0.0.1, signs in, then
prints median and worst latency of the home page: first on an idle server, then while another
thread downloads the 5,000-action summary. Run with the default configuration and with a single
worker (the worst case: the render and the pages share one process).

Usage:  .venv/bin/python bench/pdf_blocking.py [--workers 2] [--threads 4]
Builds its own SQLite data (as bench/pdf.py does). Sends requests only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pyotp  # noqa: E402
from pdf import PASSWORD, build  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.demo import DEMO_TOTP_SECRET  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def signed_in_opener(base: str):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/sign-in", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": "chair@example.org", "password": PASSWORD, "csrf_token": token})
    page = opener.open(f"{base}/sign-in", data.encode(), timeout=30).read().decode()
    # The second step: the demo key's code (tracker/demo.py). A code works once, so if this one was
    # used by the previous sign-in, the next one (accepted one step early) is entered instead.
    totp = pyotp.TOTP(DEMO_TOTP_SECRET)
    for offset in (0, 1):
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        code = totp.at(time.time(), counter_offset=offset)
        response = opener.open(
            f"{base}/sign-in/code", urllib.parse.urlencode({"code": code, "csrf_token": token}).encode()
        )
        if not response.url.endswith("/sign-in/code"):
            return opener
        page = response.read().decode()
    raise SystemExit("Could not pass the second step of signing in")


def latencies(opener, url: str, count: int, pause: float = 0.2) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        opener.open(url, timeout=120).read()
        times.append(time.perf_counter() - started)
        time.sleep(pause)
    return times


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.1f} ms, worst {max(times) * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    database = f"sqlite:///{folder / 'bench.sqlite'}"
    print(f"Building data in {folder} ...", flush=True)
    build(create_app("testing", {"SQLALCHEMY_DATABASE_URI": database}))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TRACKER_ENV": "testing",
        "TEST_DATABASE_URL": database,
        "WTF_CSRF_ENABLED": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "tracker:create_app(overrides={'ACTION_SUMMARY_MAX_ROWS': 10000, 'WTF_CSRF_ENABLED': True})",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        opener = signed_in_opener(base)
        idle = latencies(opener, f"{base}/", 20)

        render = {}

        def download():
            started = time.perf_counter()
            body = signed_in_opener(base).open(f"{base}/reports/actions.pdf", timeout=600).read()
            render["seconds"], render["bytes"] = time.perf_counter() - started, len(body)

        worker = threading.Thread(target=download)
        worker.start()
        time.sleep(1)  # let the render get going
        busy = []
        while worker.is_alive():
            busy += latencies(opener, f"{base}/", 1)
        worker.join()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"\ngunicorn gthread, {args.workers} worker(s) x {args.threads} threads, SQLite, 2-core machine:")
    print(f"  home page, idle server:             {describe(idle)} ({len(idle)} requests)")
    print(f"  home page, while the PDF renders:   {describe(busy)} ({len(busy)} requests)")
    print(f"  5,000-action summary download:      {render['seconds']:.1f} s, {render['bytes'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()

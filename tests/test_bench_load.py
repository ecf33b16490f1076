"""Smoke test of the load test (bench/load.py): at a tiny size it starts gunicorn with the production
configuration, a job worker and locust, prints its figures and stops everything it started.

Timings are never checked here (the p99 target is set out of reach); only that the script works, that
every simulated request succeeded and that documents were prepared in the background meanwhile.
locust is imported only by the script's own subprocess, never by the test process.
"""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_load_test_runs_at_a_tiny_size_and_stops_what_it_started(tmp_path):
    url = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    command = [
        sys.executable, "bench/load.py", "--database-url", url, "--years", "0.1", "--scale", "0.1",
        "--users", "3", "--spawn-rate", "3", "--duration", "3", "--wait", "0.2,1", "--jobs-queue", "sqlite",
        "--p99-target", "600000",
    ]  # fmt: skip
    ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=170, check=False)
    output = ran.stdout
    assert ran.returncode == 0, output[-3000:] + ran.stderr[-3000:]

    assert "Load: 3 people (1 chair, 1 partner officer, 1 manager)" in output
    assert "huey worker 2 threads at nice 10, jobs on SQLite" in output
    assert "Machine load before:" in output and "Machine load after:" in output
    assert re.search(r"all pages, measured window\s+\d+\s+[\d.]+\s+0\s", output)
    for step in ("sign-in: password form", "sign-in: password", "sign-in: code form", "sign-in: code"):
        assert re.search(rf"^{step}\s+[3-6]\s+0\s", output, re.MULTILINE), step
    assert re.search(r"action summaries\s+[1-9]\d*, median", output)  # prepared by the worker meanwhile
    assert re.search(r"^  gunicorn\s+[\d.]+ s\s+\(\s*[\d.]+ ms per page request\)$", output, re.MULTILINE)
    assert re.search(r"cores answer at most about \d+ requests/s of this mix", output)
    totals = re.search(r"^Total: [\d.]+ requests/s, p50 \d+ ms, p95 \d+ ms, p99 \d+ ms, 0 errors", output, re.MULTILINE)
    assert totals, output[-3000:]
    assert "PASS: 0 errors" in output

    # Nothing it started is left running: each process group it reports is gone, children included.
    groups = [int(group) for group in re.findall(r"^Started [a-z ]+: process group (\d+)$", output, re.MULTILINE)]
    assert len(groups) == 3, output[:3000]  # gunicorn, the huey worker, locust
    assert "Stopped locust, huey worker, gunicorn" in output
    left = subprocess.run(["pgrep", "-g", ",".join(map(str, groups))], capture_output=True, text=True, check=False)
    for pid in left.stdout.split():  # should the assertion below fail, leave nothing behind for other tests
        os.kill(int(pid), signal.SIGKILL)
    assert not left.stdout.split(), f"still running: {left.stdout}"

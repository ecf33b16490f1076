"""Smoke test of the page benchmarks in bench/: they run on a tiny data set and print their tables.

Timings are never checked here (they belong to the benchmarks' own output); only that the scripts work.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATABASE_URL, ON_POSTGRES

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)


def test_generate_then_measure_two_pages_on_a_tiny_data_set(tmp_path):
    url = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    size = ["--years", "0.05", "--scale", "0.05"]

    generated = run("bench/generate.py", *size, "--database-url", url)
    assert generated.returncode == 0, generated.stderr[-3000:]
    assert "audit_events" in generated.stdout
    assert "case_reviews" in generated.stdout

    measured = run(
        "bench/pages.py", *size, "--database-url", url, "--runs", "1", "--pages", r"^(main\.home|actions\.actions)$",
        "--also-years", "0.03",
    )  # fmt: skip
    assert measured.returncode == 0, measured.stdout[-3000:] + measured.stderr[-3000:]
    output = measured.stdout
    assert "Reusing 0.05 years of data" in output  # what generate.py made, not made again
    assert "page                         role            median ms   p95 ms  ratio queries  url" in output
    assert "== demo vs 0.05 years (large)" in output
    assert "== 0.03 years vs 0.05 years: growth" in output  # --also-years: generated beside the database given
    assert (tmp_path / "tiny-0_03y.sqlite").exists()
    for endpoint in ("main.home", "actions.actions"):
        assert endpoint in output
    assert "meetings.meeting " not in output  # --pages kept to the two pages
    assert "PASS" in output or "FAIL" in output

    board = run("bench/board.py", *size, "--database-url", url, "--runs", "1")
    assert board.returncode == 0, board.stdout[-3000:] + board.stderr[-3000:]
    assert "Board report for" in board.stdout
    assert "chair" in board.stdout and "partner" in board.stdout


def test_the_audit_viewer_benchmark_runs_on_a_tiny_data_set(tmp_path):
    url = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    generated = run("bench/generate.py", "--years", "0.05", "--scale", "0.05", "--database-url", url)
    assert generated.returncode == 0, generated.stderr[-3000:]
    measured = run("bench/audit_viewer.py", "--database-url", url, "--runs", "1")
    assert measured.returncode == 0, measured.stdout[-3000:] + measured.stderr[-3000:]
    assert "median ms   p95 ms  SQL  URL" in measured.stdout
    assert "/admin/audit?agency=" in measured.stdout and "/admin/audit?case=" in measured.stdout


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL connection")
def test_the_round_trip_probe_answers_two_times_on_postgresql(app, monkeypatch):
    """bench/pages.py prints it beside PostgreSQL's ratios: only that it runs and answers, never a time.
    (``app``: this process's database made.)"""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import bare

    back_to_back, after_idle = bare.round_trips(DATABASE_URL, samples=5)
    assert back_to_back > 0 and after_idle > 0

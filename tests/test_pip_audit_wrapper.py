""".ci/pip-audit-pinned: a known vulnerability fails; an audit that could not look says so and skips."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import project_root


def run_with_fake_pip_audit(tmp_path, stdout: str, stderr: str = "", exit_code: int = 0):
    """Run the wrapper with a fake pip-audit beside the interpreter (where the wrapper looks for it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.symlink_to(Path(sys.executable).resolve())
    fake = bin_dir / "pip-audit"
    (tmp_path / "out.txt").write_text(stdout)
    (tmp_path / "err.txt").write_text(stderr)
    fake.write_text(f"#!/bin/sh\ncat '{tmp_path / 'out.txt'}'\ncat '{tmp_path / 'err.txt'}' >&2\nexit {exit_code}\n")
    fake.chmod(0o755)
    return subprocess.run(
        [str(python), str(project_root() / ".ci" / "pip-audit-pinned")],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "")},
        timeout=60,
    )


def report(*dependencies):
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_a_known_vulnerability_fails(tmp_path):
    result = run_with_fake_pip_audit(
        tmp_path,
        report(
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {"name": "jinja2", "version": "3.0.0", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.1.6"]}]},
        ),
        exit_code=1,
    )
    assert result.returncode == 1
    assert "jinja2 3.0.0: GHSA-xxxx (fixed in 3.1.6)" in result.stdout


def test_a_clean_audit_passes(tmp_path):
    result = run_with_fake_pip_audit(
        tmp_path,
        report(
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {"name": "private-thing", "version": "1.0", "skip_reason": "Dependency not found on PyPI"},
        ),
    )
    assert result.returncode == 0
    assert "no known vulnerabilities in 1 pinned packages (1 not found on the index)" in result.stdout


@pytest.mark.parametrize(
    "stdout, stderr, words",
    [
        ("", "ConnectionError: could not reach the index", "unreachable (ConnectionError: could not reach the index)"),
        (report({"name": "flask", "version": "3.1.3", "skip_reason": "not found"}), "", "knows none of the 1"),
    ],
)
def test_an_audit_that_could_not_look_is_skipped_and_says_so(tmp_path, stdout, stderr, words):
    result = run_with_fake_pip_audit(tmp_path, stdout, stderr, exit_code=1 if stderr else 0)
    assert result.returncode == 0
    assert result.stdout.startswith("pip-audit skipped:") and words in result.stdout

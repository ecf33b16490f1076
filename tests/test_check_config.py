"""flask --app tracker check-config, and a production start refusing the same unsafe settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import UnsafeConfiguration, unsafe_settings
from tests.conftest import project_root
from tests.production_settings import SAFE_PRODUCTION
from tracker import create_app

FLASK = str(Path(sys.executable).with_name("flask"))


def check_config(tmp_path, **environment):
    """Run the real command in a clean environment (only what a deployment would set)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "TRACKER_ENV": "production", **environment}
    return subprocess.run(
        [FLASK, "--app", "tracker", "check-config"],
        cwd=project_root(),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unsafe_production_settings_are_listed_with_a_non_zero_exit(tmp_path):
    result = check_config(
        tmp_path, SECRET_KEY="short", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite'}", FLASK_DEBUG="1"
    )
    assert result.returncode == 1
    listed = [line for line in result.stderr.splitlines() if line.startswith("- ")]
    assert [line.split(" ", 2)[1] for line in listed] == [
        "SECRET_KEY",
        "Debug",
        "Production",  # needs PostgreSQL
        "MAIL_SERVER",
        "MAIL_SENDER",
        "SERVICE_URL",
    ]
    assert "Traceback" not in result.stderr


def test_safe_production_settings_pass(tmp_path):
    result = check_config(
        tmp_path,
        SECRET_KEY=SAFE_PRODUCTION["SECRET_KEY"],
        DATABASE_URL=SAFE_PRODUCTION["SQLALCHEMY_DATABASE_URI"],
        MAIL_SERVER="smtp.example.org",
        MAIL_SENDER="tracker@example.org",
        SERVICE_URL="https://tracker.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "No unsafe settings found" in result.stdout


@pytest.mark.parametrize(
    "override, words",
    [
        ({"SECRET_KEY": "k" * 48}, "SECRET_KEY is a known or guessable value"),
        ({"SECRET_KEY": "development-only-secret-key-not-for-real-data"}, "SECRET_KEY is a known or guessable value"),
        ({"DEBUG": True}, "Debug mode is on"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"}, "PostgreSQL"),
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE is off"),
        ({"SESSION_COOKIE_HTTPONLY": False}, "SESSION_COOKIE_HTTPONLY is off"),
        ({"SESSION_COOKIE_SAMESITE": None}, "SESSION_COOKIE_SAMESITE must be Lax or Strict"),
        ({"SESSION_COOKIE_NAME": "session"}, "SESSION_COOKIE_NAME must start with __Host-"),
        ({"WTF_CSRF_ENABLED": False}, "WTF_CSRF_ENABLED is off"),
        ({"MAIL_SERVER": None}, "MAIL_SERVER is not set"),
        ({"SERVICE_URL": "http://tracker.example.org"}, "SERVICE_URL must be the service's https:// address"),
    ],
)
def test_a_production_start_refuses_each_unsafe_setting(override, words):
    with pytest.raises(UnsafeConfiguration, match=words):
        create_app("production", {**SAFE_PRODUCTION, **override})


def test_development_settings_are_not_production_settings():
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    problems = " ".join(unsafe_settings(app.config))
    assert "SECRET_KEY is a known or guessable value" in problems and "SESSION_COOKIE_SECURE is off" in problems

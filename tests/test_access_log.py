"""Calendar-feed secrets never reach an access log (tracker/access_log.py)."""

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.conftest import project_root
from tracker.access_log import REDACTING_FILTER, GunicornLogger, redact

SECRET = "Zr8v2-kq_0aLm3Yt9WcQe1uJxHnPbF7sDgKoVi4RtE"


@pytest.mark.parametrize(
    "line",
    [
        f"GET /calendar/{SECRET}.ics HTTP/1.1",
        f"/calendar/{SECRET}.ics?x=1",
        f"https://tracker.example.org/calendar/{SECRET}.ics",
        f"/calendar/{SECRET}",
    ],
)
def test_the_secret_is_redacted_wherever_it_appears(line):
    assert SECRET not in redact(line) and "/calendar/[secret]" in redact(line)


def test_other_addresses_are_left_alone():
    assert redact("GET /meetings/12?page=2 HTTP/1.1") == "GET /meetings/12?page=2 HTTP/1.1"


def test_gunicorn_access_log_lines_carry_no_secret():
    from gunicorn.config import Config

    logger = GunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/calendar/{SECRET}.ics",
        "PATH_INFO": f"/calendar/{SECRET}.ics",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1",
        "HTTP_REFERER": f"https://tracker.example.org/calendar/{SECRET}.ics",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=0))
    line = logger.cfg.access_log_format % logger.atoms_wrapper_class(atoms)
    assert SECRET not in line and "GET /calendar/[secret].ics HTTP/1.1" in line
    assert not any(SECRET in value for value in atoms.values() if isinstance(value, str))


def test_gunicorn_is_configured_with_the_redacting_logger():
    settings: dict = {}
    exec((project_root() / "gunicorn.conf.py").read_text(), settings)  # noqa: S102 - the project's own config
    assert settings["logger_class"] == "tracker.access_log.GunicornLogger"


def test_a_gunicorn_worker_puts_the_loaded_app_out_of_the_garbage_collectors_reach():
    """gunicorn.conf.py's post_worker_init freezes what is alive once the app is loaded (in a process of
    its own: freezing is for the life of the process)."""
    import subprocess
    import sys

    script = (
        "import gc\n"
        "from tracker import create_app\n"
        "create_app('testing')\n"
        "settings = {}\n"
        f"exec(open({str(project_root() / 'gunicorn.conf.py')!r}).read(), settings)\n"
        "assert gc.get_freeze_count() == 0\n"
        "settings['post_worker_init'](None)\n"
        "print(gc.get_freeze_count())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=project_root(), check=True
    )
    assert int(done.stdout.split()[-1]) > 10_000


def test_the_development_servers_request_log_carries_no_secret(app, client, caplog):
    """werkzeug logs '"%s" %s %s' with the request line as an argument."""
    assert REDACTING_FILTER in logging.getLogger("werkzeug").filters
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '"%s" %s %s', (f"GET /calendar/{SECRET}.ics HTTP/1.1", "404", "-"), None
    )
    assert REDACTING_FILTER.filter(record)
    assert SECRET not in record.getMessage() and "/calendar/[secret].ics" in record.getMessage()

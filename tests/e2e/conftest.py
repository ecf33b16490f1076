"""Browser tests: Playwright driving Debian's Chromium against a live server on 127.0.0.1.

They skip with a reason when Chromium or axe-core is missing; with E2E_REQUIRED=1 (set by
.ci/run) they are never skipped, so a missing browser fails CI instead of passing quietly.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import database_from, make_test_app, take_snapshot

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_PATH = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = Path(__file__).parent / "artefacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if not AXE_PATH.exists():
        return f"axe-core not found at {AXE_PATH} (npm ci --prefix tests/e2e)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            # In CI (E2E_REQUIRED=1) nothing is skipped: a missing browser makes the tests fail.
            if reason and os.environ.get("E2E_REQUIRED") != "1":
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test's app (with its own fresh database) served on a free port of 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


@pytest.fixture
def check_accessibility(axe_source):
    """Run axe-core on the current page; fail on any WCAG 2.2 A/AA violation. Saves a screenshot."""

    def check(page, name: str) -> None:
        ARTEFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
        page.evaluate(axe_source)
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            AXE_TAGS,
        )
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
        ]
        assert result["passes"] or result["incomplete"] or result["inapplicable"], "axe did not run"
        assert problems == [], f"{name}: accessibility violations:\n" + "\n".join(problems)

    return check


# The TOTP step each (server, demo account) last used: a code works once, so a second sign-in within
# the same 30 seconds enters the next code (the service accepts one a step early).
_USED_STEPS: dict[tuple[str, str], int] = {}


def demo_code(base: str, email: str) -> str:
    """The code an authenticator app holding the demo key shows now, not yet used on this server."""
    import pyotp

    from tracker.demo import DEMO_TOTP_SECRET

    totp = pyotp.TOTP(DEMO_TOTP_SECRET)
    now = time.time()
    step = max(totp.timecode(datetime.fromtimestamp(now, UTC)), _USED_STEPS.get((base, email), -1) + 1)
    while step > totp.timecode(datetime.fromtimestamp(time.time(), UTC)) + 1:
        time.sleep(1)  # a third sign-in within 30 seconds: wait for the next code
    _USED_STEPS[(base, email)] = step
    return totp.generate_otp(step)


def sign_in(page, base: str, email: str) -> None:
    """Sign in through the real form as a demo account, entering the demo key's code at the second step."""
    from tracker.demo import DEMO_PASSWORD

    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Wait for the next page, the code step or the home page: the URL read at once may still be the form's.
    page.wait_for_url(lambda url: url != f"{base}/sign-in")
    if page.url == f"{base}/sign-in/code":
        page.get_by_label("Code").fill(demo_code(base, email))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: url != f"{base}/sign-in/code")


@pytest.fixture(scope="session")
def demo_snapshot(database_template, tmp_path_factory):
    """The demo service, loaded once per worker into a database of its own, to copy for each test."""
    from tracker.demo import seed_demo
    from tracker.extensions import db

    directory = tmp_path_factory.mktemp("demo")
    app = make_test_app(database_from(database_template, directory))
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return take_snapshot(app.config["SQLALCHEMY_DATABASE_URI"], directory)


@pytest.fixture
def database_uri(demo_snapshot, tmp_path):
    """Every browser test gets its own copy of the demo service's database."""
    return database_from(demo_snapshot, tmp_path)


@pytest.fixture
def demo(app):
    """The demo service: agencies, accounts and twelve weeks of meetings and actions (already in
    this test's database, from demo_snapshot; seed_demo() then changes nothing)."""
    from tracker.demo import seed_demo
    from tracker.extensions import db

    with app.app_context():
        seed_demo()
        db.session.commit()

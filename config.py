"""Configuration for the scrutiny tracker.

Everything comes from the environment. ``TRACKER_ENV`` picks the class:
``development`` (local use, ``make run``), ``testing`` (pytest) or ``production``
(the default, so a forgotten variable fails safe rather than open).
"""

from __future__ import annotations

import os
from datetime import timedelta

# Secret keys shorter than this are refused in production.
MIN_SECRET_KEY_LENGTH = 32
# The development server's key when SECRET_KEY is not set: in this repository, so never for real data.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-not-for-real-data"


class UnsafeConfiguration(RuntimeError):
    """Raised when production settings would put the data at risk."""


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    ENV_NAME = "base"
    SERVICE_NAME = "Domestic abuse scrutiny tracker"
    DEBUG = False
    TESTING = False

    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    # None means "a SQLite file in the instance folder", resolved in create_app().
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    ALLOW_SQLITE_IN_PRODUCTION = _env_bool("ALLOW_SQLITE_IN_PRODUCTION")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "scrutiny-tracker@example.org")
    # Where the service is reached, for links in e-mails (no trailing slash needed).
    SERVICE_URL = os.environ.get("SERVICE_URL", "http://127.0.0.1:5000")
    # The domain part of every calendar event's UID. Calendars recognise an event by its UID, so it
    # must not change with the address a feed was fetched from (never the request's Host header).
    CALENDAR_UID_DOMAIN = os.environ.get("CALENDAR_UID_DOMAIN", "scrutiny-tracker.invalid")
    REMINDER_DUE_WITHIN_DAYS = _env_int("REMINDER_DUE_WITHIN_DAYS", 3)
    ESCALATION_GRACE_DAYS = _env_int("ESCALATION_GRACE_DAYS", 7)

    # Requests larger than this are refused with a 413 page.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1024 * 1024)

    # Sessions: a server-side record per sign-in, see tracker/auth/sessions.py.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 30))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=_env_int("SESSION_ABSOLUTE_HOURS", 12))
    PERMANENT_SESSION_LIFETIME = SESSION_ABSOLUTE_TIMEOUT
    # The cookie is sent when the session starts or changes (a message to show, the CSRF secret), not
    # re-signed on every response: the server-side session row decides when a session ends (idle and
    # absolute limits, tracker/auth/sessions.py), so re-sending it on every page bought nothing.
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_PATH = "/"
    REMEMBER_COOKIE_DURATION = timedelta(0)

    # Failed sign-in throttling (stored in the database so it holds across workers). The limit per
    # account does the work; the per-address ceiling is far higher, because a whole office can share
    # one address (30 people each mistyping a few times must not lock each other out).
    LOGIN_THROTTLE_WINDOW = timedelta(minutes=_env_int("LOGIN_THROTTLE_WINDOW_MINUTES", 15))
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_IP = _env_int("LOGIN_MAX_FAILURES_PER_IP", 300)

    # One account refused (403, 404 on a record, failed CSRF check) this many times within the window:
    # the administrators are e-mailed, once per window per account.
    REFUSAL_ALERT_THRESHOLD = _env_int("REFUSAL_ALERT_THRESHOLD", 10)
    REFUSAL_ALERT_WINDOW_MINUTES = _env_int("REFUSAL_ALERT_WINDOW_MINUTES", 10)

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the server-side session

    # Set to the number of reverse proxies in front of the app so client IPs are right.
    TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)

    USERS_PER_PAGE = 25
    MEETINGS_PER_PAGE = 20
    CASES_PER_PAGE = 25
    ACTIONS_PER_PAGE = 25
    MATTERS_ARISING_PER_PAGE = 25
    # A longer action summary is refused with a request to narrow the filters.
    ACTION_SUMMARY_MAX_ROWS = _env_int("ACTION_SUMMARY_MAX_ROWS", 5000)
    # Summaries of more actions than this are prepared in the background (tracker/jobs.py).
    ACTION_SUMMARY_INLINE_MAX = _env_int("ACTION_SUMMARY_INLINE_MAX", 300)
    # A summary of more actions than this is laid out and written in parts of at most this many, then
    # joined: it takes about a part's memory, not the whole document's (tracker/documents/render.py).
    ACTION_SUMMARY_PART_ACTIONS = _env_int("ACTION_SUMMARY_PART_ACTIONS", 500)
    AUDIT_EVENTS_PER_PAGE = 50
    # A larger audit export is refused with a request to narrow the filters.
    AUDIT_EXPORT_MAX_ROWS = _env_int("AUDIT_EXPORT_MAX_ROWS", 100_000)

    @classmethod
    def check(cls, settings) -> None:
        """Refuse to start with ``settings`` (the app's final config) if unsafe for this class."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = _env_bool("FLASK_DEBUG", False)
    SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
    # Plain HTTP on 127.0.0.1: browsers refuse __Host- and Secure cookies there.
    SESSION_COOKIE_NAME = "tracker_session"
    SESSION_COOKIE_SECURE = False


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-that-is-long-enough-for-tests"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or None
    SESSION_COOKIE_NAME = "tracker_session"
    SESSION_COOKIE_SECURE = False
    # Most tests post forms directly; tests/test_security.py switches CSRF back on.
    WTF_CSRF_ENABLED = False
    # Cheap argon2id so the suite can sign in hundreds of times; never used outside tests.
    ARGON2_PARAMETERS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    # Loading the demo data (tracker/demo.py) approves ten meetings without rendering and storing
    # their minutes PDFs; real approvals always store them. Tests about PDFs make their own.
    DEMO_STORES_APPROVED_MINUTES = False


class ProductionConfig(Config):
    ENV_NAME = "production"
    # No defaults for where mail goes and what links in it point at: production must say.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "")
    SERVICE_URL = os.environ.get("SERVICE_URL", "")

    @classmethod
    def check(cls, settings) -> None:
        if problems := unsafe_settings(settings):
            raise UnsafeConfiguration(
                "The service will not start in production with these settings:\n- " + "\n- ".join(problems)
            )


# Secrets that are in this repository (or are placeholders), so are known to everyone.
KNOWN_SECRET_KEYS = frozenset({DEVELOPMENT_SECRET_KEY, TestingConfig.SECRET_KEY, "changeme", "change-me", "secret"})
MIN_SECRET_KEY_CHARACTERS = 8  # different characters in it: "aaaa...a" is long and guessable


def unsafe_settings(settings) -> list[str]:
    """What in ``settings`` (an app's final config) puts the data at risk in production, in words
    that say how to fix it. ProductionConfig refuses to start with any; ``flask check-config`` lists them."""
    problems = []
    secret = settings.get("SECRET_KEY") or ""
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} characters "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    elif secret in KNOWN_SECRET_KEYS or len(set(secret)) < MIN_SECRET_KEY_CHARACTERS:
        problems.append("SECRET_KEY is a known or guessable value: set a new random one.")
    if settings.get("DEBUG") or _env_bool("FLASK_DEBUG"):
        problems.append("Debug mode is on (FLASK_DEBUG): error pages would show code and data. Turn it off.")
    if settings.get("TESTING"):
        problems.append("TESTING is on: it is for the test suite only.")
    uri = settings.get("SQLALCHEMY_DATABASE_URI") or ""
    if uri.startswith("sqlite") and not settings.get("ALLOW_SQLITE_IN_PRODUCTION"):
        problems.append(
            "Production needs DATABASE_URL pointing at PostgreSQL "
            "(set ALLOW_SQLITE_IN_PRODUCTION=1 to run on SQLite deliberately)."
        )
    if not settings.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off: the session cookie would be sent over plain HTTP.")
    if not settings.get("SESSION_COOKIE_HTTPONLY"):
        problems.append("SESSION_COOKIE_HTTPONLY is off: scripts in the page could read the session cookie.")
    if settings.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        problems.append("SESSION_COOKIE_SAMESITE must be Lax or Strict.")
    if not str(settings.get("SESSION_COOKIE_NAME") or "").startswith("__Host-"):
        problems.append("SESSION_COOKIE_NAME must start with __Host- (bound to this host, HTTPS only).")
    if not settings.get("WTF_CSRF_ENABLED"):
        problems.append("WTF_CSRF_ENABLED is off: forms would not be protected against cross-site requests.")
    if not settings.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER is not set: agenda, reminder and alert e-mails cannot be sent.")
    if not settings.get("MAIL_SENDER"):
        problems.append("MAIL_SENDER is not set: e-mails need the address they come from.")
    if not str(settings.get("SERVICE_URL") or "").startswith("https://"):
        problems.append("SERVICE_URL must be the service's https:// address: links in e-mails point there.")
    return problems


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = (name or os.environ.get("TRACKER_ENV") or "production").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise UnsafeConfiguration(f"TRACKER_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None

"""Domestic abuse scrutiny tracker: the application factory."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from flask import Flask, g, has_request_context, session
from flask_login import current_user
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import config_for
from tracker import audit, jobs
from tracker.extensions import csrf, db, login_manager, migrate
from tracker.notify import outbox
from tracker.params import MAX_ID

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    config_class = config_for(config_name)
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"), instance_relative_config=True)
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'tracker.sqlite'}"
    if not _checking_config_only():
        config_class.check(app.config)  # production refuses to start with unsafe settings

    # <int:...> in a URL takes only what an integer column holds: a longer number is "not found",
    # not an overflow deep in the database driver.
    app.url_map.converters["int"] = BoundedIntConverter
    _configure_templates(app)
    _init_extensions(app)
    _register_blueprints(app)
    _connect_signals()
    _register_request_hooks(app)
    # Double-submit protection for create forms (tracker/once.py). Registered after the commit hook
    # on purpose: after_request hooks run last-registered first, so a redirect's address is stored
    # on the form's token inside the request's transaction, before that transaction is committed.
    from tracker import once

    once.register(app)

    from tracker import cli, errors, security

    errors.register(app)
    security.register(app)
    cli.register(app)

    if trusted := app.config.get("TRUSTED_PROXY_COUNT"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)  # type: ignore[method-assign]

    from tracker.permissions import undeclared_endpoints

    if missing := undeclared_endpoints(app):
        raise RuntimeError(f"Every view must declare its permission; these do not: {', '.join(missing)}")
    if not app.debug:
        logging.basicConfig(level=logging.INFO)
    from tracker import access_log

    access_log.install()  # calendar-feed secrets never reach the request log
    # WeasyPrint reports every layout step at INFO; only its warnings are worth a log line.
    for noisy in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return app


def _configure_templates(app: Flask) -> None:
    from tracker.templating import (
        ImportCachingTemplate,
        app_pagination,
        filter_input,
        filter_select,
        govuk_details,
        govuk_inset_text,
        govuk_service_navigation,
        govuk_summary_list,
        govuk_table,
        govuk_warning_text,
        select_options,
        task_list,
    )

    app.jinja_env.template_class = ImportCachingTemplate  # before any template is loaded
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")
    from tracker import timeutil

    app.jinja_env.filters["date"] = timeutil.format_date
    app.jinja_env.filters["datetime"] = timeutil.format_datetime
    from tracker.permissions import template_globals

    # Templates ask the policy by name (can_see_feedback(current_user), ...); they never compare roles.
    app.jinja_env.globals.update(template_globals())
    app.jinja_env.globals["task_status"] = task_status
    from tracker.tags import TEMPLATE_GLOBALS as status_tags

    app.jinja_env.globals.update(status_tags)
    from tracker.rows import TEMPLATE_GLOBALS as table_rows

    app.jinja_env.globals.update(table_rows)
    app.jinja_env.globals["select_options"] = select_options
    from tracker.forms import error_href, error_summary

    app.jinja_env.globals["error_summary"] = error_summary
    app.jinja_env.globals["error_href"] = error_href
    app.jinja_env.globals["filter_select"] = filter_select
    app.jinja_env.globals["filter_input"] = filter_input
    app.jinja_env.globals["app_pagination"] = app_pagination
    # The macros' drop-ins (tracker/templating.py).
    app.jinja_env.globals["govukTable"] = govuk_table
    app.jinja_env.globals["govukServiceNavigation"] = govuk_service_navigation
    app.jinja_env.globals["govukSummaryList"] = govuk_summary_list
    app.jinja_env.globals["govukInsetText"] = govuk_inset_text
    app.jinja_env.globals["govukWarningText"] = govuk_warning_text
    app.jinja_env.globals["govukDetails"] = govuk_details
    app.jinja_env.globals["task_list"] = task_list


def _checking_config_only() -> bool:
    """`flask --app tracker check-config` lists unsafe settings; it must not be refused by them."""
    return Path(sys.argv[0]).name == "flask" and "check-config" in sys.argv[1:]


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def task_status(text: str, colour: str = "") -> dict:
    """The ``status`` of a GOV.UK task list item: a coloured tag for work to do, plain text when done."""
    if colour:
        return {"tag": {"text": text, "classes": f"govuk-tag--{colour}"}}
    return {"text": text, "classes": "govuk-task-list__status--cannot-start-yet" if text == "Cannot start yet" else ""}


def _init_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Pooled connections are checked without a round trip (_configure_postgresql), not by a SELECT 1.
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "pool_pre_ping": False}
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _configure_sqlite(app)
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        _configure_postgresql(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    WTFormsHelpers(app)

    from tracker.reports import cache as report_cache

    report_cache.listen()

    from tracker.auth.sessions import load_user_for_request

    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = None  # server-side session rows do this job
    login_manager.user_loader(load_user_for_request)
    login_manager.unauthorized_handler(_send_to_sign_in)


def _send_to_sign_in():
    from flask import flash, redirect, request, url_for

    if g.get("session_expired"):
        flash("Your session ended because of inactivity or its time limit. Sign in again to continue.", "info")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.sign_in", next=target))


def _configure_postgresql(app: Flask) -> None:
    """Each connection keeps one generic plan per prepared statement, until something (an ANALYZE, a
    change of schema) invalidates it, rather than planning it afresh at every execution.

    psycopg prepares a statement on the server once a connection has run it five times, which every
    page's statements soon are. PostgreSQL then still plans it for the values given at each execution
    (a "custom plan") unless its generic plan looks about as cheap; for the statements that carry a
    partner's scope it rarely did, and planning took longer than running them: 0.5-1 ms of planning
    against 0.1-0.4 ms of execution, seven times on a case review page (EXPLAIN ANALYZE at ten years
    of data). The open statuses, which decide the partial indexes of open actions, are written into
    the SQL as literals (IS_OPEN), so a generic plan can use those indexes. Other values stay bound
    (other statuses, LIMIT and OFFSET), and a generic plan estimates them from averages, not from the
    values: bench/pages.py (every page, as each role, at ten years of data) and bench/load.py measure
    the result, and no page was slower.

    Set when each connection is made, in a transaction of its own, so that options given in the
    database URL or PGOPTIONS are left as they are. (Behind a pooler in transaction mode, session
    settings do not hold, and nor do psycopg's prepared statements.)"""
    import select

    from sqlalchemy import event
    from sqlalchemy.exc import DisconnectionError

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _generic_plans(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
        dbapi_connection.commit()

    @event.listens_for(engine, "checkout")
    def _closed_by_the_server(dbapi_connection, _record, _proxy):
        """A pooled connection that the server has ended since it was last used (a restart, an
        administrator's pg_terminate_backend, an idle timeout) has something to read on its socket:
        the server's last message, or the end of the stream. An idle connection otherwise has
        nothing to read, over TLS too (tried with TLS 1.3: two hundred requests on one connection, and a
        terminated one replaced). So the socket is looked at, without waiting, instead of sending a SELECT 1
        (pool_pre_ping: a round trip on every request, 0.25 ms of a page's time). Anything there
        and the connection is given up; the pool opens a new one, as SQLAlchemy's documented
        checkout recipe does. (A network that drops a connection silently is noticed no sooner
        than a SELECT 1 would notice it: at the query, when TCP gives up.)"""
        if dbapi_connection.closed or select.select([dbapi_connection.fileno()], [], [], 0)[0]:
            raise DisconnectionError("the server ended this pooled connection")


def _configure_sqlite(app: Flask) -> None:
    """Foreign keys on, a 5 s wait on a locked database rather than an immediate error, and the
    write-ahead log: a commit then writes and syncs one log append instead of a rollback journal and
    the pages (about 2 ms less on every request, as each one commits its audit event), and readers no
    longer wait for a writer. ``synchronous`` stays FULL, so a committed request survives a power cut."""
    from sqlalchemy import event

    from tracker.sqlfunctions import register_sqlite_functions

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file; an in-memory database stays "memory"
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
        register_sqlite_functions(dbapi_connection)


def _register_blueprints(app: Flask) -> None:
    from tracker.actions import bp as actions_bp
    from tracker.admin import bp as admin_bp
    from tracker.auth import bp as auth_bp
    from tracker.cases import bp as cases_bp
    from tracker.main import bp as main_bp
    from tracker.meetings import bp as meetings_bp
    from tracker.reports import bp as reports_bp
    from tracker.reviews import bp as reviews_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(meetings_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(actions_bp)
    app.register_blueprint(reports_bp)


def _connect_signals() -> None:
    """Subscribers are connected here, explicitly, rather than by importing a module for its side effect.

    blinker keeps one connection per receiver, so creating several apps (as the tests do) is harmless.
    """
    from tracker import signals
    from tracker.documents import minutes

    signals.minutes_approved.connect(minutes.on_minutes_approved)


def _register_request_hooks(app: Flask) -> None:
    @app.after_request
    def commit_or_roll_back(response):
        """The one place a request's transaction ends.

        Views and operations only add and flush. A successful response commits everything;
        an error response rolls everything back, keeping only the audit events of refusals.
        """
        if response.status_code < 400:
            try:
                db.session.commit()
            except Exception:
                # Nothing was saved: roll back, and drop any "saved" message this request queued, so
                # the error page is not followed by a success banner. The error handler takes over.
                db.session.rollback()
                session.pop("_flashes", None)
                outbox.discard()
                jobs.discard()
                raise
            outbox.send_queued()
            jobs.queue_prepared()
        else:
            outbox.discard()
            jobs.discard()
            db.session.rollback()
            audit.keep_refusal_events()
            db.session.commit()
        return response

    @app.context_processor
    def navigation():
        from tracker.navigation import items_for
        from tracker.permissions import Capability, can

        # Documents are also rendered outside requests (on approval from the command line).
        user = current_user._get_current_object() if has_request_context() and current_user.is_authenticated else None
        # Worked out once a request: every form field renders a template of its own (govuk-frontend-wtf),
        # and each render runs this processor; the items cost a url_for each.
        if user is None:
            items = []
        elif (items := g.get("navigation_items")) is None:
            items = g.navigation_items = items_for(user)
        return {
            "navigation_items": items,
            "service_name": app.config["SERVICE_NAME"],
            # Templates show controls only to those allowed to use them; the views check again.
            "can": lambda capability: can(user, Capability(capability)),
        }

    @app.teardown_request
    def forget_kept_events(_exc):
        g.pop("audit_events_to_keep", None)
        if lost := audit.unwritten():  # recorded after the request's commit: never written
            app.logger.error("%d audit event(s) recorded after the request's commit were not written", lost)
            audit.forget_unwritten()  # not to be written later with another request's work

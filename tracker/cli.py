"""flask --app tracker <command>: administration commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.extensions import db


def register(app) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(check_config_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(grant_app_role_command)
    app.cli.add_command(demo_code_command)


@click.command("grant-app-role")
@click.argument("role")
@with_appcontext
def grant_app_role_command(role):
    """PostgreSQL: give ROLE (what the service connects as) only what it needs. Run as the owner of the
    tables, after every `flask db upgrade`."""
    from tracker import db_roles

    try:
        statements = db_roles.grant_app_role(role)
    except db_roles.RoleError as error:
        raise click.ClickException(str(error)) from None
    for statement in statements:
        click.echo(statement)
    click.echo(f"{role} may read and write rows, and only add rows to {', '.join(db_roles.APPEND_ONLY_TABLES)}.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@with_appcontext
def backup_command(path, force):
    """Back up the whole database to PATH (SQLite: the online backup API; PostgreSQL: pg_dump's custom
    format). The backup holds OFFICIAL-SENSITIVE data: keep it encrypted and access-controlled."""
    from tracker import audit, backup

    try:
        digest = backup.backup(path, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    audit.record("database_backed_up", detail=f"{path.name} sha256 {digest}")
    db.session.commit()
    click.echo(f"Backed up to {path} (SHA-256 {digest}).")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(path, force):
    """Replace the database with the backup at PATH (made by `flask backup`). Stop the service first."""
    from tracker import audit, backup

    digest = backup.sha256_of(path) if path.is_file() else ""
    try:
        backup.restore(path, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    audit.record("database_restored", detail=f"{path.name} sha256 {digest}")
    db.session.commit()
    click.echo(f"Restored from {path} (SHA-256 {digest}).")


@click.command("purge")
@click.option("--older-than", "older_than", required=True, help="Retention period: years or months, like 6y or 72m.")
@click.option("--dry-run", is_flag=True, help="List what would be erased, and erase nothing.")
@with_appcontext
def purge_command(older_than, dry_run):
    """Erase closed cases whose last review is older than the retention period, except those under a
    legal hold. Each erasure is audited (reference and counts only). Running it again erases nothing more."""
    from tracker import audit, retention
    from tracker.timeutil import utcnow

    try:
        months = retention.parse_period(older_than)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--older-than") from None
    cutoff = retention.months_before(utcnow(), months)
    plan = retention.plan(cutoff)
    verb = "Would erase" if dry_run else "Erased"
    # Found before the cases go: meetings every case of which is erased lose their stored minutes too.
    emptied = retention.meetings_left_without_cases(cutoff, [case.id for case in plan.due])
    for case in plan.due:
        erasure = retention.erase(case, dry_run=dry_run)
        click.echo(f"{verb} {erasure.reference}: {erasure.describe()}")
    for meeting in emptied:
        revisions = retention.erase_stored_minutes(meeting, dry_run=dry_run)
        day = meeting.starts_at.date().isoformat()
        click.echo(f"{verb} the stored minutes of the meeting of {day}: {revisions} revision(s)")
    for reference in plan.held:
        click.echo(f"Kept {reference}: under a legal hold")
    if not dry_run:
        audit.record(
            "retention_purge_run",
            detail=f"older than {older_than} (before {cutoff.date().isoformat()}): "
            f"{len(plan.due)} cases erased, {len(plan.held)} kept by legal holds",
        )
        db.session.commit()
    click.echo(
        f"{len(plan.due)} case(s) {'would be ' if dry_run else ''}erased, {len(plan.held)} kept by a legal hold "
        f"(last reviewed before {cutoff.date().isoformat()})."
    )


@click.command("check-config")
def check_config_command():
    """List the settings that are unsafe for production (weak SECRET_KEY, debug, SQLite, insecure
    cookies, missing mail settings ...); exits 1 if there are any. A production start refuses the same."""
    from config import unsafe_settings

    problems = unsafe_settings(current_app.config)
    environment = current_app.config["ENV_NAME"]
    if not problems:
        click.echo(f"No unsafe settings found ({environment} settings checked against the production rules).")
        return
    click.echo(f"{len(problems)} unsafe setting(s) for production ({environment} settings checked):", err=True)
    for problem in problems:
        click.echo(f"- {problem}", err=True)
    raise SystemExit(1)


@click.command("create-admin")
@click.option("--email", prompt="Email address", help="The administrator's email address.")
@click.option("--name", "display_name", prompt="Full name", help="The administrator's full name.")
@click.option(
    "--agency-code",
    default="POL",
    show_default=True,
    help="Short code of the administrator's agency; created if it does not exist.",
)
@click.option("--agency-name", default="Police", show_default=True, help="Name for the agency if it has to be created.")
@click.option(
    "--password",
    envvar="TRACKER_ADMIN_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for if not given; for scripts, set TRACKER_ADMIN_PASSWORD instead of this flag.",
)
@with_appcontext
def create_admin(email, display_name, agency_code, agency_name, password):
    """Create an administrator account (or fail if the email address is taken)."""
    from tracker import audit
    from tracker.admin import operations, queries
    from tracker.auth.passwords import password_problem
    from tracker.models import Agency, Role

    email = email.strip().lower()
    if queries.email_taken(email):
        raise click.ClickException(f"A user with the email address {email} already exists.")
    if problem := password_problem(password, email=email, name=display_name):
        raise click.ClickException(problem + ".")
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code.upper()))
    if agency is None:
        agency = operations.create_agency(name=agency_name, code=agency_code)
    user = operations.create_user(
        email=email,
        display_name=display_name,
        role=Role.ADMIN.value,
        agency=agency,
        is_spoc=False,
        password=password,
    )
    audit.record("admin_created_from_command_line", user, detail="via flask create-admin")
    db.session.commit()
    click.echo(f"Administrator {email} created. They set up two-step verification when they first sign in.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load demo agencies and accounts (development only; does nothing if already loaded)."""
    from tracker.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("seed-demo refuses to run in production (TRACKER_ENV=production).")
    created = seed_demo()
    db.session.commit()
    if created:
        click.echo(f"Demo data loaded. Every demo account's password is {DEMO_PASSWORD}")
        click.echo(
            f"Their two-step verification key is {DEMO_TOTP_SECRET}: add it to an authenticator app, "
            "or print the current code with: flask --app tracker demo-code EMAIL"
        )
    else:
        click.echo("Demo data is already loaded; nothing changed.")


@click.command("demo-code")
@click.argument("email")
@with_appcontext
def demo_code_command(email):
    """Print the current two-step verification code of a demo account (development only).

    Every demo account that seed-demo creates uses the same published demo key; this prints the code
    an authenticator app holding it would show now. It prints nothing for any other account.
    """
    from tracker.demo import demo_code

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("demo-code refuses to run in production (TRACKER_ENV=production).")
    result = demo_code(email)
    if result is None:
        raise click.ClickException(
            f"No code for {email}: it is not a demo account (see the README), or its next code has "
            "already been used. Wait half a minute and try again."
        )
    click.echo(result.code)
    click.echo(f"(valid for about {result.seconds_valid} more seconds, once)", err=True)


@click.command("send-reminders")
@click.option(
    "--days",
    "due_within_days",
    type=click.IntRange(0, 60),
    default=None,
    help="Remind about actions due within this many days (default REMINDER_DUE_WITHIN_DAYS, 3).",
)
@click.option(
    "--grace",
    "grace_days",
    type=click.IntRange(0, 365),
    default=None,
    help="Escalate actions overdue by more than this many days (default ESCALATION_GRACE_DAYS, 7).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send and record nothing.")
@with_appcontext
def send_reminders_command(due_within_days, grace_days, dry_run):
    """E-mail the daily digests of due and overdue actions, and escalations. Safe to run twice a day.

    Run it once a day from cron, for example:  0 7 * * 1-5  flask --app tracker send-reminders
    """
    from tracker.notify.reminders import send_reminders
    from tracker.timeutil import london_today

    config = current_app.config
    result = send_reminders(
        today=london_today(),
        due_within_days=config["REMINDER_DUE_WITHIN_DAYS"] if due_within_days is None else due_within_days,
        grace_days=config["ESCALATION_GRACE_DAYS"] if grace_days is None else grace_days,
        service_url=config["SERVICE_URL"].rstrip("/"),
        dry_run=dry_run,
        echo=click.echo,
    )
    verb = "would be sent" if dry_run else "sent"
    click.echo(f"{len(result.sent)} e-mails {verb}; {len(result.skipped)} already sent today.")
